-- Papers readers submit to the day's list (submissions.py): once per paper (the primary key:
-- of two submits at once, one wins), a limited number per reader and UTC day (counted from
-- submissions_reader_day in the submitting transaction, the reader's row locked). Each also
-- features the paper (featured, source 'paperfeed') on its day. Lists show the submitter's
-- public name, read from subscribers when the list is, so a submission and a rename both
-- move list_version.
CREATE TABLE submissions (
    paper_pk       bigint PRIMARY KEY REFERENCES papers (pk) ON DELETE CASCADE,
    subscriber_id  bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    day            date NOT NULL,              -- the UTC day it was submitted
    submitted_at   timestamptz NOT NULL
);
CREATE INDEX submissions_reader_day ON submissions (subscriber_id, day);
-- ?submitter= also finds names imported from Hugging Face.
CREATE INDEX featured_submitted_by ON featured (submitted_by) WHERE submitted_by IS NOT NULL;

CREATE CONSTRAINT TRIGGER submissions_list_version AFTER INSERT OR UPDATE OR DELETE
    ON submissions DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION count_list_change();
CREATE CONSTRAINT TRIGGER subscribers_rename_list_version AFTER UPDATE OF public_name
    ON subscribers DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.public_name IS DISTINCT FROM NEW.public_name)
    EXECUTE FUNCTION count_list_change();
