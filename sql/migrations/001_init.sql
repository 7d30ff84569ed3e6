-- Internal tables live in schema `store`; the data team reads the views in `main`
-- (documented in the README, kept backward compatible). Views may change shape only by adding
-- columns; tables may be reorganised freely behind them.
CREATE SCHEMA IF NOT EXISTS store;

CREATE TABLE store.tickets (
    source                 VARCHAR NOT NULL,   -- 'file:<name>', 'zendesk', ...
    ticket_id              VARCHAR NOT NULL,
    account_id             VARCHAR,
    requester_email        VARCHAR,
    subject                VARCHAR,
    body                   VARCHAR,            -- as received (may hold PII; never leaves the warehouse)
    comments               JSON,               -- list of {author_role, body, public, created_at}
    customer_text          VARCHAR,            -- cleaned customer words: what NLP reads
    display_text           VARCHAR,            -- customer_text with PII redacted: what digests quote
    status                 VARCHAR,
    priority               VARCHAR,
    channel                VARCHAR,
    created_at             TIMESTAMP,          -- UTC
    solved_at              TIMESTAMP,          -- UTC (solved_at or closed_at)
    updated_at             TIMESTAMP,          -- UTC
    activity_at            TIMESTAMP NOT NULL, -- when it counts: solved_at, else created_at, else updated_at, else ingest time
    first_response_minutes DOUBLE,
    csat                   INTEGER,            -- 1..5
    tags                   VARCHAR[],
    extra                  JSON,               -- unknown input columns, kept as they came
    content_hash           VARCHAR NOT NULL,   -- hash of the text NLP reads: the tag/embedding cache key
    ingested_at            TIMESTAMP NOT NULL,
    PRIMARY KEY (source, ticket_id)
);

CREATE TABLE store.accounts (
    account_id   VARCHAR PRIMARY KEY,
    name         VARCHAR NOT NULL,
    arr_usd      DOUBLE,
    plan         VARCHAR,
    segment      VARCHAR,
    renewal_date DATE,
    csm_email    VARCHAR,
    csm_slack_id VARCHAR,
    domain       VARCHAR,
    extra        JSON,
    ingested_at  TIMESTAMP NOT NULL
);

-- Rows that could not be loaded, with why. Keyed on the row's content so a rerun of the same
-- file does not pile up copies.
CREATE TABLE store.quarantine (
    kind           VARCHAR NOT NULL,           -- 'ticket' | 'account'
    origin         VARCHAR NOT NULL,           -- file path or API name
    row_number     BIGINT,
    reason         VARCHAR NOT NULL,
    raw            VARCHAR,                    -- the row as text (truncated)
    row_hash       VARCHAR NOT NULL,
    quarantined_at TIMESTAMP NOT NULL,
    run_id         VARCHAR,
    PRIMARY KEY (kind, row_hash)
);

-- Embeddings cached by content hash and model, so re-ingesting or re-tagging never re-encodes.
CREATE TABLE store.embeddings (
    content_hash VARCHAR NOT NULL,
    model        VARCHAR NOT NULL,
    vector       FLOAT[] NOT NULL,
    PRIMARY KEY (content_hash, model)
);

CREATE TABLE store.ticket_tags (
    source              VARCHAR NOT NULL,
    ticket_id           VARCHAR NOT NULL,
    model_version       VARCHAR NOT NULL,
    content_hash        VARCHAR NOT NULL,
    category            VARCHAR,
    category_confidence DOUBLE,
    root_cause          VARCHAR,
    root_cause_confidence DOUBLE,
    sentiment           VARCHAR,
    sentiment_score     DOUBLE,
    churn_language      BOOLEAN,
    is_feature_request  BOOLEAN,
    request_text        VARCHAR,
    request_group       VARCHAR,
    errors              VARCHAR[],
    tagged_at           TIMESTAMP NOT NULL,
    PRIMARY KEY (source, ticket_id, model_version)
);

