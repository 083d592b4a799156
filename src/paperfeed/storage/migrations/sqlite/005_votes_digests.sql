-- Upvotes (local votes plus imported Hugging Face counts), trending, digests.

-- What lists show and sort by: the latest Hugging Face count seen plus local votes.
ALTER TABLE papers ADD COLUMN upvotes INTEGER NOT NULL DEFAULT 0;
-- Trending rank that never needs recomputing as time passes (exponential decay keeps the
-- order): log2(upvotes) + hours from 1970 to the paper's first day / half-life. NULL: no votes.
ALTER TABLE papers ADD COLUMN trend_key REAL;
UPDATE papers SET upvotes = coalesce((SELECT max(upvotes) FROM featured f WHERE f.paper_pk = papers.pk), 0);
CREATE INDEX papers_trend ON papers (trend_key) WHERE trend_key IS NOT NULL;
CREATE INDEX papers_day_upvotes ON papers (coalesce(listed, substr(published, 1, 10)), upvotes);

CREATE TABLE votes (
    subscriber_id  INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    paper_pk       INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (subscriber_id, paper_pk)
) WITHOUT ROWID;
CREATE INDEX votes_paper ON votes (paper_pk);

ALTER TABLE subscribers ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';

-- One digest per subscriber and period (2026-11-29, 2026-W48), written in the same transaction
-- as its queued message, so a digest is composed once however often `digest send` runs.
CREATE TABLE digests (
    subscriber_id  INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    period         TEXT NOT NULL,
    message_id     TEXT NOT NULL,               -- of its queued message (outgoing_mail)
    papers         INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (subscriber_id, period)
) WITHOUT ROWID;

-- Every paper a subscriber was sent, so none is sent twice.
CREATE TABLE digest_papers (
    subscriber_id  INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    paper_pk       INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    period         TEXT NOT NULL,
    PRIMARY KEY (subscriber_id, paper_pk)
) WITHOUT ROWID;

-- A message's bytes in a table of their own: every status change (claimed, sent) rewrote the
-- whole ~30 KB row, and finding due messages read every queued body.
CREATE TABLE outgoing_mail_data (
    mail_id  INTEGER PRIMARY KEY REFERENCES outgoing_mail (id) ON DELETE CASCADE,
    data     BLOB NOT NULL
);
INSERT INTO outgoing_mail_data (mail_id, data) SELECT id, data FROM outgoing_mail;
ALTER TABLE outgoing_mail DROP COLUMN data;
-- Messages still to send, in queue order (claim_mail walks it with INDEXED BY).
CREATE INDEX outgoing_mail_pending ON outgoing_mail (id) WHERE status IN ('queued', 'sending');
