-- Relationship signals of the week by account segment: negative tickets, competitive mentions,
-- feature requests, and the ARR of the accounts behind negative tickets.
WITH t AS (
    SELECT k.source, k.ticket_id, k.account_id, coalesce(a.segment, 'unknown') AS segment, a.arr_usd,
           g.sentiment = 'negative' AS negative, coalesce(g.is_feature_request, false) AS request,
           EXISTS (SELECT 1 FROM store.competitor_mentions m
                   WHERE m.source = k.source AND m.ticket_id = k.ticket_id AND m.model_version = $model_version
                     AND m.competitive) AS competitive
    FROM store.tickets k
    LEFT JOIN store.accounts a USING (account_id)
    LEFT JOIN store.ticket_tags g
      ON g.source = k.source AND g.ticket_id = k.ticket_id AND g.model_version = $model_version
    WHERE k.activity_at >= $start AND k.activity_at < $end
),
negative_arr AS (
    SELECT segment, sum(arr_usd) AS arr_usd
    FROM (SELECT DISTINCT segment, account_id, arr_usd FROM t WHERE negative AND account_id IS NOT NULL)
    GROUP BY segment
)
SELECT t.segment, count(*) AS tickets,
       avg(CASE WHEN negative THEN 1.0 ELSE 0.0 END) AS negative_share,
       count(*) FILTER (WHERE competitive) AS competitive_tickets,
       count(*) FILTER (WHERE request) AS feature_requests,
       coalesce(any_value(n.arr_usd), 0) AS negative_arr_usd
FROM t LEFT JOIN negative_arr n USING (segment)
GROUP BY t.segment
ORDER BY tickets DESC, t.segment;
