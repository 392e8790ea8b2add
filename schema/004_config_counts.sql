-- mosquitto-bootstrap schema, version 4: how many configs are enabled and
-- how many disabled, kept by triggers, so that the statistics (section 8,
-- every stats_interval) read two rows instead of counting a million.
CREATE TABLE config_counts (
	enabled  INTEGER PRIMARY KEY CHECK (enabled IN (0, 1)),
	n        INTEGER NOT NULL
);
INSERT INTO config_counts SELECT 0, count(*) FROM configs WHERE enabled = 0;
INSERT INTO config_counts SELECT 1, count(*) FROM configs WHERE enabled = 1;

CREATE TRIGGER config_counts_insert AFTER INSERT ON configs BEGIN
	UPDATE config_counts SET n = n + 1 WHERE enabled = NEW.enabled;
END;
CREATE TRIGGER config_counts_delete AFTER DELETE ON configs BEGIN
	UPDATE config_counts SET n = n - 1 WHERE enabled = OLD.enabled;
END;
CREATE TRIGGER config_counts_update AFTER UPDATE OF enabled ON configs
		WHEN OLD.enabled <> NEW.enabled BEGIN
	UPDATE config_counts SET n = n - 1 WHERE enabled = OLD.enabled;
	UPDATE config_counts SET n = n + 1 WHERE enabled = NEW.enabled;
END;
