-- Writes that are atomic on their own, whatever the backend: rate limits become one row per
-- bucket changed by a single statement (counting events, then inserting one, was safe only
-- while SQLite let one writer in at a time), and embedding runs claim the papers they embed.

DROP TABLE rate_events;
-- A leaky bucket: `level` events are counted, draining at `limit` per window; a request is
-- let through (and counted) only while level + 1 <= limit.
CREATE TABLE rate_buckets (
    bucket  TEXT PRIMARY KEY,   -- e.g. subscribe:ip:203.0.113.9, subscribe:address:a@b.org
    level   REAL NOT NULL,
    at      REAL NOT NULL       -- Unix seconds of the last counted event
) WITHOUT ROWID;
CREATE INDEX rate_buckets_at ON rate_buckets (at);

-- Papers an embedding process is working on (until lease_until), so several `paperfeed embed`
-- processes side by side embed each paper once; a killed one lets go when its lease ends.
CREATE TABLE embed_claims (
    model        TEXT NOT NULL,
    paper_pk     INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    lease_until  TEXT NOT NULL,
    PRIMARY KEY (model, paper_pk)
) WITHOUT ROWID;
