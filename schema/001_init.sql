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

-- Keyed by external_id and stored in that key's B-tree (WITHOUT ROWID), so
-- that a bootstrap finds the whole config in one page, not an index page
-- and then a table page.
CREATE TABLE configs (
	external_id        TEXT PRIMARY KEY NOT NULL,
	id                 INTEGER NOT NULL UNIQUE,  -- the key of its bootstraps row
	client_id          TEXT NOT NULL UNIQUE,
	client_secret      BLOB NOT NULL,         -- sealed
	name               TEXT NOT NULL DEFAULT '',
	external_key       BLOB NOT NULL,         -- sealed
	content            TEXT NOT NULL DEFAULT '',
	client_cert        TEXT,
	client_key         BLOB,                  -- sealed
	ca_cert            TEXT,
	enabled            INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
	created_at         TEXT NOT NULL,
	updated_at         TEXT NOT NULL,
	-- The ids of its channels in order, joined by newlines: a copy of its
	-- config_channels rows that a bootstrap reads with the row itself,
	-- instead of a page of the link table. The store keeps both in step.
	channel_ids        TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE INDEX configs_created ON configs(created_at, client_id);

-- When each config last bootstrapped (its last_bootstrap_at), apart from
-- configs: recording a bootstrap then rewrites a 10-byte row of a table
-- small enough to stay in the page cache, not a whole config on a random
-- page of a large one. No foreign key, since checking it would read that
-- random page: deleteConfig deletes the row itself, and written bootstrap
-- times are all written before any admin command runs, so an id freed by
-- a deletion and given again never meets an old time.
CREATE TABLE bootstraps (
	config_id  INTEGER PRIMARY KEY,  -- configs.id
	at         INTEGER NOT NULL      -- Unix time, seconds
);

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
