-- A number that grows with every write a list could show (papers, their upvotes and trending
-- ranks, featured days): pages and API answers built from lists are kept until it moves
-- (web/shared_cache.py). Triggers count every write path, imports and future ones included.
-- They are deferred to commit, and count once per transaction: the row is locked only while a
-- writer commits, so voters never queue behind a long ingest.
CREATE TABLE list_version (
    id smallint PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL,
    counted_by xid8
);
INSERT INTO list_version (id, version) VALUES (1, 0);
CREATE FUNCTION count_list_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE list_version SET version = version + 1, counted_by = pg_current_xact_id()
        WHERE id = 1 AND counted_by IS DISTINCT FROM pg_current_xact_id();
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER papers_list_version AFTER INSERT OR UPDATE OR DELETE ON papers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION count_list_change();
CREATE CONSTRAINT TRIGGER featured_list_version AFTER INSERT OR UPDATE OR DELETE ON featured
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION count_list_change();
