-- Where each incremental source (zendesk, freshdesk, intercom, ...) resumes: its cursor or
-- watermark after the last page whose tickets were committed. A page's tickets and this row are
-- written in one transaction, so a killed run resumes exactly after what it stored.
CREATE TABLE store.source_state (
    source     VARCHAR PRIMARY KEY,   -- the ticket key's `source` part
    state      JSON NOT NULL,         -- source-specific resume point (cursor, updated_since, ...)
    pages      BIGINT NOT NULL,       -- pages committed under this state's lineage (for operators)
    updated_at TIMESTAMP NOT NULL,
    run_id     VARCHAR                -- the run that committed it
);

-- Operators ask "when did Zendesk last sync, and from where will it resume?".
CREATE OR REPLACE VIEW source_state AS
SELECT source, state, pages, updated_at, run_id FROM store.source_state;
