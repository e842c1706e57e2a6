-- What people did with alerts: acknowledged, assigned. Append-only; an alert's status is its
-- latest action (none: open).
CREATE TABLE IF NOT EXISTS alert_actions
(
    alert_id      String,
    at            DateTime64(3, 'UTC'),
    username      String,
    organisation  LowCardinality(String),
    action        LowCardinality(String),
    assignee      String
)
ENGINE = MergeTree
ORDER BY (alert_id, at);
