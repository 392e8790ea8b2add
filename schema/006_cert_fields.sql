-- mosquitto-bootstrap schema, version 6: the serial (lowercase hex) and the
-- end of validity (RFC 3339 UTC) of each config's client_cert, issued by
-- the plugin (protocol 3.3) or given by an admin, so that reads show them
-- and listConfigs finds the certificates that expire before a time. NULL
-- when there is no certificate. The plugin fills them for the certificates
-- stored before this version in the same transaction.
ALTER TABLE configs ADD COLUMN cert_serial TEXT;
ALTER TABLE configs ADD COLUMN cert_expires_at TEXT;
