-- Outcomes of the unusual-access review (sensitive records issue, item 5). Findings are not
-- stored: the API derives them from the audit log by the rules in
-- mast_core/access_review (each with an id that is the same every time), so this table only
-- records what a data protection officer decided about one. Append-only: a later outcome
-- for the same finding is read as the current one (argMax by reviewed_at), the earlier ones
-- stay as the review's own history.
CREATE TABLE IF NOT EXISTS access_review_outcomes
(
    finding_id    String,
    outcome       LowCardinality(String) COMMENT 'no_concern, advice_given or referred',
    note          String COMMENT 'the reviewer''s note',
    reviewed_by   String,
    organisation  LowCardinality(String),
    reviewed_at   DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (finding_id, reviewed_at);
