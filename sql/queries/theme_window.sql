-- Tagged tickets of the clustering window with what labels need, oldest first (stable order).
SELECT t.source, t.ticket_id, t.content_hash, t.customer_text, t.display_text, t.account_id, t.activity_at,
       CAST(date_trunc('week', t.activity_at) AS DATE) AS week,
       g.category, g.sentiment, g.errors
FROM store.tickets t
JOIN store.ticket_tags g
  ON g.source = t.source AND g.ticket_id = t.ticket_id AND g.model_version = $model_version
WHERE t.activity_at >= $window_start AND t.activity_at < $end
ORDER BY t.activity_at, t.source, t.ticket_id;
