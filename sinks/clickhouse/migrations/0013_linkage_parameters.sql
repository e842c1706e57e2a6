-- The linkage parameter sets the resolver has put in force (it re-estimates them from the
-- stream: docs/linkage.md), as the resolution stage publishes them on the
-- linkage-parameters topic, so that the API's person search scores with what the pipeline
-- has learnt (the newest by published_at). published_at is the received time of the event
-- after which the set was in force, so a replay of the log writes the same row. One row
-- per version, its latest publication wins; holds no personal data, so no TTL.
CREATE TABLE IF NOT EXISTS linkage_parameters
(
    version       String COMMENT 'Parameters.version: a digest of the numbers',
    published_at  DateTime64(3, 'UTC'),
    body          String COMMENT 'Parameters.to_dict() as JSON'
)
ENGINE = ReplacingMergeTree(published_at)
ORDER BY version
SETTINGS non_replicated_deduplication_window = 1000;
