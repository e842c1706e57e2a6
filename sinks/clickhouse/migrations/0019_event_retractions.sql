-- Partners' retractions (interaction schema v3, retracts_event_id): the sink deletes the
-- withdrawn record's rows wherever they hold its details (resolved_interactions,
-- address_interactions, person_keys, and address_keys for a written form no other record
-- has) and keeps this row as the audit that a retraction happened: ids, agency and time,
-- never the withdrawn details. It is also the tombstone that keeps a withdrawn record from
-- coming back: a resolved batch read again after a sink crash, or read after the
-- retraction, is stored without it. retracted_at is the retracting event's received time,
-- so a replay writes the same row. No personal data, so no TTL.
CREATE TABLE IF NOT EXISTS event_retractions
(
    retraction_id        String,
    agency               LowCardinality(String),
    retracted_event_id   String,
    retracting_event_id  String,
    kind                 LowCardinality(String) COMMENT 'WITHDRAWN, or CORRECTED: the retracting event carries the corrected record',
    person_id            String COMMENT 'the person whose record it was when withdrawn',
    merge_ids_undone     Array(String),
    retracted_at         DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(retracted_at)
ORDER BY (agency, retracted_event_id)
SETTINGS non_replicated_deduplication_window = 1000;
