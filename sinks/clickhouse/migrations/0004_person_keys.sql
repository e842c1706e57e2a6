-- Search by person: each record under the blocking keys the resolver indexed it by
-- (mast_core.linkage.blocking), so a search computes the same keys from what a practitioner
-- typed, finds candidate records by key, and ranks them with the resolver's own scoring.
CREATE TABLE IF NOT EXISTS person_keys
(
    key          String,
    person_id    String,
    event_id     String,
    event_time   DateTime64(3, 'UTC'),
    resolved_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(resolved_at)
ORDER BY (key, person_id, event_id)
SETTINGS non_replicated_deduplication_window = 1000;
