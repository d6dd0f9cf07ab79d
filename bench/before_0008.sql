-- The report table as it was before migration 0008, for a same-run comparison:
--   .venv/bin/python bench/sms_intake.py --also-sqlite "before0008=$(cat bench/before_0008.sql)"
-- The search index's INSERT trigger back, the three single-column indexes that are a prefix of a
-- wider one back, and three partial indexes full again.
DROP INDEX ix_report_cluster_id;
DROP INDEX ix_report_assigned_user_id;
DROP INDEX ix_report_due_at;
CREATE INDEX ix_report_org_id ON report (org_id);
CREATE INDEX ix_report_urgency ON report (urgency);
CREATE INDEX ix_report_place_id ON report (place_id);
CREATE INDEX ix_report_cluster_id ON report (cluster_id);
CREATE INDEX ix_report_assigned_user_id ON report (assigned_user_id);
CREATE INDEX ix_report_due_at ON report (due_at);
CREATE TRIGGER report_fts_ai AFTER INSERT ON report BEGIN
  INSERT INTO report_fts(rowid, narrative_masked) VALUES (new.id, new.narrative_masked);
END;
