-- Specific errors customers hit in the week, with last week's count for the trend.
WITH e AS (
    SELECT t.source, t.ticket_id, t.account_id, t.activity_at, t.display_text, unnest(g.errors) AS error
    FROM store.tickets t
    JOIN store.ticket_tags g
      ON g.source = t.source AND g.ticket_id = t.ticket_id AND g.model_version = $model_version
    WHERE t.activity_at >= $start - INTERVAL 7 DAY AND t.activity_at < $end
)
SELECT error,
       count(*) FILTER (WHERE activity_at >= $start)                       AS tickets,
       count(DISTINCT account_id) FILTER (WHERE activity_at >= $start)     AS accounts,
       count(*) FILTER (WHERE activity_at < $start)                        AS last_week_tickets,
       list(ticket_id ORDER BY ticket_id) FILTER (WHERE activity_at >= $start) AS ticket_ids,
       arg_max(display_text, ticket_id) FILTER (WHERE activity_at >= $start) AS example
FROM e
GROUP BY error
HAVING count(*) FILTER (WHERE activity_at >= $start) > 0
ORDER BY tickets DESC, error;
