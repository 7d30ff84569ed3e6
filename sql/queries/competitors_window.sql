-- Mentions per competitor: this week, last week, the window's weekly mean; competitive apart from integration.
SELECT m.competitor,
       count(*) FILTER (WHERE m.competitive AND t.activity_at >= $start)                                    AS competitive_this_week,
       count(*) FILTER (WHERE m.competitive AND t.activity_at >= $start - INTERVAL 7 DAY AND t.activity_at < $start) AS competitive_last_week,
       count(*) FILTER (WHERE m.competitive) * 1.0 / $window_weeks                                          AS competitive_weekly_mean,
       count(*) FILTER (WHERE NOT m.competitive AND t.activity_at >= $start)                                AS integration_this_week,
       count(DISTINCT t.account_id) FILTER (WHERE m.competitive AND t.activity_at >= $start)                AS accounts_this_week
FROM store.competitor_mentions m
JOIN store.tickets t USING (source, ticket_id)
WHERE m.model_version = $model_version AND t.activity_at >= $window_start AND t.activity_at < $end
GROUP BY m.competitor
ORDER BY competitive_this_week DESC, competitive_weekly_mean DESC, m.competitor;
