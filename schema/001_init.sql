-- mosquitto-bootstrap schema, version 1.
-- Applied in one transaction at plugin start; PRAGMA user_version records
-- the last migration applied. Secret columns hold AES-256-GCM sealed bytes
-- (iv || ciphertext || tag), never clear text.

CREATE TABLE channels (
	id          TEXT PRIMARY KEY NOT NULL,
	name        TEXT NOT NULL,
	metadata    TEXT NOT NULL DEFAULT '{}',  -- a JSON object, as text
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);

CREATE TABLE configs (
	client_id          TEXT PRIMARY KEY NOT NULL,
	client_secret      BLOB NOT NULL,         -- sealed
	name               TEXT NOT NULL DEFAULT '',
	external_id        TEXT NOT NULL,
	external_key       BLOB NOT NULL,         -- sealed
	content            TEXT NOT NULL DEFAULT '',
	client_cert        TEXT,
	client_key         BLOB,                  -- sealed
	ca_cert            TEXT,
	enabled            INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
	created_at         TEXT NOT NULL,
	updated_at         TEXT NOT NULL,
	last_bootstrap_at  TEXT
);

CREATE UNIQUE INDEX configs_external_id ON configs(external_id);
CREATE INDEX configs_created ON configs(created_at, client_id);

-- Which channels a config is connected to; position keeps the admin's
-- order. The key is (client_id, position) so that a bootstrap reads a
-- config's channels in order straight off the key, without a sort.
CREATE TABLE config_channels (
	client_id   TEXT NOT NULL REFERENCES configs(client_id) ON DELETE CASCADE,
	position    INTEGER NOT NULL,
	channel_id  TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
	PRIMARY KEY (client_id, position),
	UNIQUE (client_id, channel_id)
) WITHOUT ROWID;

CREATE INDEX config_channels_channel ON config_channels(channel_id);
