-- Search by address: each way an address was written, filed under the keys of
-- mast_core.linkage.address_search (its postcode, its dwelling with the sound of the street,
-- the street in its town), so a partial or misspelt query still reaches it. One row per key
-- and written variant; a variant seen again replaces its row with the later time.
CREATE TABLE IF NOT EXISTS address_keys
(
    key         String,
    address_id  String,
    line1       String,
    line2       String,
    town        String,
    postcode    String,
    last_seen   DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(last_seen)
ORDER BY (key, address_id, line1, line2, town, postcode)
SETTINGS non_replicated_deduplication_window = 1000;
