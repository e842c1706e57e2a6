-- Records a steward detached from a person they were linked to directly (corrections issue:
-- a dispute about a record no merge brought). The resolution stage publishes each new
-- identity as an identity split with no merge (merge_id empty), naming the records it took;
-- the sink moves those records' rows from the person to the new identity
-- (sinks/clickhouse/detaches.py) and keeps the split, ids only, as the history says it.
ALTER TABLE identity_splits
    ADD COLUMN IF NOT EXISTS detached_agencies Array(String) AFTER moved_records;
ALTER TABLE identity_splits
    ADD COLUMN IF NOT EXISTS detached_event_ids Array(String) AFTER detached_agencies;
