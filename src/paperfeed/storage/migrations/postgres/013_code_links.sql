-- A paper's code and project page (code_links.py), kept beside it so lists and searches can
-- keep to papers with code. Written with every insert and update of a paper; the papers
-- already here get theirs in the same transaction (storage/postgres/database.py AFTER_SCRIPTS).
ALTER TABLE papers ADD COLUMN code_url text;
ALTER TABLE papers ADD COLUMN project_url text;
CREATE INDEX papers_with_code ON papers (day) WHERE code_url IS NOT NULL;
