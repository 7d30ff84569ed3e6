-- Theme lifecycle: every full clustering ("fit") is recorded with the themes it produced and what
-- became of the themes before it (born, split, continued, merged, retired); between fits new
-- tickets are placed on the last fit's centroids. Trends are kept per theme, category,
-- competitor and feature-request group in one table.

-- One row per fit: the week it ran for, why, and what the stage needs to decide the next refit.
CREATE TABLE store.theme_fits (
    run_week          DATE PRIMARY KEY,        -- a refit of the same week replaces the row
    reason            VARCHAR NOT NULL,        -- first|forced|config|age|changed|novel|news|migrated
    config_key        VARCHAR,                 -- hash of what shapes the clusters (NULL: unknown, refit)
    tickets           INTEGER NOT NULL,        -- tickets in the window it clustered
    themes            INTEGER NOT NULL,
    outlier_share     DOUBLE NOT NULL,         -- share of the window left unclustered
    -- share of its own window that placement on its centroids would call doubtful (no theme, or
    -- less like the theme than most of its members): what the assign path expects of new
    -- tickets before it calls an excess of doubtful ones something the themes do not cover
    doubtful_share    DOUBLE NOT NULL,
    fitted_at         TIMESTAMP NOT NULL
);

-- The themes each fit produced, as the fit left them: the next fit matches against these.
CREATE TABLE store.theme_snapshots (
    run_week        DATE NOT NULL,
    theme_id        VARCHAR NOT NULL,
    label           VARCHAR NOT NULL,
    keywords        VARCHAR[],
    top_category    VARCHAR,
    centroid        FLOAT[] NOT NULL,
    size            INTEGER NOT NULL,
    example_tickets VARCHAR[],
    first_week      DATE NOT NULL,
    model_version   VARCHAR NOT NULL,
    radius          DOUBLE NOT NULL,           -- held-out cosine to the centroid that 90% of its members reach
    PRIMARY KEY (run_week, theme_id)
);

-- What each fit did to each theme; one row per theme per fit. related_ids: split -> [parent];
-- merged -> [survivor]; continued -> the themes it absorbed and those split off it; retired ->
-- the themes it dissolved into, if it split with no part close enough to keep its id.
CREATE TABLE store.theme_events (
    run_week     DATE NOT NULL,
    theme_id     VARCHAR NOT NULL,
    event        VARCHAR NOT NULL,             -- born|split|continued|merged|retired
    related_ids  VARCHAR[] NOT NULL,
    similarity   DOUBLE,                       -- cosine to the matched/related theme (NULL: none to compare)
    recorded_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (run_week, theme_id)
);

ALTER TABLE store.themes ADD COLUMN status VARCHAR DEFAULT 'active';   -- active|merged|retired
ALTER TABLE store.themes ADD COLUMN born_week DATE;
ALTER TABLE store.themes ADD COLUMN retired_week DATE;
ALTER TABLE store.themes ADD COLUMN merged_into VARCHAR;
ALTER TABLE store.themes ADD COLUMN parent_theme_id VARCHAR;

-- Which fit's themes a ticket's row refers to, how it got there, and the text it was placed by:
-- the assign path re-places a ticket only when one of these is stale.
ALTER TABLE store.ticket_themes ADD COLUMN fit_week DATE;
ALTER TABLE store.ticket_themes ADD COLUMN method VARCHAR;              -- cluster|centroid
ALTER TABLE store.ticket_themes ADD COLUMN content_hash VARCHAR;

CREATE TABLE store.trend_weekly (
    dimension       VARCHAR NOT NULL,          -- theme|category|competitor|request_group
    key             VARCHAR NOT NULL,          -- theme_id, category, competitor name, request group id
    label           VARCHAR,                   -- what a person reads (theme label, group label, else the key)
    week            DATE NOT NULL,             -- Monday of the ISO week
    tickets         INTEGER NOT NULL,
    accounts        INTEGER NOT NULL,
    arr_usd         DOUBLE NOT NULL,
    baseline        DOUBLE NOT NULL,           -- mean weekly tickets over the trailing weeks
    z_score         DOUBLE NOT NULL,           -- (tickets - baseline) / sqrt(max(baseline, 1))
    ratio           DOUBLE,                    -- tickets / baseline (NULL when the baseline is 0)
    recent_tickets  INTEGER NOT NULL,          -- tickets in this week and the two before
    earlier_tickets INTEGER NOT NULL,          -- tickets in all weeks before those
    min_volume      INTEGER NOT NULL,          -- the fewest tickets that make news this run
    mark            VARCHAR NOT NULL,          -- new|spiking|fading|steady
    PRIMARY KEY (dimension, key, week)
);

-- Warehouses clustered before this migration: their themes become the snapshots of the runs
-- that last saw them, with no config key, so the next run refits once and matches against them.
INSERT INTO store.theme_fits
SELECT last_run_week, 'migrated', NULL, 0, count(*), 0.0, 0.0, max(updated_at)
FROM store.themes GROUP BY last_run_week;

INSERT INTO store.theme_snapshots
SELECT last_run_week, theme_id, label, keywords, top_category, centroid, size, example_tickets, first_week,
       model_version, 0.0
FROM store.themes;

UPDATE store.themes SET born_week = first_week,
    status = CASE WHEN last_run_week = (SELECT max(last_run_week) FROM store.themes) THEN 'active' ELSE 'retired' END;

-- The documented views (contract): existing columns kept in order, new ones added at the end.
CREATE OR REPLACE VIEW themes AS
SELECT theme_id, label, keywords, top_category, size, example_tickets, first_week, last_run_week,
       model_version, updated_at, status, born_week, retired_week, merged_into, parent_theme_id
FROM store.themes;

CREATE OR REPLACE VIEW ticket_themes AS
SELECT source, ticket_id, theme_id, probability, run_week, model_version, fit_week, method
FROM store.ticket_themes;

CREATE OR REPLACE VIEW theme_events AS
SELECT run_week, theme_id, event, related_ids, similarity, recorded_at FROM store.theme_events;

CREATE OR REPLACE VIEW theme_fits AS
SELECT run_week, reason, tickets, themes, outlier_share, fitted_at FROM store.theme_fits;

CREATE OR REPLACE VIEW trend_weekly AS
SELECT dimension, key, label, week, tickets, accounts, arr_usd, baseline, z_score, ratio, recent_tickets,
       earlier_tickets, min_volume, mark
FROM store.trend_weekly;
