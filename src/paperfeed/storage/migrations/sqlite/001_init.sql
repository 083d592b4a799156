-- The catalog: papers, their categories (an index for filters), featured days, harvest state.

CREATE TABLE papers (
    pk               INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,     -- arXiv id without version, or a source's own id
    version          INTEGER,
    title            TEXT NOT NULL,
    abstract         TEXT NOT NULL,
    authors          TEXT NOT NULL DEFAULT '[]',  -- JSON array of names, in order
    categories       TEXT NOT NULL DEFAULT '[]',  -- JSON array, primary first when known
    published        TEXT,                      -- first version, ISO 8601 UTC
    updated          TEXT,                      -- latest version, ISO 8601 UTC
    listed           TEXT,                      -- first announced, YYYY-MM-DD
    comment          TEXT,
    doi              TEXT,
    journal_ref      TEXT,
    license          TEXT,
    source           TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    modified_at      TEXT NOT NULL
);
CREATE INDEX papers_listed ON papers (listed);
CREATE INDEX papers_published ON papers (published);

CREATE TABLE paper_categories (
    paper_pk  INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    category  TEXT NOT NULL,
    position  INTEGER NOT NULL,
    PRIMARY KEY (paper_pk, category)
) WITHOUT ROWID;
CREATE INDEX paper_categories_category ON paper_categories (category, paper_pk);

CREATE TABLE featured (
    paper_pk      INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    source        TEXT NOT NULL,
    day           TEXT NOT NULL,               -- YYYY-MM-DD it was in the daily list
    upvotes       INTEGER NOT NULL DEFAULT 0,
    num_comments  INTEGER NOT NULL DEFAULT 0,
    submitted_by  TEXT,
    observed_at   TEXT NOT NULL,
    PRIMARY KEY (paper_pk, source, day)
) WITHOUT ROWID;
CREATE INDEX featured_day ON featured (day);

CREATE TABLE harvests (
    key               TEXT PRIMARY KEY,
    params            TEXT NOT NULL,            -- JSON
    resumption_token  TEXT,
    pages             INTEGER NOT NULL DEFAULT 0,
    records           INTEGER NOT NULL DEFAULT 0,
    completed_until   TEXT,
    updated_at        TEXT NOT NULL
);
