-- When the sink stored each interaction (issue 13, "as at" pages): a person or address page
-- can be opened as it stood at an earlier time ("what could the practitioner have seen on 3
-- April?"), which needs every row a page reads to say when it became visible, not when the
-- pipeline stamped it (resolved_at is the event's received time, the same on every replay,
-- and a row is stored some time after). The sink writes stored_at with each insert, under
-- the lock the API reads under (SinkWriter._insert), so a page read as at a time sees exactly
-- the rows that were in when a page was read then. The identity map and the alerts get the
-- same column in 0021.
--
-- Rows stored before this migration take the pipeline's own time as their stored time (the
-- DEFAULT, computed when read): the nearest known, a little early. Pages as at a time before
-- the migration are therefore as exact as those times allow; later ones are exact.
ALTER TABLE resolved_interactions
    ADD COLUMN IF NOT EXISTS stored_at DateTime64(3, 'UTC') DEFAULT resolved_at;
