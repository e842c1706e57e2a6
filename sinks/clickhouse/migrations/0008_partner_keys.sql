-- API keys of partner systems that publish over HTTP (POST /api/v1/ingest). A key fixes the
-- agency its events are from. Only a SHA-256 of the secret is kept; the key is shown once.
-- One row per change, the latest wins (read FINAL).
CREATE TABLE IF NOT EXISTS partner_keys
(
    key_id       String COMMENT 'the public part of the key, shown in listings and logs',
    secret_hash  String COMMENT 'SHA-256 of the secret part, hex',
    agency       LowCardinality(String),
    name         String,
    created_at   DateTime64(3, 'UTC'),
    revoked      UInt8,
    updated_at   DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY key_id;
