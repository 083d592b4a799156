-- A reader's library (issue 13): collections of saved papers (the reading list among them),
-- notes on papers, what they have read or dismissed, what they follow, and their private feed.
-- Readers are subscribers; every row goes with its reader or its paper. No list shows these
-- tables, so they have no list_version triggers.

-- AUTOINCREMENT: a deleted collection's id is never handed out again (a link to it must not
-- open another), as PostgreSQL's identity does.
CREATE TABLE collections (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id         INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,            -- as the reader typed it, trimmed
    name_key         TEXT NOT NULL,            -- casefolded (storage/library.py name_key)
    is_reading_list  INTEGER NOT NULL DEFAULT 0,
    share_token      TEXT UNIQUE,              -- set: anyone with the link can see it
    created_at       TEXT NOT NULL,
    UNIQUE (owner_id, name_key)
);
CREATE UNIQUE INDEX collections_reading_list ON collections (owner_id) WHERE is_reading_list = 1;

CREATE TABLE collection_entries (
    collection_id  INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    paper_pk       INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    added_at       TEXT NOT NULL,              -- to the millisecond: newest saved first
    PRIMARY KEY (collection_id, paper_pk)
) WITHOUT ROWID;
CREATE INDEX collection_entries_paper ON collection_entries (paper_pk);
CREATE INDEX collection_entries_added ON collection_entries (collection_id, added_at);

-- One note per reader and paper, whichever collections hold it (or none).
CREATE TABLE paper_notes (
    owner_id    INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    paper_pk    INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    text        TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (owner_id, paper_pk)
) WITHOUT ROWID;
CREATE INDEX paper_notes_paper ON paper_notes (paper_pk);

CREATE TABLE papers_read (
    owner_id  INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    paper_pk  INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    read_at   TEXT NOT NULL,
    PRIMARY KEY (owner_id, paper_pk)
) WITHOUT ROWID;
CREATE INDEX papers_read_paper ON papers_read (paper_pk);

-- "Not interested": kept out of the reader's lists.
CREATE TABLE papers_dismissed (
    owner_id      INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    paper_pk      INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    dismissed_at  TEXT NOT NULL,
    PRIMARY KEY (owner_id, paper_pk)
) WITHOUT ROWID;
CREATE INDEX papers_dismissed_paper ON papers_dismissed (paper_pk);

CREATE TABLE follows (
    owner_id    INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('author', 'category', 'search')),
    value       TEXT NOT NULL,
    created_at  TEXT NOT NULL,                 -- to the millisecond: oldest first
    PRIMARY KEY (owner_id, kind, value)
) WITHOUT ROWID;
CREATE INDEX follows_value ON follows (kind, value);

-- The SHA-256 of each reader's private feed token, never the token: one per reader.
CREATE TABLE feed_tokens (
    owner_id  INTEGER PRIMARY KEY REFERENCES subscribers (id) ON DELETE CASCADE,
    digest    TEXT NOT NULL UNIQUE
);
