-- Linkage parameters are learnt from the stream, so they change over time: each resolved
-- interaction records the version of the parameter set that linked it (empty for rows
-- written before this migration).
ALTER TABLE resolved_interactions
    ADD COLUMN IF NOT EXISTS parameters_version LowCardinality(String) DEFAULT '' AFTER resolved_at;
