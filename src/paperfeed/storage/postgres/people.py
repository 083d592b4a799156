"""Subscribers, consent, spent tokens, rate limits and the outgoing mail queue on PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from paperfeed.models import (
    MailStatus,
    OutgoingMail,
    Preferences,
    QueuedMail,
    Subscriber,
    address_key,
)
from paperfeed.people.names import name_key
from paperfeed.storage.errors import NameTaken, SubscriberNotFound
from paperfeed.storage.postgres.database import (
    Connection,
    Database,
    lock_key,
    unique_violation,
)
from paperfeed.storage.postgres.rows import (
    SUBSCRIBER_COLUMNS,
    preference_values,
    subscriber_row,
)

# The bucket's level drains at :rate events a second since its last event; the update (and
# RETURNING) happens only while one more event fits under the limit. The row lock the upsert
# takes makes deciding and counting one step, however many processes share the bucket.
RATE_SQL = (
    "INSERT INTO rate_buckets (bucket, level, at) VALUES (%(bucket)s, 1, %(at)s) "
    "ON CONFLICT (bucket) DO UPDATE SET "
    "level = greatest(rate_buckets.level "
    "- greatest(excluded.at - rate_buckets.at, 0) * %(rate)s, 0) + 1, "
    "at = greatest(excluded.at, rate_buckets.at) "
    "WHERE greatest(rate_buckets.level "
    "- greatest(excluded.at - rate_buckets.at, 0) * %(rate)s, 0) + 1 <= %(limit)s "
    "RETURNING level"
)

# Due messages, taken in id order; rows another sender is claiming right now are skipped
# rather than waited for, and the lease is set in the same statement.
CLAIM_SQL = (
    "WITH claimed AS ("
    "UPDATE outgoing_mail SET status = 'sending', lease_until = %(lease)s "
    "WHERE id IN (SELECT id FROM outgoing_mail WHERE status IN ('queued', 'sending') AND ("
    "(status = 'queued' AND next_attempt_at <= %(due)s) "
    "OR (status = 'sending' AND lease_until <= %(due)s)) "
    "ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED) "
    "RETURNING id, kind, recipient, message_id, subscriber_id, attempts) "
    "SELECT c.id, c.kind, c.recipient, c.message_id, c.subscriber_id, c.attempts, d.data "
    "FROM claimed c JOIN outgoing_mail_data d ON d.mail_id = c.id ORDER BY c.id"
)

# Buckets idle for a day are forgotten; rows another request holds are left for next time.
_IDLE_S = 86_400


def _jsonb(value: dict[str, Any] | None) -> Any:
    """A jsonb parameter (psycopg is imported here: it is an optional extra)."""
    if value is None:
        return None
    from psycopg.types.json import Jsonb

    return Jsonb(value)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def insert_mail(conn: Connection, mail: OutgoingMail, now: datetime) -> int | None:
    """Queue one message inside the caller's transaction; None if its dedupe key is taken
    (a NULL key never is)."""
    row = conn.execute(
        "INSERT INTO outgoing_mail (dedupe_key, subscriber_id, kind, recipient, message_id, "
        "next_attempt_at, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        (
            mail.dedupe_key,
            mail.subscriber_id,
            mail.kind,
            mail.recipient,
            mail.message_id,
            now,
            now,
        ),
    ).fetchone()
    if row is None:
        return None
    mail_id = int(row["id"])
    conn.execute(
        "INSERT INTO outgoing_mail_data (mail_id, data) VALUES (%s, %s)", (mail_id, mail.data)
    )
    return mail_id


class PeopleQueries(Database):
    """Reads and writes for subscriptions, sign-in and mail delivery."""

    # -- subscribers ---------------------------------------------------------------------

    def subscriber_by_email(self, email: str) -> Subscriber | None:
        with self._conn() as conn:
            row = conn.execute(
                f"SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE email_key = %s",
                (address_key(email),),
            ).fetchone()
        return subscriber_row(row) if row else None

    def get_subscriber(self, subscriber_id: int) -> Subscriber:
        with self._conn() as conn:
            row = conn.execute(
                f"SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE id = %s", (subscriber_id,)
            ).fetchone()
        if row is None:
            raise SubscriberNotFound(subscriber_id)
        return subscriber_row(row)

    def create_subscriber(self, email: str, preferences: Preferences, now: datetime) -> Subscriber:
        """A new pending subscriber, or the existing one with that address (unchanged)."""
        with self._write() as conn:
            # A concurrent insert of the same address makes this wait for it, then do nothing.
            conn.execute(
                "INSERT INTO subscribers (email, email_key, frequency, weekdays_only, topics, "
                "categories, max_papers, timezone, created_at, updated_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (email, address_key(email), *preference_values(preferences), now, now),
            )
            row = conn.execute(
                f"SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE email_key = %s",
                (address_key(email),),
            ).fetchone()
        if row is None:  # pragma: no cover - the row was just written
            raise SubscriberNotFound(email)
        return subscriber_row(row)

    def save_subscriber(self, subscriber: Subscriber, now: datetime) -> Subscriber:
        """Write a subscriber's status, preferences, confirmation and session version."""
        with self._write() as conn:
            conn.execute(
                "UPDATE subscribers SET status = %s, frequency = %s, weekdays_only = %s, "
                "topics = %s, categories = %s, max_papers = %s, timezone = %s, requested = %s, "
                "session_version = %s, confirmed_at = %s, updated_at = %s WHERE id = %s",
                (
                    subscriber.status,
                    *preference_values(subscriber.preferences),
                    _jsonb(subscriber.requested.as_dict() if subscriber.requested else None),
                    subscriber.session_version,
                    subscriber.confirmed_at,
                    now,
                    subscriber.id,
                ),
            )
        return self.get_subscriber(subscriber.id)

    def set_public_name(self, subscriber_id: int, name: str | None, now: datetime) -> Subscriber:
        key = name_key(name) if name is not None else None
        try:
            with self._write() as conn:
                done = conn.execute(
                    "UPDATE subscribers SET public_name = %s, public_name_key = %s, "
                    "updated_at = %s WHERE id = %s",
                    (name, key, now, subscriber_id),
                )
        except unique_violation() as exc:
            raise NameTaken(name or "") from exc
        if done.rowcount == 0:
            raise SubscriberNotFound(subscriber_id)
        return self.get_subscriber(subscriber_id)

    def subscriber_by_public_name(self, name: str) -> Subscriber | None:
        with self._conn() as conn:
            row = conn.execute(
                f"SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE public_name_key = %s",
                (name_key(name),),
            ).fetchone()
        return subscriber_row(row) if row else None

    def log_consent(
        self, subscriber_id: int, now: datetime, ip: str | None, action: str, details: str
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO consent_log (subscriber_id, at, ip, action, details) "
                "VALUES (%s, %s, %s, %s, %s)",
                (subscriber_id, now, ip, action, details),
            )

    def consent_history(self, subscriber_id: int) -> list[tuple[datetime, str | None, str, str]]:
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT at, ip, action, details FROM consent_log WHERE subscriber_id = %s "
                "ORDER BY at, id",
                (subscriber_id,),
            ).fetchall()
        return [(_utc(r["at"]), r["ip"], r["action"], r["details"]) for r in rows]

    def spend_token(self, token: str, now: datetime) -> bool:
        """Record a single-use token as used; False when it had been used already."""
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO spent_tokens (token, spent_at) VALUES (%s, %s) "
                "ON CONFLICT (token) DO NOTHING",
                (token, now),
            )
            return bool(cursor.rowcount == 1)

    def token_spent(self, token: str) -> bool:
        with self._conn() as conn:
            row = conn.execute("SELECT 1 FROM spent_tokens WHERE token = %s", (token,)).fetchone()
        return row is not None

    def take_rate(self, bucket: str, now: datetime, window_s: float, limit: int) -> bool:
        """Count one event in `bucket` unless that would pass `limit` events per `window_s`
        (a leaky bucket: `limit` at once, then one per window/limit); False when limited.
        One statement decides and counts, so concurrent requests cannot both slip through."""
        if limit < 1:
            return False
        moment = now.timestamp()
        with self._write() as conn:
            # SKIP LOCKED: two requests sweeping at once neither wait for nor deadlock on
            # each other; a row one of them skips goes in a later sweep.
            conn.execute(
                "DELETE FROM rate_buckets WHERE bucket IN (SELECT bucket FROM rate_buckets "
                "WHERE at < %s FOR UPDATE SKIP LOCKED)",
                (moment - _IDLE_S,),
            )
            row = conn.execute(
                RATE_SQL,
                {
                    "bucket": bucket,
                    "at": moment,
                    "rate": float(limit) / float(window_s),
                    "limit": float(limit),
                },
            ).fetchone()
        return row is not None

    # -- the outgoing mail queue ---------------------------------------------------------

    def enqueue_mail(self, mail: OutgoingMail, now: datetime) -> int | None:
        """Queue a message; None when one with the same dedupe key is queued or sent already."""
        with self._write() as conn:
            return insert_mail(conn, mail, now)

    def claim_mail(self, now: datetime, limit: int, lease_s: float) -> list[QueuedMail]:
        """Take up to `limit` due messages for sending, held for `lease_s` seconds.

        One statement locks and leases the messages (skipping any another sender is taking),
        so two senders never take the same message; a sender killed mid-send lets go when its
        lease runs out.
        """
        if limit < 1:
            return []
        lease = now + timedelta(seconds=lease_s)
        with self._write() as conn:
            rows = conn.execute(CLAIM_SQL, {"lease": lease, "due": now, "limit": limit}).fetchall()
        return [
            QueuedMail(
                id=int(row["id"]),
                kind=row["kind"],
                recipient=row["recipient"],
                message_id=row["message_id"],
                data=bytes(row["data"]),
                subscriber_id=(
                    int(row["subscriber_id"]) if row["subscriber_id"] is not None else None
                ),
                attempts=int(row["attempts"]),
            )
            for row in rows
        ]

    def release_mail(self, mail_ids: Sequence[int]) -> None:
        """Give claimed messages back to the queue unsent (due at once)."""
        ids = [int(mail_id) for mail_id in mail_ids]
        if not ids:
            return
        with self._write() as conn:
            conn.execute(
                "UPDATE outgoing_mail SET status = 'queued', lease_until = NULL "
                "WHERE id = ANY(%s) AND status = 'sending'",
                (ids,),
            )

    def mail_sent(self, mail_id: int, now: datetime) -> None:
        """Delivered (whoever holds it now); the recipient's bounces in a row start over."""
        with self._write() as conn:
            conn.execute(
                "UPDATE outgoing_mail SET status = 'sent', sent_at = %s, lease_until = NULL, "
                "attempts = attempts + 1, last_error = NULL WHERE id = %s",
                (now, mail_id),
            )
            conn.execute(
                "UPDATE subscribers SET bounces = 0 WHERE bounces > 0 AND id = "
                "(SELECT subscriber_id FROM outgoing_mail WHERE id = %s)",
                (mail_id,),
            )

    def mail_deferred(self, mail_id: int, error: str, retry_at: datetime) -> bool:
        """A transient failure: back in the queue until `retry_at`. False (nothing changed)
        when the message is no longer being sent: another sender delivered it meanwhile."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE outgoing_mail SET status = 'queued', lease_until = NULL, "
                "attempts = attempts + 1, last_error = %s, next_attempt_at = %s "
                "WHERE id = %s AND status = 'sending'",
                (error[:500], retry_at, mail_id),
            )
            return cursor.rowcount > 0

    def mail_dropped(self, mail_id: int, status: str, error: str, now: datetime) -> bool:
        """A message that will not be sent: bounced (5xx) or to a suppressed address. False
        (nothing changed) when the message is no longer being sent."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE outgoing_mail SET status = %s, lease_until = NULL, last_error = %s, "
                "attempts = attempts + %s, sent_at = NULL WHERE id = %s AND status = 'sending'",
                (status, error[:500], 1 if status == "bounced" else 0, mail_id),
            )
            return cursor.rowcount > 0

    def record_bounce(self, subscriber_id: int, now: datetime, threshold: int) -> bool:
        """Count a hard bounce; True when it made the subscriber suppressed."""
        with self._write() as conn:
            row = conn.execute(
                "UPDATE subscribers SET bounces = bounces + 1, updated_at = %s, "
                "status = CASE WHEN bounces + 1 >= %s THEN 'suppressed' ELSE status END "
                "WHERE id = %s RETURNING status",
                (now, threshold, subscriber_id),
            ).fetchone()
        return row is not None and row["status"] == "suppressed"

    def prune_mail(self, before: datetime) -> int:
        """Drop the bytes of messages sent (or bounced, or suppressed) before `before`; their
        rows stay, for the record. Returns how many were dropped (0 while another process is
        pruning)."""
        with self._write() as conn:
            taken = conn.execute(
                "SELECT pg_try_advisory_xact_lock(%s) AS ok", (lock_key("prune-mail"),)
            ).fetchone()
            if not taken["ok"]:
                return 0
            cursor = conn.execute(
                "DELETE FROM outgoing_mail_data WHERE mail_id IN (SELECT id FROM outgoing_mail "
                "WHERE status IN ('sent', 'bounced', 'suppressed') AND coalesce(sent_at, "
                "created_at) < %s)",
                (before,),
            )
            return int(cursor.rowcount)

    def mail_status(self) -> MailStatus:
        status = MailStatus()
        with self._conn() as conn:
            for row in conn.execute(
                "SELECT status, count(*) AS n FROM outgoing_mail GROUP BY status ORDER BY status"
            ):
                status.counts[row["status"]] = int(row["n"])
            status.problems = [
                (int(r["id"]), r["recipient"], int(r["attempts"]), r["last_error"] or "")
                for r in conn.execute(
                    "SELECT id, recipient, attempts, last_error FROM outgoing_mail "
                    "WHERE last_error IS NOT NULL AND status IN ('queued', 'sending', 'bounced') "
                    "ORDER BY id DESC LIMIT 50"
                )
            ]
            # COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
            status.suppressed = [
                r["email"]
                for r in conn.execute(
                    "SELECT email FROM subscribers WHERE status = 'suppressed' "
                    'ORDER BY email COLLATE "C"'
                )
            ]
        return status
