-- mosquitto-bootstrap schema, version 7: fleets (protocol 7.1, 7.2).
-- A profile is a content template with default channels and variables; an
-- enrollment group makes the config of a device that proves a key derived
-- from the group's key, at its first bootstrap. Channel ids are kept as in
-- configs.channel_ids (joined by newlines); vars as a compact JSON object
-- of strings.
CREATE TABLE profiles (
	id           TEXT PRIMARY KEY NOT NULL,
	name         TEXT NOT NULL,
	content      TEXT NOT NULL DEFAULT '',
	channel_ids  TEXT NOT NULL DEFAULT '',
	vars         TEXT NOT NULL DEFAULT '{}',
	created_at   TEXT NOT NULL,
	updated_at   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE enroll_groups (
	id           TEXT PRIMARY KEY NOT NULL,
	name         TEXT NOT NULL,
	profile      TEXT,                       -- a profiles.id, or NULL
	channel_ids  TEXT NOT NULL DEFAULT '',
	enable       INTEGER NOT NULL DEFAULT 0 CHECK (enable IN (0, 1)),
	group_key    BLOB NOT NULL,              -- sealed
	created_at   TEXT NOT NULL,
	updated_at   TEXT NOT NULL
) WITHOUT ROWID;

-- A config's profile and its own vars (NULL: none), and the group that
-- made it (NULL: made by an admin).
ALTER TABLE configs ADD COLUMN profile TEXT;
ALTER TABLE configs ADD COLUMN vars TEXT;
ALTER TABLE configs ADD COLUMN group_id TEXT;
-- deleteProfile asks whether a config still uses the profile.
CREATE INDEX configs_profile ON configs(profile) WHERE profile IS NOT NULL;
