-- A run's end: its status, counts and error; the versions it loaded, unless none were recorded.
UPDATE store.runs SET finished_at = ?, status = ?, counts = ?, error = ?, versions = coalesce(?, versions)
WHERE run_id = ?;
