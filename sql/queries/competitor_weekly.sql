-- Competitive mentions per competitor and week over the window.
SELECT m.competitor, CAST(date_trunc('week', k.activity_at) AS DATE) AS week, count(*) AS mentions
FROM store.competitor_mentions m
JOIN store.tickets k USING (source, ticket_id)
WHERE m.model_version = $model_version AND m.competitive
  AND k.activity_at >= $window_start AND k.activity_at < $end
GROUP BY ALL
ORDER BY week, m.competitor;
