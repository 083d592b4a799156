-- Thumbnails (issue 14): the first page of each paper's PDF as a small image, made by the
-- thumbnails job (paperfeed/thumbnails/). One row per paper it tried: 'ok' with the image, or
-- 'failed' with the error and when to try again (retry_at; NULL: never, e.g. no PDF).
-- Cards show the image, so a change to a shown thumbnail moves list_version (see 005).
CREATE TABLE thumbnails (
    paper_pk    bigint PRIMARY KEY REFERENCES papers (pk) ON DELETE CASCADE,
    status      text NOT NULL CHECK (status IN ('ok', 'failed')),
    mime_type   text,
    width       integer,
    height      integer,
    image       bytea,
    digest      text,                 -- of the image: its ETag and the ?v= of its URL
    pdf_bytes   bigint,               -- the size of the PDF it was made from
    error       text,
    attempts    integer NOT NULL,     -- fetches so far (failures back off by them)
    fetched_at  timestamptz NOT NULL,
    retry_at    timestamptz
);
-- The image is WebP already: compressing it again gains nothing.
ALTER TABLE thumbnails ALTER COLUMN image SET STORAGE EXTERNAL;
CREATE INDEX thumbnails_retry ON thumbnails (retry_at) WHERE status = 'failed';
CREATE CONSTRAINT TRIGGER thumbnails_insert_list_version AFTER INSERT ON thumbnails
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.status = 'ok')
    EXECUTE FUNCTION count_list_change();
CREATE CONSTRAINT TRIGGER thumbnails_update_list_version AFTER UPDATE ON thumbnails
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.status = 'ok' OR OLD.status = 'ok')
    EXECUTE FUNCTION count_list_change();
CREATE CONSTRAINT TRIGGER thumbnails_delete_list_version AFTER DELETE ON thumbnails
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.status = 'ok')
    EXECUTE FUNCTION count_list_change();
