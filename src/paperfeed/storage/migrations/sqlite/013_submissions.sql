-- Papers readers submit to the day's list (submissions.py): once per paper (the primary key:
-- of two submits at once, one wins), a limited number per reader and UTC day (counted from
-- submissions_reader_day in the submitting transaction). Each also features the paper
-- (featured, source 'paperfeed') on its day. Lists show the submitter's public name, read
-- from subscribers when the list is, so a submission and a rename both move list_version.
CREATE TABLE submissions (
    paper_pk       INTEGER PRIMARY KEY REFERENCES papers (pk) ON DELETE CASCADE,
    subscriber_id  INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    day            TEXT NOT NULL,              -- YYYY-MM-DD (UTC) it was submitted
    submitted_at   TEXT NOT NULL               -- ISO 8601 UTC
);
CREATE INDEX submissions_reader_day ON submissions (subscriber_id, day);
-- ?submitter= also finds names imported from Hugging Face.
CREATE INDEX featured_submitted_by ON featured (submitted_by) WHERE submitted_by IS NOT NULL;

CREATE TRIGGER submissions_insert_list_version AFTER INSERT ON submissions
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER submissions_update_list_version AFTER UPDATE ON submissions
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER submissions_delete_list_version AFTER DELETE ON submissions
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER subscribers_rename_list_version AFTER UPDATE OF public_name ON subscribers
WHEN old.public_name IS NOT new.public_name
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
