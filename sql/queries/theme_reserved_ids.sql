-- Every theme id a fit before $week gave out: ids are never reused, so a refit of $week must
-- not hand one of them to a new theme.
SELECT DISTINCT theme_id
FROM store.theme_snapshots
WHERE run_week < $week;
