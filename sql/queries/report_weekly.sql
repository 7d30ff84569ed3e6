-- Weekly figures over the window for the report's charts: volume, negative share, SLA compliance,
-- competitive mentions.
WITH t AS (
    SELECT k.source, k.ticket_id, CAST(date_trunc('week', k.activity_at) AS DATE) AS week,
           g.sentiment, k.first_response_minutes AS frt,
           CAST(json_extract(CAST($targets AS JSON), '$.' || coalesce(k.priority, 'normal')) AS DOUBLE) AS target
    FROM store.tickets k
    LEFT JOIN store.ticket_tags g
      ON g.source = k.source AND g.ticket_id = k.ticket_id AND g.model_version = $model_version
    WHERE k.activity_at >= $window_start AND k.activity_at < $end
)
SELECT week, count(*) AS tickets,
       avg(CASE WHEN sentiment = 'negative' THEN 1.0 WHEN sentiment IS NOT NULL THEN 0.0 END) AS negative_share,
       avg(CASE WHEN frt <= target THEN 1.0 WHEN frt > target THEN 0.0 END) AS sla_compliance
FROM t
GROUP BY week
ORDER BY week;
