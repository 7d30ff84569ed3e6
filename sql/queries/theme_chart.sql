-- Weekly tickets of each theme over the window, with its label and this week's trend (for the chart).
SELECT w.theme_id, th.label, w.week, w.tickets, cur.trend
FROM store.theme_weekly w
JOIN store.themes th USING (theme_id)
LEFT JOIN store.theme_weekly cur ON cur.theme_id = w.theme_id AND cur.week = CAST($week AS DATE)
WHERE w.week >= CAST($window_start AS DATE) AND w.week <= CAST($week AS DATE) AND w.tickets > 0
ORDER BY w.theme_id, w.week;
