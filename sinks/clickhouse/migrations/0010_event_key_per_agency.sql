-- An event id is unique only within its agency: two partners numbering their events from 1
-- both send an event "1". The idempotency key is (agency, event_id), so each table keyed on
-- an event carries the agency in its sorting key; otherwise ReplacingMergeTree would collapse
-- one agency's event into another's.
--
-- Each table is built beside the old one with the new sorting key, filled from it and
-- swapped in, as in 0007; the address view is recreated because a materialised view follows
-- the table it was created on.
--
-- Re-runnable after a failure midway (sinks/clickhouse/migrate.py): filling and swapping
-- run only while the table still has the sorting key this migration replaces ("-- only
-- if:"), and the new table is emptied before it is filled again. Rewritten to this form after
-- it shipped, with the same end state; migrate.REWRITTEN accepts the checksum of the first form.

DROP VIEW IF EXISTS address_interactions_mv;

CREATE TABLE IF NOT EXISTS resolved_interactions_0010 AS resolved_interactions
ENGINE = ReplacingMergeTree(resolved_at)
PARTITION BY toYear(event_time)
ORDER BY (person_id, event_time, agency, event_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'resolved_interactions' AND sorting_key = 'person_id, event_time, event_id'
TRUNCATE TABLE resolved_interactions_0010;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'resolved_interactions' AND sorting_key = 'person_id, event_time, event_id'
INSERT INTO resolved_interactions_0010 SELECT * FROM resolved_interactions;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'resolved_interactions' AND sorting_key = 'person_id, event_time, event_id'
EXCHANGE TABLES resolved_interactions AND resolved_interactions_0010;

DROP TABLE IF EXISTS resolved_interactions_0010;

CREATE TABLE IF NOT EXISTS address_interactions_0010 AS address_interactions
ENGINE = ReplacingMergeTree(resolved_at)
PARTITION BY toYear(event_time)
ORDER BY (address_id, event_time, agency, event_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'address_interactions' AND sorting_key = 'address_id, event_time, event_id'
TRUNCATE TABLE address_interactions_0010;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'address_interactions' AND sorting_key = 'address_id, event_time, event_id'
INSERT INTO address_interactions_0010 SELECT * FROM address_interactions;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'address_interactions' AND sorting_key = 'address_id, event_time, event_id'
EXCHANGE TABLES address_interactions AND address_interactions_0010;

DROP TABLE IF EXISTS address_interactions_0010;

CREATE MATERIALIZED VIEW IF NOT EXISTS address_interactions_mv TO address_interactions AS
SELECT address_id, event_time, event_id, person_id, agency, event_type, given_name,
       family_name, date_of_birth, resolved_at
FROM resolved_interactions
WHERE address_id != '';

CREATE TABLE IF NOT EXISTS person_keys_0010 AS person_keys
ENGINE = ReplacingMergeTree(resolved_at)
ORDER BY (key, person_id, agency, event_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'person_keys' AND sorting_key = 'key, person_id, event_id'
TRUNCATE TABLE person_keys_0010;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'person_keys' AND sorting_key = 'key, person_id, event_id'
INSERT INTO person_keys_0010 SELECT * FROM person_keys;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'person_keys' AND sorting_key = 'key, person_id, event_id'
EXCHANGE TABLES person_keys AND person_keys_0010;

DROP TABLE IF EXISTS person_keys_0010;
