-- Why each record belongs to its person, at the point of use: the per-field contributions
-- behind match_weight (resolved_interaction schema v4), as a JSON list of
-- {field, level, weight}, which the person page words for practitioners
-- (mast_core/linkage/explanation.py). '[]' for a record linked by no comparison (it started
-- a person, or repeated an earlier record's details); '' for rows written before this
-- migration, whose match_reason sentence is shown instead.
ALTER TABLE resolved_interactions
    ADD COLUMN IF NOT EXISTS match_contributions String DEFAULT '' AFTER parameters_version;
