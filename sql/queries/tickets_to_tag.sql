-- Tickets in [since, until) whose tags for this model version are missing or stale (text changed).
SELECT t.source, t.ticket_id, t.customer_text, t.content_hash
FROM store.tickets t
LEFT JOIN store.ticket_tags g
  ON g.source = t.source AND g.ticket_id = t.ticket_id AND g.model_version = $model_version
WHERE t.activity_at >= $since AND t.activity_at < $until
  AND (g.ticket_id IS NULL OR g.content_hash <> t.content_hash)
ORDER BY t.activity_at, t.source, t.ticket_id;
