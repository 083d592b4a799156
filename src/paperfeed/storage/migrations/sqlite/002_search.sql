-- Search support: a revision on every paper (search indexes sync from it), and embeddings.

-- Each write batch stamps the papers it inserts or changes with the next revision, so an index
-- that has seen revision R only needs the papers with rev > R.
ALTER TABLE papers ADD COLUMN rev INTEGER NOT NULL DEFAULT 1;
CREATE INDEX papers_rev ON papers (rev, pk);

CREATE TABLE embeddings (
    model         TEXT NOT NULL,               -- Embedder.model_id that made the vector
    paper_pk      INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    content_hash  TEXT NOT NULL,               -- of the text embedded: changed text, new vector
    paper_rev     INTEGER NOT NULL,            -- papers.rev when last checked
    vector        BLOB NOT NULL,               -- float16, little-endian
    rev           INTEGER NOT NULL,            -- like papers.rev, for the vector index
    PRIMARY KEY (model, paper_pk)
) WITHOUT ROWID;
CREATE INDEX embeddings_rev ON embeddings (model, rev, paper_pk);

-- Facts about this database; `instance` tells a search index which database it was built from.
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('instance', lower(hex(randomblob(16))));
