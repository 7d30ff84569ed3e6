-- The week of the latest fit before $week: the themes a refit of $week is matched against.
SELECT max(run_week) AS run_week
FROM store.theme_fits
WHERE run_week < $week;
