-- Each paper's discussion (issue 14): comments with one level of replies (a reply's parent is
-- a top comment), and the participants who asked for mail about new comments. A deleted
-- comment with replies stays (deleted_at set, its text gone) so they keep their place.
-- AUTOINCREMENT: a removed comment's id (an anchor in links and mail) is never reused.
CREATE TABLE comments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    paper_pk    INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    author_id   INTEGER REFERENCES subscribers (id) ON DELETE SET NULL,
    parent_id   INTEGER REFERENCES comments (id) ON DELETE CASCADE,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    edited_at   TEXT,
    deleted_at  TEXT
);
CREATE INDEX comments_paper ON comments (paper_pk, id);
CREATE INDEX comments_parent ON comments (parent_id);
CREATE INDEX comments_author ON comments (author_id);

-- mail = 1: mail about comments after `mailed_through` (a comment id), at most once every
-- hour (last_mailed_at); mail = 0: the reader turned it off (one click in a mail, or the page).
CREATE TABLE discussion_follows (
    subscriber_id   INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    paper_pk        INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    mail            INTEGER NOT NULL DEFAULT 1,
    mailed_through  INTEGER NOT NULL DEFAULT 0,
    last_mailed_at  TEXT,
    since           TEXT NOT NULL,
    PRIMARY KEY (subscriber_id, paper_pk)
) WITHOUT ROWID;
CREATE INDEX discussion_follows_paper ON discussion_follows (paper_pk) WHERE mail = 1;

-- Cards and paper pages show how many comments a paper has: kept pages must be built again.
CREATE TRIGGER comments_insert_list_version AFTER INSERT ON comments
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER comments_update_list_version AFTER UPDATE ON comments
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER comments_delete_list_version AFTER DELETE ON comments
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
