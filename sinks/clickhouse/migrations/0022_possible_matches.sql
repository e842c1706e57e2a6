-- Possible matches (corrections issue, the stewards' queue): a record the resolver kept for
-- review beside an identity it may be, as the resolution stage publishes them on the
-- possible-matches topic. Ids, the score and each field's part in it (evidence, JSON list of
-- {field, level, weight}) only: no personal data, so no TTL; the queue shows the records'
-- minimum dataset from resolved_interactions, read by the API. found_at is the record's
-- received time, so a replay writes the same row. A steward's decision on one is a row of
-- dispute_decisions under its possible_id (decision merge or different). Columns:
-- sinks/clickhouse/tables.py.
CREATE TABLE IF NOT EXISTS possible_matches
(
    possible_id          String,
    agency               LowCardinality(String),
    event_id             String COMMENT 'the record kept for review',
    person_id            String COMMENT 'the identity the record was resolved to',
    candidate_person_id  String COMMENT 'the identity it may be',
    match_weight         Float64,
    reason               String,
    evidence             String COMMENT 'JSON list of {field, level, weight}',
    found_at             DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(found_at)
ORDER BY possible_id
SETTINGS non_replicated_deduplication_window = 1000;
