-- The challenge nonces answered (protocol 3.2), so that a nonce issued by
-- one broker is good once through all of them (protocol 11). A nonce is
-- signed by the broker that issued it and stored only when it is used:
-- a row lives until its nonce has long expired (expires_at, Unix seconds),
-- and each use takes a few of those away.
CREATE TABLE used_nonces (
	nonce       bytea PRIMARY KEY,
	expires_at  bigint NOT NULL
);

CREATE INDEX used_nonces_expiry ON used_nonces (expires_at);
