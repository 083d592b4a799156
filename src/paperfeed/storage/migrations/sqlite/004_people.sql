-- People and mail: subscribers (a confirmed subscriber is an account), what they consented to,
-- spent single-use tokens, rate-limit events, and the outgoing mail queue.

CREATE TABLE subscribers (
    id               INTEGER PRIMARY KEY,
    email            TEXT NOT NULL UNIQUE,        -- normalised (see people/addresses.py)
    status           TEXT NOT NULL DEFAULT 'pending',  -- pending | active | unsubscribed | suppressed
    frequency        TEXT NOT NULL DEFAULT 'daily',    -- daily | weekly | paused
    weekdays_only    INTEGER NOT NULL DEFAULT 0,
    topics           TEXT NOT NULL DEFAULT '[]',  -- JSON: saved searches, free text
    categories       TEXT NOT NULL DEFAULT '[]',  -- JSON
    max_papers       INTEGER NOT NULL DEFAULT 10,
    requested        TEXT,         -- JSON preferences asked for, applied when confirmed
    bounces          INTEGER NOT NULL DEFAULT 0,
    session_version  INTEGER NOT NULL DEFAULT 1,  -- bumped to sign out everywhere
    created_at       TEXT NOT NULL,
    confirmed_at     TEXT,
    updated_at       TEXT NOT NULL
);

CREATE TABLE consent_log (
    id             INTEGER PRIMARY KEY,
    subscriber_id  INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    at             TEXT NOT NULL,
    ip             TEXT,
    action         TEXT NOT NULL,   -- requested | confirmed | preferences | unsubscribed | account
    details        TEXT NOT NULL    -- what was agreed to, in words
);
CREATE INDEX consent_log_subscriber ON consent_log (subscriber_id, at);

CREATE TABLE spent_tokens (
    token     TEXT PRIMARY KEY,
    spent_at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE rate_events (
    bucket  TEXT NOT NULL,   -- e.g. subscribe:ip:203.0.113.9, subscribe:address:a@b.org
    at      REAL NOT NULL    -- Unix seconds
);
CREATE INDEX rate_events_bucket ON rate_events (bucket, at);

CREATE TABLE outgoing_mail (
    id               INTEGER PRIMARY KEY,
    dedupe_key       TEXT UNIQUE,      -- one message per key, however often it is queued
    subscriber_id    INTEGER REFERENCES subscribers (id) ON DELETE SET NULL,
    kind             TEXT NOT NULL,    -- confirm | signin | notice | digest
    recipient        TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    data             BLOB NOT NULL,    -- the whole RFC 5322 message, as sent
    status           TEXT NOT NULL DEFAULT 'queued',  -- queued | sending | sent | bounced | suppressed
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    lease_until      TEXT,             -- a sender holds it until then (a killed sender lets go)
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    sent_at          TEXT
);
CREATE INDEX outgoing_mail_due ON outgoing_mail (status, next_attempt_at);
