-- Tagged tickets of the clustering window with what labels need and where each stands: the fit
-- its theme row refers to, how it was placed and the text it was placed by. Oldest first (stable order).
SELECT t.source, t.ticket_id, t.content_hash, t.customer_text, t.display_text, t.account_id, t.activity_at,
       CAST(date_trunc('week', t.activity_at) AS DATE) AS week,
       g.category, g.sentiment, g.errors,
       tt.theme_id AS placed_theme, tt.probability, tt.fit_week, tt.method, tt.content_hash AS placed_hash
FROM store.tickets t
JOIN store.ticket_tags g
  ON g.source = t.source AND g.ticket_id = t.ticket_id AND g.model_version = $model_version
LEFT JOIN store.ticket_themes tt ON tt.source = t.source AND tt.ticket_id = t.ticket_id
WHERE t.activity_at >= $window_start AND t.activity_at < $end
ORDER BY t.activity_at, t.source, t.ticket_id;
