-- The documented views (contract). Add columns at the end; never remove or rename one.
CREATE OR REPLACE VIEW tickets AS
SELECT source, ticket_id, account_id, status, priority, channel, created_at, solved_at, updated_at,
       first_response_minutes, csat, tags, subject, display_text, content_hash, ingested_at, extra,
       CAST(date_trunc('week', activity_at) AS DATE) AS week
FROM store.tickets;

CREATE OR REPLACE VIEW accounts AS
SELECT account_id, name, arr_usd, plan, segment, renewal_date, csm_email, csm_slack_id, domain, extra
FROM store.accounts;

CREATE OR REPLACE VIEW quarantine AS
SELECT kind, origin, row_number, reason, raw, quarantined_at, run_id FROM store.quarantine;

CREATE OR REPLACE VIEW ticket_tags AS
SELECT source, ticket_id, model_version, category, category_confidence, root_cause,
       root_cause_confidence, sentiment, sentiment_score, churn_language, is_feature_request,
       request_text, request_group, errors, tagged_at
FROM store.ticket_tags;

CREATE OR REPLACE VIEW competitor_mentions AS
SELECT source, ticket_id, model_version, competitor, context, competitive, sentence
FROM store.competitor_mentions;

CREATE OR REPLACE VIEW feature_requests AS
SELECT t.source, t.ticket_id, t.model_version, t.request_text, t.request_group,
       g.label AS group_label, k.account_id, k.solved_at
FROM store.ticket_tags t
JOIN store.tickets k USING (source, ticket_id)
LEFT JOIN store.request_groups g ON g.group_id = t.request_group AND g.model_version = t.model_version
WHERE t.is_feature_request;

CREATE OR REPLACE VIEW themes AS
SELECT theme_id, label, keywords, top_category, size, example_tickets, first_week, last_run_week,
       model_version, updated_at
FROM store.themes;

CREATE OR REPLACE VIEW ticket_themes AS
SELECT source, ticket_id, theme_id, probability, run_week, model_version FROM store.ticket_themes;

CREATE OR REPLACE VIEW theme_weekly AS
SELECT theme_id, week, tickets, accounts, arr_usd, negative_share, baseline, trend, z_score
FROM store.theme_weekly;

CREATE OR REPLACE VIEW account_risk AS
SELECT account_id, week, model_version, score, band, renewal_date, days_to_renewal, reasons, computed_at
FROM store.account_risk;

CREATE OR REPLACE VIEW deliveries AS
SELECT week, audience, channel, content_hash, transport, location, status, error, delivered_at, run_id
FROM store.deliveries;

CREATE OR REPLACE VIEW runs AS
SELECT run_id, flow, week, started_at, finished_at, status, counts, versions, error FROM store.runs;
