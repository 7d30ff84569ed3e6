-- The most typical tickets of each theme in the week (highest membership first).
SELECT theme_id, source, ticket_id, display_text
FROM (
    SELECT tt.theme_id, t.source, t.ticket_id, t.display_text,
           row_number() OVER (PARTITION BY tt.theme_id ORDER BY tt.probability DESC, t.ticket_id) AS rank
    FROM store.ticket_themes tt
    JOIN store.tickets t USING (source, ticket_id)
    WHERE tt.theme_id IS NOT NULL AND t.activity_at >= $start AND t.activity_at < $end
)
WHERE rank <= $per_theme
ORDER BY theme_id, rank;
