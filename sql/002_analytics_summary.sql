-- 002_analytics_summary: the counters behind /api/analytics, so that every
-- analytics answer reads a few hundred rows instead of scanning users and
-- mission_progress. Each write adds its change to them in the same
-- transaction (src/db_summary.c); `guildctl verify-summaries` compares them
-- with the base tables, `guildctl rebuild-summaries` recomputes them.
-- One row per (metric, k, name, slot); a counter's value is SUM(n) over its
-- 16 slots (writers pick a slot per transaction so they rarely queue on one
-- row). Metrics (src/summary.h): 1 users, 2 active users, 3 sum of
-- missions_completed, 4 sum of experience_points (k 0); 5 users per
-- guild_rank (name); 6 users per experience_points value (k); 7 progress
-- rows, 8 completed rows, 9 sum of scores in millionths of a point, per
-- mission (k = mission_id).
-- The fill below assumes no writer runs meanwhile (deploy: migrate, then
-- start the responders; if an older responder wrote in between, run
-- `guildctl rebuild-summaries`). Re-running the file from the top is safe:
-- it empties the table before filling it.
CREATE TABLE IF NOT EXISTS analytics_summary (
    metric TINYINT UNSIGNED NOT NULL,
    k BIGINT NOT NULL DEFAULT 0,
    name VARCHAR(20) NOT NULL DEFAULT '',
    slot TINYINT UNSIGNED NOT NULL,
    n BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (metric, k, name, slot)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

DELETE FROM analytics_summary;

-- every slot's users row, the row each writer locks first (slot 0's comes
-- with the totals below)
INSERT INTO analytics_summary (metric, k, name, slot, n) VALUES
    (1,0,'',1,0),(1,0,'',2,0),(1,0,'',3,0),(1,0,'',4,0),(1,0,'',5,0),
    (1,0,'',6,0),(1,0,'',7,0),(1,0,'',8,0),(1,0,'',9,0),(1,0,'',10,0),(1,0,'',11,0),
    (1,0,'',12,0),(1,0,'',13,0),(1,0,'',14,0),(1,0,'',15,0);

-- totals over users, one scan
INSERT INTO analytics_summary (metric, k, name, slot, n)
SELECT m.metric, 0, '', 0,
       CASE m.metric WHEN 1 THEN t.users WHEN 2 THEN t.active
                     WHEN 3 THEN t.missions ELSE t.xp END
FROM (SELECT COUNT(*) AS users, COALESCE(SUM(is_active <> 0), 0) AS active,
             COALESCE(SUM(missions_completed), 0) AS missions,
             COALESCE(SUM(experience_points), 0) AS xp FROM users) AS t
CROSS JOIN (SELECT 1 AS metric UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) AS m;

INSERT INTO analytics_summary (metric, k, name, slot, n)
SELECT 5, 0, guild_rank, 0, COUNT(*) FROM users GROUP BY guild_rank;

INSERT INTO analytics_summary (metric, k, name, slot, n)
SELECT 6, experience_points, '', 0, COUNT(*) FROM users GROUP BY experience_points;

-- per mission, one scan of ix_progress_mission_status; a score counts as
-- ROUND(score * 1000000), the same expression the writers use
INSERT INTO analytics_summary (metric, k, name, slot, n)
SELECT m.metric, p.mission_id, '', 0,
       CASE m.metric WHEN 7 THEN p.attempts WHEN 8 THEN p.completed ELSE p.score_units END
FROM (SELECT mission_id, COUNT(*) AS attempts,
             COALESCE(SUM(status = 'completed'), 0) AS completed,
             COALESCE(SUM(CAST(ROUND(score * 1000000) AS SIGNED)), 0) AS score_units
      FROM mission_progress GROUP BY mission_id) AS p
CROSS JOIN (SELECT 7 AS metric UNION ALL SELECT 8 UNION ALL SELECT 9) AS m;
