-- Every announcement of an admin change (lib/changes.c), kept beside its
-- NOTIFY so that a broker whose listening connection was down reads what
-- it missed (protocol 11). seq orders them as they committed: the writer
-- takes an advisory lock before its row, held to its commit. A row lives
-- an hour; each announcement takes a few older ones away.
CREATE TABLE changes (
	seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at       timestamptz NOT NULL DEFAULT now(),
	payload  text NOT NULL
);

CREATE INDEX changes_at ON changes (at);
