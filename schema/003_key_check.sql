-- mosquitto-bootstrap schema, version 3: a value sealed under the master
-- key, so that the database is never used with another key file: every
-- stored secret would fail to open, and secrets stored then would be
-- sealed under a key the others do not share. Written at the first start
-- of this version, once the key has been shown to open a stored secret.
CREATE TABLE key_check (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	sealed  BLOB NOT NULL          -- "mosquitto-bootstrap key check", sealed
);
