-- Thumbnails (issue 14): the first page of each paper's PDF as a small image, made by the
-- thumbnails job (paperfeed/thumbnails/). One row per paper it tried: 'ok' with the image, or
-- 'failed' with the error and when to try again (retry_at; NULL: never, e.g. no PDF).
-- Cards show the image, so a change to a shown thumbnail moves list_version (see 008).
CREATE TABLE thumbnails (
    paper_pk    INTEGER PRIMARY KEY REFERENCES papers (pk) ON DELETE CASCADE,
    status      TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    mime_type   TEXT,
    width       INTEGER,
    height      INTEGER,
    image       BLOB,
    digest      TEXT,                 -- of the image: its ETag and the ?v= of its URL
    pdf_bytes   INTEGER,              -- the size of the PDF it was made from
    error       TEXT,
    attempts    INTEGER NOT NULL,     -- fetches so far (failures back off by them)
    fetched_at  TEXT NOT NULL,
    retry_at    TEXT
);
CREATE INDEX thumbnails_retry ON thumbnails (retry_at) WHERE status = 'failed';
CREATE TRIGGER thumbnails_insert_list_version AFTER INSERT ON thumbnails
WHEN NEW.status = 'ok'
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER thumbnails_update_list_version AFTER UPDATE ON thumbnails
WHEN NEW.status = 'ok' OR OLD.status = 'ok'
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER thumbnails_delete_list_version AFTER DELETE ON thumbnails
WHEN OLD.status = 'ok'
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
