-- Who may look, and what they looked at (query API issue).

-- Users: one row per change, the latest wins (ReplacingMergeTree by updated_at; read FINAL).
CREATE TABLE IF NOT EXISTS users
(
    username            String,
    password_hash       String COMMENT 'argon2id',
    role                LowCardinality(String),
    organisation        LowCardinality(String),
    display_name        String,
    disabled            UInt8,
    updated_at          DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY username;

-- Sign-in attempts, for slowing down and locking out guessing.
CREATE TABLE IF NOT EXISTS login_attempts
(
    username   String,
    at         DateTime64(3, 'UTC'),
    succeeded  UInt8
)
ENGINE = MergeTree
ORDER BY (username, at)
TTL toDateTime(at) + INTERVAL 30 DAY;

-- The audit: every search, view, export and alert action, and every refusal that concerns a
-- person. Append-only: nothing in MAST updates or deletes it.
CREATE TABLE IF NOT EXISTS audit_log
(
    audit_id        UUID,
    at              DateTime64(3, 'UTC'),
    username        String,
    organisation    LowCardinality(String),
    role            LowCardinality(String),
    action          LowCardinality(String),
    outcome         LowCardinality(String) COMMENT 'shown or refused',
    purpose         LowCardinality(String),
    purpose_detail  String,
    asked           String COMMENT 'what was asked, as JSON',
    person_ids      Array(String),
    address_ids     Array(String),
    event_ids       Array(String)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (organisation, at, audit_id);
