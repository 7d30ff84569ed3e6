-- Feature-request groups over the window, ranked by distinct accounts and their ARR. Requests that
-- name no capability have no group: they come back as one row with request_group NULL, so the
-- digest can count them. The example quote is a ticket of the group itself, preferably one whose
-- own ask is the group's label (the group's most central phrase).
WITH r AS (
    SELECT g.request_group, g.request_text, t.source, t.ticket_id, t.account_id, t.activity_at, t.display_text
    FROM store.ticket_tags g
    JOIN store.tickets t ON t.source = g.source AND t.ticket_id = g.ticket_id
    WHERE g.model_version = $model_version AND g.is_feature_request
      AND t.activity_at >= $window_start AND t.activity_at < $end
),
acct AS (
    SELECT DISTINCT r.request_group, r.account_id, a.arr_usd FROM r LEFT JOIN store.accounts a USING (account_id)
    WHERE r.account_id IS NOT NULL
)
SELECT r.request_group, coalesce(any_value(rg.label), r.request_group) AS label,
       count(*) AS tickets,
       count(*) FILTER (WHERE r.activity_at >= $start) AS tickets_this_week,
       (SELECT count(*) FROM acct WHERE acct.request_group IS NOT DISTINCT FROM r.request_group) AS accounts,
       (SELECT coalesce(sum(arr_usd), 0) FROM acct
        WHERE acct.request_group IS NOT DISTINCT FROM r.request_group) AS arr_usd,
       list(r.ticket_id ORDER BY r.activity_at DESC, r.ticket_id) AS ticket_ids,
       coalesce(arg_max(r.display_text, r.activity_at) FILTER (WHERE r.request_text = rg.label),
                arg_max(r.display_text, r.activity_at)) AS example,
       coalesce(arg_max(r.request_text, r.activity_at) FILTER (WHERE r.request_text = rg.label),
                arg_max(r.request_text, r.activity_at)) AS example_request
FROM r
LEFT JOIN store.request_groups rg ON rg.group_id = r.request_group AND rg.model_version = $model_version
GROUP BY r.request_group
ORDER BY accounts DESC, arr_usd DESC, tickets DESC, r.request_group;
