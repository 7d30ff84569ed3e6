-- The latest fit, as the refit policy needs it (csintel.themes.policy.FitState).
SELECT run_week, config_key, doubtful_share
FROM store.theme_fits
ORDER BY run_week DESC
LIMIT 1;
