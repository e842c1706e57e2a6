-- Which notifications each user has seen (corrections issue, item 4: "viewers are told").
-- Notifications themselves are not stored: the API derives them from what is (a split, and
-- the user's own views of the person in the audit log), each with an id that is the same
-- every time (query_api/notifications.py). This table only remembers that a user saw one.
-- Append-only, one row per notification marked; a repeat is harmless (read with DISTINCT).
-- Usernames and ids only, no personal data, so no TTL.
CREATE TABLE IF NOT EXISTS notifications_seen
(
    username         String,
    notification_id  String,
    seen_at          DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (username, notification_id);
