-- store.themes from the fits: every theme as its latest snapshot left it, with its lifecycle read
-- off the events (ids are never reused, so a theme has at most one origin and one end).
DELETE FROM store.themes;
INSERT INTO store.themes BY NAME
WITH current_fit AS (SELECT max(run_week) AS week FROM store.theme_fits),
latest AS (
    SELECT s.*, f.fitted_at,
           min(s.first_week) OVER (PARTITION BY s.theme_id) AS first_seen,
           row_number() OVER (PARTITION BY s.theme_id ORDER BY s.run_week DESC) AS recency
    FROM store.theme_snapshots s JOIN store.theme_fits f USING (run_week)
),
origin AS (
    SELECT theme_id, run_week AS born_week,
           CASE WHEN event = 'split' THEN related_ids[1] END AS parent_theme_id
    FROM store.theme_events WHERE event IN ('born', 'split')
),
ending AS (
    SELECT theme_id, run_week AS retired_week, event,
           CASE WHEN event = 'merged' THEN related_ids[1] END AS merged_into
    FROM store.theme_events WHERE event IN ('merged', 'retired')
)
SELECT l.theme_id, l.label, l.keywords, l.top_category, l.centroid, l.size, l.example_tickets,
       l.first_seen AS first_week, l.run_week AS last_run_week, l.model_version, l.fitted_at AS updated_at,
       CASE WHEN l.run_week = c.week THEN 'active' WHEN e.event = 'merged' THEN 'merged' ELSE 'retired' END AS status,
       -- themes clustered before the lifecycle was recorded have no origin event: their first week
       coalesce(o.born_week, l.first_seen) AS born_week,
       CASE WHEN l.run_week < c.week THEN e.retired_week END AS retired_week,
       CASE WHEN l.run_week < c.week THEN e.merged_into END AS merged_into,
       o.parent_theme_id
FROM latest l
CROSS JOIN current_fit c
LEFT JOIN origin o USING (theme_id)
LEFT JOIN ending e USING (theme_id)
WHERE l.recency = 1;
