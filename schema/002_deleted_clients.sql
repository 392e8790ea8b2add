-- mosquitto-bootstrap schema, version 2: the client_ids of deleted configs.
-- A client that still holds a deleted config's client_secret, or a TLS
-- certificate signed for its client_id, must be refused (protocol section
-- 5: "disabled or deleted"), not left to the broker's other sources as an
-- unknown username would be. Read only when a login or an ACL check finds
-- no config; a config created again with the same client_id removes its row.
CREATE TABLE deleted_clients (
	client_id   TEXT PRIMARY KEY NOT NULL,
	deleted_at  TEXT NOT NULL
) WITHOUT ROWID;
