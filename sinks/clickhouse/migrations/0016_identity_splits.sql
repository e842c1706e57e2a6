-- Merges a steward undid (issue: corrections), as the resolution stage publishes them on the
-- identity-splits topic. identity_merges keeps every merge as it was made, so a person's
-- history shows the merge and then its split; person_aliases is re-pointed by the sink
-- (versioned rows, never rewritten in place: the latest by merged_at wins), so the restored
-- id and every id merged into it before the merge are a person of their own again. split_at
-- is the received time of the correction, so a replay writes the same row. Ids only, no
-- personal data, so no TTL.
CREATE TABLE IF NOT EXISTS identity_splits
(
    split_id             String,
    merge_id             String,
    surviving_person_id  String,
    restored_person_id   String,
    correction_id        String,
    moved_records        UInt32 COMMENT 'distinct records that went back to the restored person',
    split_at             DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(split_at)
ORDER BY split_id
SETTINGS non_replicated_deduplication_window = 1000;
