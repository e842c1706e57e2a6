-- Interaction schema v3 (resolved_interaction v5): a partner may mark a record sensitive
-- (REFUGE, ADOPTION, WITNESS, OTHER), meaning it is to be shielded. This migration only
-- stores the mark with the record (NULL for an ordinary record, and for rows written
-- before it); what shielding does with it is later work (docs/event-contract.md).
ALTER TABLE resolved_interactions
    ADD COLUMN IF NOT EXISTS sensitivity LowCardinality(Nullable(String)) AFTER match_contributions;
