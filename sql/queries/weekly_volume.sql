-- Tickets per week (Monday, by the week they count in) before $end, for the volume forecast.
-- Closed tickets stand in for arrivals: an export of closed tickets misses the newest arrivals.
SELECT CAST(date_trunc('week', activity_at) AS DATE) AS week, count(*) AS tickets
FROM store.tickets
WHERE activity_at >= $since AND activity_at < $end
GROUP BY 1
ORDER BY 1;
