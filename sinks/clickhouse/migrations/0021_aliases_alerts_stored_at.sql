-- When the sink stored each alias version and each alert (issue 13, "as at" pages; as 0020
-- for the interactions, whose comment says why). person_aliases is versioned (the latest by
-- merged_at wins): the identity map in force at a time is, for each id, the latest version
-- stored by then, so a page as at a time shows the merges and splits made by then and no
-- later one. An alert is raised again under the same id as its period's counts grow: the
-- alert shown at a time is its latest version stored by then.
--
-- Rows stored before this migration take the pipeline's own time (merged_at, raised_at) as
-- their stored time (the DEFAULT, computed when read).
ALTER TABLE person_aliases
    ADD COLUMN IF NOT EXISTS stored_at DateTime64(3, 'UTC') DEFAULT merged_at;

ALTER TABLE alerts
    ADD COLUMN IF NOT EXISTS stored_at DateTime64(3, 'UTC') DEFAULT raised_at;
