-- The themes of the fit of $run_week: ids, centroids and radii, in id order (the order of the
-- centroid matrix placement and matching use).
SELECT theme_id, centroid, radius
FROM store.theme_snapshots
WHERE run_week = $run_week
ORDER BY theme_id;
