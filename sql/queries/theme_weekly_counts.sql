-- Weekly tickets, accounts, ARR and negative share per theme from $since to $end (the window),
-- with the theme's label.
WITH acct_week AS (
    SELECT DISTINCT tt.theme_id, CAST(date_trunc('week', t.activity_at) AS DATE) AS week, t.account_id
    FROM store.ticket_themes tt JOIN store.tickets t USING (source, ticket_id)
    WHERE tt.theme_id IS NOT NULL AND t.activity_at >= $since AND t.activity_at < $end
      AND t.account_id IS NOT NULL
),
arr AS (
    SELECT w.theme_id, w.week, count(*) AS accounts, coalesce(sum(a.arr_usd), 0) AS arr_usd
    FROM acct_week w LEFT JOIN store.accounts a USING (account_id)
    GROUP BY w.theme_id, w.week
)
SELECT tt.theme_id, CAST(date_trunc('week', t.activity_at) AS DATE) AS week, count(*) AS tickets,
       avg(CASE WHEN g.sentiment = 'negative' THEN 1.0 ELSE 0.0 END) AS negative_share,
       any_value(coalesce(arr.accounts, 0)) AS accounts, any_value(coalesce(arr.arr_usd, 0)) AS arr_usd,
       any_value(coalesce(th.label, tt.theme_id)) AS label
FROM store.ticket_themes tt
JOIN store.tickets t USING (source, ticket_id)
LEFT JOIN store.ticket_tags g
  ON g.source = t.source AND g.ticket_id = t.ticket_id AND g.model_version = $model_version
LEFT JOIN arr ON arr.theme_id = tt.theme_id AND arr.week = CAST(date_trunc('week', t.activity_at) AS DATE)
LEFT JOIN store.themes th ON th.theme_id = tt.theme_id
WHERE tt.theme_id IS NOT NULL AND t.activity_at >= $since AND t.activity_at < $end
GROUP BY tt.theme_id, CAST(date_trunc('week', t.activity_at) AS DATE)
ORDER BY tt.theme_id, week;
