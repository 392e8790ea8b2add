-- mosquitto-bootstrap schema, version 5: config_counts kept by the store,
-- which adds up a transaction's changes and writes them once at its
-- commit, instead of by a trigger per row: the two trigger runs of a
-- createConfig + enableConfig pair were a tenth of a fleet import's work.
DROP TRIGGER config_counts_insert;
DROP TRIGGER config_counts_delete;
DROP TRIGGER config_counts_update;
