-- A number that grows with every write a list could show (papers, their upvotes and trending
-- ranks, featured days): pages and API answers built from lists are kept until it moves
-- (web/shared_cache.py). Triggers count every write path, imports and future ones included.
CREATE TABLE list_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO list_version (id, version) VALUES (1, 0);
CREATE TRIGGER papers_insert_list_version AFTER INSERT ON papers
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER papers_update_list_version AFTER UPDATE ON papers
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER papers_delete_list_version AFTER DELETE ON papers
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER featured_insert_list_version AFTER INSERT ON featured
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER featured_update_list_version AFTER UPDATE ON featured
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER featured_delete_list_version AFTER DELETE ON featured
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
