-- Shielding and break-glass (sensitive records issue, items 1 and 2).
--
-- A record a partner marks sensitive (resolved_interactions.sensitivity, migration 0018)
-- shields its person and their addresses by itself; these tables hold what people decide.
-- All three are append-only: a shield is lifted by a later row for the same subject, a grant
-- is reviewed by a row of its own, and the earlier rows stay as the history.

-- A steward's or manager's hand shield on a person id or an address id, and its lifting.
-- The subject's state is its latest row (argMax(action, at)). A person is shielded under
-- every id it had when shielded, so that both halves stay shielded after a split.
CREATE TABLE IF NOT EXISTS shields
(
    subject_kind  LowCardinality(String) COMMENT 'PERSON or ADDRESS',
    subject_id    String,
    action        LowCardinality(String) COMMENT 'shield or lift',
    reason        String COMMENT 'why, in the words of who decided',
    decided_by    String,
    organisation  LowCardinality(String),
    at            DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (subject_kind, subject_id, at);

-- Each break-glass: who opened which shielded record, why, and until when.
CREATE TABLE IF NOT EXISTS break_glass
(
    grant_id        String,
    username        String,
    organisation    LowCardinality(String),
    role            LowCardinality(String),
    subject_kind    LowCardinality(String) COMMENT 'PERSON or ADDRESS',
    subject_id      String,
    owners          Array(String) COMMENT 'the organisations that hold the shielded record',
    reason          String,
    purpose         LowCardinality(String),
    granted_at      DateTime64(3, 'UTC'),
    expires_at      DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (username, subject_id, granted_at);

-- What a manager of an owning organisation or the data protection officer decided about a
-- break-glass. The two review independently: the latest row per grant and reviewer role is
-- that role's current outcome.
CREATE TABLE IF NOT EXISTS break_glass_reviews
(
    grant_id       String,
    reviewer_role  LowCardinality(String) COMMENT 'manager or dpo',
    outcome        LowCardinality(String) COMMENT 'justified, not_justified or referred',
    note           String,
    reviewed_by    String,
    organisation   LowCardinality(String),
    reviewed_at    DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (grant_id, reviewed_at);
