-- Support efficiency for a week and the week before: overall and by priority, channel and category.
-- $targets is a JSON object of first-response targets in minutes per priority.
WITH t AS (
    SELECT coalesce(k.priority, 'normal') AS priority, coalesce(k.channel, 'unknown') AS channel,
           coalesce(g.category, 'untagged') AS category,
           k.first_response_minutes AS frt,
           date_diff('minute', k.created_at, k.solved_at) / 60.0 AS resolution_hours,
           k.csat, k.activity_at >= $start AS this_week,
           CAST(json_extract(CAST($targets AS JSON), '$.' || coalesce(k.priority, 'normal')) AS DOUBLE) AS target,
           -- public agent replies: one means the ticket was resolved in one touch
           len(list_filter(from_json(k.comments, '[{"author_role":"VARCHAR","public":"BOOLEAN"}]'),
                           lambda c: c.author_role = 'agent' AND c.public)) AS agent_replies
    FROM store.tickets k
    LEFT JOIN store.ticket_tags g
      ON g.source = k.source AND g.ticket_id = k.ticket_id AND g.model_version = $model_version
    WHERE k.activity_at >= $start - INTERVAL 7 DAY AND k.activity_at < $end
)
SELECT GROUPING(priority) AS all_priorities, GROUPING(channel) AS all_channels,
       GROUPING(category) AS all_categories, priority, channel, category, this_week,
       count(*) AS tickets,
       median(frt) AS frt_median, quantile_cont(frt, 0.9) AS frt_p90,
       median(resolution_hours) AS resolution_median_h, quantile_cont(resolution_hours, 0.9) AS resolution_p90_h,
       avg(CASE WHEN frt <= target THEN 1.0 WHEN frt > target THEN 0.0 END) AS sla_compliance,
       count(frt) FILTER (WHERE target IS NOT NULL) AS sla_measured,
       avg(csat) AS csat_mean, count(csat) AS csat_responses,
       avg(CASE WHEN agent_replies = 1 THEN 1.0 WHEN agent_replies > 1 THEN 0.0 END) AS one_touch
FROM t
GROUP BY GROUPING SETS ((this_week), (this_week, priority), (this_week, channel), (this_week, category))
ORDER BY this_week DESC, all_priorities DESC, all_channels DESC, all_categories DESC, priority, channel, category;
