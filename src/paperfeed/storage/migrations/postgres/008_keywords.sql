-- A few keyphrases per paper (keywords/job.py), picked from its title and abstract with the
-- embedding model. `method` and `content_hash` say what they were made from: another model or
-- picking method, or a changed text (a new embeddings.content_hash), and they are made again.
-- Cards show them, so a change moves list_version (005_list_version.sql).
CREATE TABLE paper_keywords (
    paper_pk      bigint PRIMARY KEY REFERENCES papers (pk) ON DELETE CASCADE,
    keywords      text[] NOT NULL,           -- phrases, best first
    method        text NOT NULL,             -- embedding model id + phrase-picking version
    content_hash  text NOT NULL              -- of the text they were picked from
);
CREATE CONSTRAINT TRIGGER paper_keywords_list_version
    AFTER INSERT OR UPDATE OR DELETE ON paper_keywords
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION count_list_change();
