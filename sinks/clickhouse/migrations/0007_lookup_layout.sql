-- Laid out for look-ups (measured at 1M people and 10M interactions, benchmarks/api_benchmark.py):
--
-- 1. resolved_interactions and address_interactions are partitioned by year, not month. A
--    person's timeline is read from every partition, so with five years kept a look-up
--    touched 60 partitions (and several parts in each); by year it touches six. Retention is
--    a row TTL, so it does not need monthly partitions.
-- 2. address_interactions carries each resident's name and date of birth, so "who is linked
--    to these addresses" is one read in address order.
-- 3. person_keys carries the details that search scores (name, date of birth, gender,
--    address, NHS number, agency and partner reference), so a search reads the rows under
--    its keys, contiguous in key order, and never the wide interaction table.
--
-- Each table is built beside the old one under a new name, filled from it, and swapped in
-- with EXCHANGE TABLES; the address view is recreated because a materialised view follows
-- the table it was created on, not the name.
--
-- Re-runnable after a failure midway (sinks/clickhouse/migrate.py): filling and swapping
-- run only while the table still has the layout this migration replaces ("-- only if:"),
-- and the new table is emptied before it is filled again. Rewritten to this form after it
-- shipped, with the same end state; migrate.REWRITTEN accepts the checksum of the first form.

DROP VIEW IF EXISTS address_interactions_mv;

CREATE TABLE IF NOT EXISTS resolved_interactions_0007
(
    event_id          String,
    person_id         String,
    address_id        String COMMENT 'empty when the event carried no usable address',
    agency            LowCardinality(String),
    event_type        LowCardinality(String),
    event_time        DateTime64(3, 'UTC') COMMENT 'occurred_at, or the arrival time when the partner did not say',
    occurred_at       Nullable(DateTime64(3, 'UTC')),
    source_system     Nullable(String),
    source_record_id  Nullable(String),
    given_name        Nullable(String),
    family_name       Nullable(String),
    date_of_birth     Nullable(String),
    gender            LowCardinality(String),
    address_line1     Nullable(String),
    address_line2     Nullable(String),
    town              Nullable(String),
    postcode          Nullable(String),
    uprn              Nullable(String),
    nhs_number        Nullable(String),
    case_status       LowCardinality(Nullable(String)),
    contact_name      Nullable(String),
    contact_team      Nullable(String),
    contact_phone     Nullable(String),
    contact_email     Nullable(String),
    match_weight      Nullable(Float64),
    match_reason      String,
    resolved_at       DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(resolved_at)
PARTITION BY toYear(event_time)
ORDER BY (person_id, event_time, event_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'resolved_interactions' AND partition_key = 'toYYYYMM(event_time)'
TRUNCATE TABLE resolved_interactions_0007;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'resolved_interactions' AND partition_key = 'toYYYYMM(event_time)'
INSERT INTO resolved_interactions_0007 SELECT * FROM resolved_interactions;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'resolved_interactions' AND partition_key = 'toYYYYMM(event_time)'
EXCHANGE TABLES resolved_interactions AND resolved_interactions_0007;

DROP TABLE IF EXISTS resolved_interactions_0007;

CREATE TABLE IF NOT EXISTS address_interactions_0007
(
    address_id   String,
    event_time   DateTime64(3, 'UTC'),
    event_id     String,
    person_id    String,
    agency         LowCardinality(String),
    event_type     LowCardinality(String),
    given_name     Nullable(String),
    family_name    Nullable(String),
    date_of_birth  Nullable(String),
    resolved_at    DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(resolved_at)
PARTITION BY toYear(event_time)
ORDER BY (address_id, event_time, event_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'address_interactions' AND partition_key = 'toYYYYMM(event_time)'
TRUNCATE TABLE address_interactions_0007;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'address_interactions' AND partition_key = 'toYYYYMM(event_time)'
INSERT INTO address_interactions_0007
SELECT address_id, event_time, event_id, person_id, agency, event_type, given_name,
       family_name, date_of_birth, resolved_at
FROM resolved_interactions
WHERE address_id != '';

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'address_interactions' AND partition_key = 'toYYYYMM(event_time)'
EXCHANGE TABLES address_interactions AND address_interactions_0007;

DROP TABLE IF EXISTS address_interactions_0007;

CREATE MATERIALIZED VIEW IF NOT EXISTS address_interactions_mv TO address_interactions AS
SELECT address_id, event_time, event_id, person_id, agency, event_type, given_name,
       family_name, date_of_birth, resolved_at
FROM resolved_interactions
WHERE address_id != '';

CREATE TABLE IF NOT EXISTS person_keys_0007
(
    key               String,
    person_id         String,
    event_id          String,
    event_time        DateTime64(3, 'UTC'),
    agency            LowCardinality(String),
    source_system     Nullable(String),
    source_record_id  Nullable(String),
    given_name        Nullable(String),
    family_name       Nullable(String),
    date_of_birth     Nullable(String),
    gender            LowCardinality(String),
    address_line1     Nullable(String),
    town              Nullable(String),
    postcode          Nullable(String),
    nhs_number        Nullable(String),
    resolved_at       DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(resolved_at)
ORDER BY (key, person_id, event_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'person_keys' AND NOT has((SELECT groupArray(name) FROM system.columns WHERE database = currentDatabase() AND table = 'person_keys'), 'given_name')
TRUNCATE TABLE person_keys_0007;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'person_keys' AND NOT has((SELECT groupArray(name) FROM system.columns WHERE database = currentDatabase() AND table = 'person_keys'), 'given_name')
INSERT INTO person_keys_0007
SELECT k.key, k.person_id, k.event_id, k.event_time, r.agency, r.source_system,
       r.source_record_id, r.given_name, r.family_name, r.date_of_birth, r.gender,
       r.address_line1, r.town, r.postcode, r.nhs_number, k.resolved_at
FROM person_keys AS k
INNER JOIN resolved_interactions AS r ON r.person_id = k.person_id AND r.event_id = k.event_id;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'person_keys' AND NOT has((SELECT groupArray(name) FROM system.columns WHERE database = currentDatabase() AND table = 'person_keys'), 'given_name')
EXCHANGE TABLES person_keys AND person_keys_0007;

DROP TABLE IF EXISTS person_keys_0007;
