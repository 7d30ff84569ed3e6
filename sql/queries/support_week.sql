-- Support efficiency for a week and the week before, overall and by channel/priority.
-- $targets is a JSON object of first-response targets in minutes per priority.
WITH t AS (
    SELECT coalesce(priority, 'normal') AS priority, coalesce(channel, 'unknown') AS channel,
           first_response_minutes AS frt,
           date_diff('minute', created_at, solved_at) / 60.0 AS resolution_hours,
           csat, activity_at >= $start AS this_week,
           CAST(json_extract(CAST($targets AS JSON), '$.' || coalesce(priority, 'normal')) AS DOUBLE) AS target
    FROM store.tickets
    WHERE activity_at >= $start - INTERVAL 7 DAY AND activity_at < $end
)
SELECT GROUPING(priority) AS all_priorities, GROUPING(channel) AS all_channels, priority, channel, this_week,
       count(*) AS tickets,
       median(frt) AS frt_median, quantile_cont(frt, 0.9) AS frt_p90,
       median(resolution_hours) AS resolution_median_h, quantile_cont(resolution_hours, 0.9) AS resolution_p90_h,
       avg(CASE WHEN frt <= target THEN 1.0 WHEN frt > target THEN 0.0 END) AS sla_compliance,
       count(frt) FILTER (WHERE target IS NOT NULL) AS sla_measured,
       avg(csat) AS csat_mean, count(csat) AS csat_responses
FROM t
GROUP BY GROUPING SETS ((this_week), (this_week, priority), (this_week, channel))
ORDER BY this_week DESC, all_priorities DESC, all_channels DESC, priority, channel;
