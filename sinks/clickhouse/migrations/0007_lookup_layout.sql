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
-- Each table is rebuilt under its name with its rows copied; the address view is recreated
-- because a materialised view follows the table it was created on, not the name.

DROP VIEW IF EXISTS address_interactions_mv;

RENAME TABLE resolved_interactions TO resolved_interactions_0002;

CREATE TABLE resolved_interactions
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

INSERT INTO resolved_interactions SELECT * FROM resolved_interactions_0002;

DROP TABLE resolved_interactions_0002;

RENAME TABLE address_interactions TO address_interactions_0002;

CREATE TABLE address_interactions
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

INSERT INTO address_interactions
SELECT address_id, event_time, event_id, person_id, agency, event_type, given_name,
       family_name, date_of_birth, resolved_at
FROM resolved_interactions
WHERE address_id != '';

DROP TABLE address_interactions_0002;

CREATE MATERIALIZED VIEW address_interactions_mv TO address_interactions AS
SELECT address_id, event_time, event_id, person_id, agency, event_type, given_name,
       family_name, date_of_birth, resolved_at
FROM resolved_interactions
WHERE address_id != '';

RENAME TABLE person_keys TO person_keys_0004;

CREATE TABLE person_keys
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

INSERT INTO person_keys
SELECT k.key, k.person_id, k.event_id, k.event_time, r.agency, r.source_system,
       r.source_record_id, r.given_name, r.family_name, r.date_of_birth, r.gender,
       r.address_line1, r.town, r.postcode, r.nhs_number, k.resolved_at
FROM person_keys_0004 AS k
INNER JOIN resolved_interactions AS r ON r.person_id = k.person_id AND r.event_id = k.event_id;

DROP TABLE person_keys_0004;
