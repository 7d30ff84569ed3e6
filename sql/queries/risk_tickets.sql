-- Support history of accounts renewing in (as_of, as_of + window]: one row per ticket in the lookback,
-- with its tags and competitive mentions. Accounts with no ticket still appear (ticket columns NULL).
WITH renewing AS (
    SELECT account_id, name, arr_usd, renewal_date, csm_email, csm_slack_id, segment
    FROM store.accounts
    WHERE renewal_date > CAST($as_of AS DATE)
      AND renewal_date <= CAST($as_of AS DATE) + to_days(CAST($window_days AS INTEGER))
),
hist AS (
    SELECT t.source, t.ticket_id, t.account_id, t.activity_at, t.priority, t.csat,
           t.first_response_minutes, t.status, g.sentiment, g.sentiment_score, g.churn_language,
           g.errors, g.root_cause, tt.theme_id, th.label AS theme_label
    FROM store.tickets t
    JOIN renewing r USING (account_id)
    LEFT JOIN store.ticket_tags g
      ON g.source = t.source AND g.ticket_id = t.ticket_id AND g.model_version = $model_version
    LEFT JOIN store.ticket_themes tt ON tt.source = t.source AND tt.ticket_id = t.ticket_id
    LEFT JOIN store.themes th ON th.theme_id = tt.theme_id
    WHERE t.activity_at >= CAST($as_of AS TIMESTAMP) - to_days(CAST($lookback_days AS INTEGER))
      AND t.activity_at < CAST($as_of AS TIMESTAMP)
),
threats AS (
    SELECT source, ticket_id, list(DISTINCT competitor ORDER BY competitor) AS competitors
    FROM store.competitor_mentions
    WHERE model_version = $model_version AND competitive AND context IN ('switching', 'evaluating')
    GROUP BY source, ticket_id
)
SELECT r.account_id, r.name, r.arr_usd, r.renewal_date, r.csm_email, r.csm_slack_id, r.segment,
       h.source, h.ticket_id, h.activity_at, h.priority, h.csat, h.first_response_minutes,
       h.sentiment, h.sentiment_score, h.churn_language, h.errors, h.root_cause, h.theme_id, h.theme_label,
       th.competitors AS threat_competitors
FROM renewing r
LEFT JOIN hist h USING (account_id)
LEFT JOIN threats th ON th.source = h.source AND th.ticket_id = h.ticket_id
ORDER BY r.account_id, h.activity_at, h.ticket_id;
