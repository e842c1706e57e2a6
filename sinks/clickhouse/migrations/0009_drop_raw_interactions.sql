-- The foundation's raw `interactions` table (0001) was written only by the first smoke demo,
-- which the regional demo replaced; the pipeline writes `resolved_interactions`. Dropped so
-- that no copy of personal data sits outside retention and outside the API's view.
DROP TABLE IF EXISTS interactions;
