-- mosquitto-bootstrap schema, version 7: profiles and enrollment groups
-- (protocol 7.1 and 7.2), built on another branch; this placeholder holds
-- the number so that version 8 follows it, and gives way to that
-- migration when the branches meet.
SELECT 1;
