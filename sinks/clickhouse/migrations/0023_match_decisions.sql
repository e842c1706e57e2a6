-- A steward's decision on a possible match (migration 0022) is a row of dispute_decisions
-- under the possible match's id (Q…; a dispute's is D…), with the correction it published:
-- merge (CONFIRM_MATCH) or different (MARK_DIFFERENT); merge_ids stays empty. The columns
-- are unchanged; their comments say so for whoever reads the table. Each comment is set
-- once (guarded: a re-run finds it set).

-- only if: SELECT count() = 0 FROM system.columns WHERE database = currentDatabase() AND table = 'dispute_decisions' AND name = 'decision' AND comment LIKE '%possible match%'
ALTER TABLE dispute_decisions
    COMMENT COLUMN decision 'split or keep (a dispute); merge or different (a possible match)';
-- only if: SELECT count() = 0 FROM system.columns WHERE database = currentDatabase() AND table = 'dispute_decisions' AND name = 'dispute_id' AND comment LIKE '%possible match%'
ALTER TABLE dispute_decisions
    COMMENT COLUMN dispute_id 'a dispute (D...) or a possible match (Q..., possible_matches)';
-- only if: SELECT count() = 0 FROM system.columns WHERE database = currentDatabase() AND table = 'dispute_decisions' AND name = 'correction_id' AND comment LIKE '%merge, different%'
ALTER TABLE dispute_decisions
    COMMENT COLUMN correction_id 'the correction published (split, merge, different); empty for keep';
