-- Every version of the identity map and of each alert, kept for pages as they stood (issue
-- 13, "as at"). person_aliases (keyed by retired_person_id) and alerts (by alert_id) are
-- ReplacingMergeTree tables: a background merge keeps only each key's latest row, so after a
-- merge and then a split the merge's alias version is gone, and a page as at a time between
-- the two would follow the split. The sink now writes each version to these append-only
-- tables as well (SinkWriter, under the same lock and with the same stored_at as the current
-- row), and reads as at a time use them (query_api/reads.py, query_api/records.py); reads of
-- now keep using the current tables with FINAL.
--
-- Inserts carry a deduplication token (a hash of the batch's versions), honoured because
-- non_replicated_deduplication_window is above 0: a batch read again after a crash adds no
-- version twice.
CREATE TABLE IF NOT EXISTS person_alias_versions
(
    retired_person_id    String,
    surviving_person_id  String,
    merge_id             String,
    merged_at            DateTime64(3, 'UTC'),
    stored_at            DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (retired_person_id, stored_at)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS alert_versions
(
    alert_id            String,
    rule_id             LowCardinality(String),
    severity            LowCardinality(String),
    subject_kind        LowCardinality(String),
    subject_id          String,
    window_start        DateTime64(3, 'UTC'),
    window_end          DateTime64(3, 'UTC'),
    counts_by_agency    Map(String, UInt32),
    evidence_event_ids  Array(String),
    summary             String,
    raised_at           DateTime64(3, 'UTC'),
    stored_at           DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (alert_id, stored_at)
SETTINGS non_replicated_deduplication_window = 1000;

-- The versions still held by the current tables (every row not yet merged away; earlier
-- ones are lost), copied once. Re-runnable: the copy is marked done by the table's comment,
-- set last, so a run that failed before it empties the table and copies again, and a run
-- after it copies nothing. Deduplication is off for the copy, so a second copy of the same
-- rows is not taken for a replay and dropped.
-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'person_alias_versions' AND comment = ''
TRUNCATE TABLE person_alias_versions;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'person_alias_versions' AND comment = ''
INSERT INTO person_alias_versions SETTINGS insert_deduplicate = 0
SELECT retired_person_id, surviving_person_id, merge_id, merged_at, stored_at
FROM person_aliases;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'person_alias_versions' AND comment = ''
ALTER TABLE person_alias_versions MODIFY COMMENT 'every version of person_aliases (migration 0025)';

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'alert_versions' AND comment = ''
TRUNCATE TABLE alert_versions;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'alert_versions' AND comment = ''
INSERT INTO alert_versions SETTINGS insert_deduplicate = 0
SELECT alert_id, rule_id, severity, subject_kind, subject_id, window_start, window_end,
       counts_by_agency, evidence_event_ids, summary, raised_at, stored_at
FROM alerts;

-- only if: SELECT count() > 0 FROM system.tables WHERE database = currentDatabase() AND name = 'alert_versions' AND comment = ''
ALTER TABLE alert_versions MODIFY COMMENT 'every version of alerts (migration 0025)';

-- When the sink stored each alert action, so that a page as at a time leaves off the alerts
-- withdrawn by then and no others: a withdrawal's own time (at) is the split's or the
-- retraction's, earlier than the moment the sink stored it and pages stopped showing the
-- alert. Stamped by the sink (SinkWriter._insert); NULL for rows stored before this
-- migration and for actions written by the API, which are read as stored at their time.
ALTER TABLE alert_actions
    ADD COLUMN IF NOT EXISTS stored_at Nullable(DateTime64(3, 'UTC'));
