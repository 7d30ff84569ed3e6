-- Weekly tickets, accounts and ARR per category, competitor (tickets with a competitive mention)
-- and feature-request group, from $since to $end: the series `trend_weekly` marks besides themes.
WITH facts AS (
    SELECT 'category' AS dimension, g.category AS key, g.category AS label,
           t.source, t.ticket_id, t.account_id, CAST(date_trunc('week', t.activity_at) AS DATE) AS week
    FROM store.ticket_tags g JOIN store.tickets t USING (source, ticket_id)
    WHERE g.model_version = $model_version AND g.category IS NOT NULL
      AND t.activity_at >= $since AND t.activity_at < $end
    UNION ALL
    SELECT 'competitor', m.competitor, m.competitor,
           t.source, t.ticket_id, t.account_id, CAST(date_trunc('week', t.activity_at) AS DATE)
    FROM store.competitor_mentions m JOIN store.tickets t USING (source, ticket_id)
    WHERE m.model_version = $model_version AND m.competitive
      AND t.activity_at >= $since AND t.activity_at < $end
    UNION ALL
    SELECT 'request_group', g.request_group, coalesce(rg.label, g.request_group),
           t.source, t.ticket_id, t.account_id, CAST(date_trunc('week', t.activity_at) AS DATE)
    FROM store.ticket_tags g JOIN store.tickets t USING (source, ticket_id)
    LEFT JOIN store.request_groups rg ON rg.group_id = g.request_group AND rg.model_version = g.model_version
    WHERE g.model_version = $model_version AND g.is_feature_request AND g.request_group IS NOT NULL
      AND t.activity_at >= $since AND t.activity_at < $end
),
arr AS (
    SELECT f.dimension, f.key, f.week, count(*) AS accounts, coalesce(sum(a.arr_usd), 0) AS arr_usd
    FROM (SELECT DISTINCT dimension, key, week, account_id FROM facts WHERE account_id IS NOT NULL) f
    LEFT JOIN store.accounts a USING (account_id)
    GROUP BY ALL
)
SELECT f.dimension, f.key, any_value(f.label) AS label, f.week,
       count(DISTINCT (f.source, f.ticket_id)) AS tickets,
       coalesce(any_value(arr.accounts), 0) AS accounts, coalesce(any_value(arr.arr_usd), 0) AS arr_usd
FROM facts f LEFT JOIN arr USING (dimension, key, week)
GROUP BY f.dimension, f.key, f.week
ORDER BY f.dimension, f.key, f.week;
