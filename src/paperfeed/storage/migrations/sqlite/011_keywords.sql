-- A few keyphrases per paper (keywords/job.py), picked from its title and abstract with the
-- embedding model. `method` and `content_hash` say what they were made from: another model or
-- picking method, or a changed text (a new embeddings.content_hash), and they are made again.
-- Cards show them, so a change moves list_version (008_list_version.sql).
CREATE TABLE paper_keywords (
    paper_pk      INTEGER PRIMARY KEY REFERENCES papers (pk) ON DELETE CASCADE,
    keywords      TEXT NOT NULL,             -- JSON array of phrases, best first
    method        TEXT NOT NULL,             -- embedding model id + phrase-picking version
    content_hash  TEXT NOT NULL              -- of the text they were picked from
);
CREATE TRIGGER paper_keywords_insert_list_version AFTER INSERT ON paper_keywords
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER paper_keywords_update_list_version AFTER UPDATE ON paper_keywords
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER paper_keywords_delete_list_version AFTER DELETE ON paper_keywords
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
