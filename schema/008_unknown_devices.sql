-- mosquitto-bootstrap schema, version 8: the unknown devices (protocol
-- 7.3), the external IDs of bootstrap attempts that no config has. The
-- plugin remembers them in memory and writes them here in batches, off the
-- request path; it keeps at most max_unknown rows, the least recently seen
-- deleted first, and deletes a row when a config with that external_id is
-- created. Never a key: only the ID, two times (Unix seconds), how many
-- attempts, and the client address of the last one.
CREATE TABLE IF NOT EXISTS unknown_devices (
	external_id  TEXT PRIMARY KEY NOT NULL,
	first_seen   INTEGER NOT NULL,
	last_seen    INTEGER NOT NULL,
	attempts     INTEGER NOT NULL,
	address      TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

-- listUnknown pages through it most recently seen first, and the pruning
-- walks it from the least recently seen.
CREATE INDEX IF NOT EXISTS unknown_devices_seen ON unknown_devices(last_seen, external_id);
