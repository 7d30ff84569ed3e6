-- Themes with tickets in the week, with last week's count and the trend verdict.
SELECT w.theme_id, th.label, th.keywords, th.top_category, th.first_week, w.tickets, w.accounts, w.arr_usd,
       w.negative_share, w.baseline, w.trend, w.z_score, coalesce(p.tickets, 0) AS last_week_tickets
FROM store.theme_weekly w
JOIN store.themes th USING (theme_id)
LEFT JOIN store.theme_weekly p ON p.theme_id = w.theme_id AND p.week = CAST($week AS DATE) - INTERVAL 7 DAY
WHERE w.week = CAST($week AS DATE) AND w.tickets > 0
ORDER BY CASE w.trend WHEN 'new' THEN 0 WHEN 'spiking' THEN 1 ELSE 2 END, w.tickets DESC, w.theme_id;
