-- Which process runs each run, so a run that was killed (and so could not mark itself) can be
-- told from one still running: the next run marks a 'running' row whose process is gone as
-- 'killed', and `runs` shows where to look while one is live.
ALTER TABLE store.runs ADD COLUMN pid INTEGER;
ALTER TABLE store.runs ADD COLUMN host VARCHAR;

CREATE OR REPLACE VIEW runs AS
SELECT run_id, flow, week, started_at, finished_at, status, counts, versions, error, pid, host FROM store.runs;
