-- When each user last listed the alerts (security review, item 8), so that the list marks
-- the alerts raised since. One row per look, the latest wins (ReplacingMergeTree by
-- looked_at; read with max(looked_at), which needs no FINAL).
CREATE TABLE IF NOT EXISTS alerts_seen
(
    username   String,
    looked_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(looked_at)
ORDER BY username;
