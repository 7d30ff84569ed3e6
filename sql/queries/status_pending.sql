-- What the warehouse still owes: tickets without tags of the newest tag version, every week that
-- has tickets but no completed weekly or digest run (backfilled weeks are taken off in Python,
-- from the backfill runs' counts), the newest ticket, and runs still marked running.
WITH newest AS (
    SELECT model_version FROM store.ticket_tags ORDER BY tagged_at DESC LIMIT 1
),
untagged AS (
    SELECT count(*) AS n, min(t.activity_at) AS oldest, max(t.activity_at) AS newest
    FROM store.tickets t
    WHERE NOT EXISTS (
        SELECT 1 FROM store.ticket_tags g, newest v
        WHERE g.source = t.source AND g.ticket_id = t.ticket_id AND g.model_version = v.model_version
          AND g.content_hash = t.content_hash)
),
done_weeks AS (
    SELECT DISTINCT week FROM store.runs
    WHERE status = 'completed' AND flow IN ('weekly', 'digest') AND week IS NOT NULL
),
ticket_weeks AS (
    SELECT DISTINCT CAST(date_trunc('week', activity_at) AS DATE) AS week
    FROM store.tickets
    WHERE activity_at < $this_week
)
SELECT
    (SELECT model_version FROM newest)                                   AS tag_version,
    (SELECT n FROM untagged)                                             AS untagged,
    (SELECT oldest FROM untagged)                                        AS untagged_oldest,
    (SELECT newest FROM untagged)                                        AS untagged_newest,
    (SELECT list(week ORDER BY week) FROM ticket_weeks
      WHERE week NOT IN (SELECT week FROM done_weeks))                   AS weeks_not_digested,
    (SELECT max(activity_at) FROM store.tickets)                         AS newest_ticket,
    (SELECT count(*) FROM store.runs WHERE status = 'running')           AS running;