CREATE TABLE store.competitor_mentions (
    source        VARCHAR NOT NULL,
    ticket_id     VARCHAR NOT NULL,
    model_version VARCHAR NOT NULL,
    mention_no    INTEGER NOT NULL,
    competitor    VARCHAR NOT NULL,
    context       VARCHAR NOT NULL,            -- switching|evaluating|comparison|pricing|past_user|integration|other
    competitive   BOOLEAN NOT NULL,
    sentence      VARCHAR,                     -- redacted
    PRIMARY KEY (source, ticket_id, model_version, mention_no)
);

-- Feature-request groups: a centroid per group so differently worded asks join the same group
-- across runs.
CREATE TABLE store.request_groups (
    group_id      VARCHAR NOT NULL,
    model_version VARCHAR NOT NULL,
    label         VARCHAR NOT NULL,
    centroid      FLOAT[] NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (group_id, model_version)
);

CREATE TABLE store.themes (
    theme_id        VARCHAR PRIMARY KEY,
    label           VARCHAR NOT NULL,
    keywords        VARCHAR[],
    top_category    VARCHAR,
    centroid        FLOAT[] NOT NULL,
    size            INTEGER NOT NULL,          -- tickets in the latest clustering window
    example_tickets VARCHAR[],                 -- ticket ids (source:id) closest to the centroid
    first_week      DATE NOT NULL,             -- first ISO week (Monday) with tickets in it
    last_run_week   DATE NOT NULL,             -- the week of the clustering run that last saw it
    model_version   VARCHAR NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);

CREATE TABLE store.ticket_themes (
    source        VARCHAR NOT NULL,
    ticket_id     VARCHAR NOT NULL,
    theme_id      VARCHAR,                     -- NULL: left unclustered
    probability   DOUBLE,
    run_week      DATE NOT NULL,
    model_version VARCHAR NOT NULL,
    PRIMARY KEY (source, ticket_id)
);

CREATE TABLE store.theme_weekly (
    theme_id      VARCHAR NOT NULL,
    week          DATE NOT NULL,               -- Monday of the ISO week
    tickets       INTEGER NOT NULL,
    accounts      INTEGER NOT NULL,
    arr_usd       DOUBLE NOT NULL,
    negative_share DOUBLE,
    baseline      DOUBLE,                      -- mean weekly tickets over the trailing weeks
    trend         VARCHAR NOT NULL,            -- new|spiking|fading|steady
    z_score       DOUBLE,
    PRIMARY KEY (theme_id, week)
);

CREATE TABLE store.account_risk (
    account_id    VARCHAR NOT NULL,
    week          DATE NOT NULL,
    model_version VARCHAR NOT NULL,
    score         DOUBLE NOT NULL,             -- 0..100
    band          VARCHAR NOT NULL,            -- high|medium|low
    renewal_date  DATE,
    days_to_renewal INTEGER,
    reasons       JSON NOT NULL,               -- [{signal, text, contribution, tickets:[...]}], ranked
    computed_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, week, model_version)
);

-- One row per message posted (or written to the outbox). The key makes reruns post nothing twice.
CREATE TABLE store.deliveries (
    delivery_key  VARCHAR PRIMARY KEY,         -- hash of week + audience + channel + content hash
    week          DATE NOT NULL,
    audience      VARCHAR NOT NULL,
    channel       VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,
    transport     VARCHAR NOT NULL,            -- slack|outbox
    location      VARCHAR,                     -- Slack ts or outbox file path
    status        VARCHAR NOT NULL,            -- sent|failed
    error         VARCHAR,
    delivered_at  TIMESTAMP NOT NULL,
    run_id        VARCHAR
);

CREATE TABLE store.runs (
    run_id      VARCHAR PRIMARY KEY,
    flow        VARCHAR NOT NULL,
    week        DATE,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    status      VARCHAR NOT NULL,              -- running|completed|failed
    counts      JSON,
    versions    JSON,
    error       VARCHAR
);
