-- "Not the same person" (corrections issue, item 2): a practitioner marks records on a
-- person's page as not theirs, with a reason; a steward decides. Both tables are
-- append-only, like the audit, and kept like it (no TTL): they are the record of who
-- disputed and who decided what, and why. Columns: sinks/clickhouse/tables.py.

-- One row per dispute. The disputed records are (agencies[i], event_ids[i]); held_as[i] is
-- the person id the record was resolved to when the dispute was raised.
CREATE TABLE IF NOT EXISTS disputes
(
    dispute_id  String,
    person_id   String COMMENT 'the person whose page showed the records, as raised',
    agencies    Array(LowCardinality(String)),
    event_ids   Array(String),
    held_as     Array(String),
    reason      String,
    raised_by   String,
    raised_org  LowCardinality(String),
    raised_at   DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY dispute_id;

-- A steward's decision: one per dispute (the API refuses a second). For a split, the
-- correction published to the corrections topic and the merges it undoes.
CREATE TABLE IF NOT EXISTS dispute_decisions
(
    dispute_id     String,
    decision       LowCardinality(String) COMMENT 'split or keep',
    note           String,
    decided_by     String,
    decided_org    LowCardinality(String),
    decided_at     DateTime64(3, 'UTC'),
    correction_id  String COMMENT 'empty for keep',
    merge_ids      Array(String) COMMENT 'latest first; empty for keep'
)
ENGINE = MergeTree
ORDER BY (dispute_id, decided_at);
