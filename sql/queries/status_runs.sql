-- The most recent runs, newest first, with how long each took (NULL while running or killed).
SELECT run_id, flow, week, status, started_at, finished_at,
       date_diff('millisecond', started_at, finished_at) / 1000.0 AS seconds,
       error
FROM store.runs
ORDER BY started_at DESC
LIMIT $limit;
