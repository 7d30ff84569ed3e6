-- Ticket volume and sentiment for a week and the week before it.
SELECT
    count(*) FILTER (WHERE t.activity_at >= $start AND t.activity_at < $end)                        AS tickets,
    count(*) FILTER (WHERE t.activity_at >= $start - INTERVAL 7 DAY AND t.activity_at < $start)     AS last_week_tickets,
    count(DISTINCT t.account_id) FILTER (WHERE t.activity_at >= $start AND t.activity_at < $end)    AS accounts,
    avg(CASE WHEN g.sentiment = 'negative' THEN 1.0 ELSE 0.0 END)
        FILTER (WHERE t.activity_at >= $start AND t.activity_at < $end)                             AS negative_share,
    avg(CASE WHEN g.sentiment = 'negative' THEN 1.0 ELSE 0.0 END)
        FILTER (WHERE t.activity_at >= $start - INTERVAL 7 DAY AND t.activity_at < $start)          AS last_week_negative_share
FROM store.tickets t
LEFT JOIN store.ticket_tags g
  ON g.source = t.source AND g.ticket_id = t.ticket_id AND g.model_version = $model_version
WHERE t.activity_at >= $start - INTERVAL 7 DAY AND t.activity_at < $end;
