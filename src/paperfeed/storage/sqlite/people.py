"""Subscribers, consent, spent tokens, rate limits and the outgoing mail queue."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

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
from paperfeed.storage.sqlite.database import Database
from paperfeed.storage.sqlite.rows import parse_datetime

SUBSCRIBER_COLUMNS = (
    "id, email, status, frequency, weekdays_only, topics, categories, max_papers, requested, "
    "bounces, session_version, created_at, confirmed_at, timezone, public_name"
)


# The bucket's level drains at :rate events a second since its last event; the update (and
# RETURNING) happens only while one more event fits under the limit.
RATE_SQL = (
    "INSERT INTO rate_buckets (bucket, level, at) VALUES (?1, 1, ?2) "
    "ON CONFLICT (bucket) DO UPDATE SET "
    "level = max(level - max(excluded.at - at, 0) * ?3, 0) + 1, at = max(excluded.at, at) "
    "WHERE max(level - max(excluded.at - at, 0) * ?3, 0) + 1 <= ?4 RETURNING level"
)


def queue_stamp(when: datetime) -> str:
    """A queue time to the millisecond (leases of a few seconds must not lose a second)."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def subscriber_row(row: sqlite3.Row) -> Subscriber:
    return Subscriber(
        id=int(row["id"]),
        email=row["email"],
        status=row["status"],
        preferences=Preferences(
            frequency=row["frequency"],
            weekdays_only=bool(row["weekdays_only"]),
            topics=tuple(json.loads(row["topics"])),
            categories=tuple(json.loads(row["categories"])),
            max_papers=int(row["max_papers"]),
            timezone=row["timezone"],
        ),
        requested=Preferences.from_dict(json.loads(row["requested"])) if row["requested"] else None,
        bounces=int(row["bounces"]),
        session_version=int(row["session_version"]),
        created_at=parse_datetime(row["created_at"]),
        confirmed_at=parse_datetime(row["confirmed_at"]),
        public_name=row["public_name"],
    )


def insert_mail(conn: sqlite3.Connection, mail: OutgoingMail, now: datetime) -> int | None:
    """Queue one message inside the caller's transaction; None if its dedupe key is taken."""
    cursor = conn.execute(
        "INSERT INTO outgoing_mail (dedupe_key, subscriber_id, kind, recipient, message_id, "
        "next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (dedupe_key) DO NOTHING",
        (
            mail.dedupe_key,
            mail.subscriber_id,
            mail.kind,
            mail.recipient,
            mail.message_id,
            queue_stamp(now),
            queue_stamp(now),
        ),
    )
    if cursor.rowcount != 1 or not cursor.lastrowid:
        return None
    conn.execute(
        "INSERT INTO outgoing_mail_data (mail_id, data) VALUES (?, ?)",
        (cursor.lastrowid, mail.data),
    )
    return int(cursor.lastrowid)


class PeopleQueries(Database):
    """Reads and writes for subscriptions, sign-in and mail delivery."""

    # -- subscribers ---------------------------------------------------------------------

    def subscriber_by_email(self, email: str) -> Subscriber | None:
        row = self.conn.execute(
            f"SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE email_key = ?",
            (address_key(email),),
        ).fetchone()
        return subscriber_row(row) if row else None

    def get_subscriber(self, subscriber_id: int) -> Subscriber:
        row = self.conn.execute(
            f"SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE id = ?", (subscriber_id,)
        ).fetchone()
        if row is None:
            raise SubscriberNotFound(subscriber_id)
        return subscriber_row(row)

    def create_subscriber(self, email: str, preferences: Preferences, now: datetime) -> Subscriber:
        """A new pending subscriber, or the existing one with that address (unchanged)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO subscribers (email, email_key, frequency, weekdays_only, topics, "
                "categories, max_papers, timezone, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    email,
                    address_key(email),
                    *_preference_values(preferences),
                    stamp(now),
                    stamp(now),
                ),
            )
        found = self.subscriber_by_email(email)
        if found is None:  # pragma: no cover - the row was just written
            raise SubscriberNotFound(email)
        return found

    def save_subscriber(self, subscriber: Subscriber, now: datetime) -> Subscriber:
        """Write a subscriber's status, preferences, confirmation and session version."""
        with self._write() as conn:
            conn.execute(
                "UPDATE subscribers SET status = ?, frequency = ?, weekdays_only = ?, topics = ?, "
                "categories = ?, max_papers = ?, timezone = ?, requested = ?, session_version = ?, "
                "confirmed_at = ?, updated_at = ? WHERE id = ?",
                (
                    subscriber.status,
                    *_preference_values(subscriber.preferences),
                    json.dumps(subscriber.requested.as_dict(), ensure_ascii=False)
                    if subscriber.requested
                    else None,
                    subscriber.session_version,
                    stamp(subscriber.confirmed_at) if subscriber.confirmed_at else None,
                    stamp(now),
                    subscriber.id,
                ),
            )
        return self.get_subscriber(subscriber.id)

    def set_public_name(self, subscriber_id: int, name: str | None, now: datetime) -> Subscriber:
        key = name_key(name) if name is not None else None
        try:
            with self._write() as conn:
                done = conn.execute(
                    "UPDATE subscribers SET public_name = ?, public_name_key = ?, updated_at = ? "
                    "WHERE id = ?",
                    (name, key, stamp(now), subscriber_id),
                )
        except sqlite3.IntegrityError as exc:
            raise NameTaken(name or "") from exc
        if done.rowcount == 0:
            raise SubscriberNotFound(subscriber_id)
        return self.get_subscriber(subscriber_id)

    def subscriber_by_public_name(self, name: str) -> Subscriber | None:
        row = self.conn.execute(
            f"SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE public_name_key = ?",
            (name_key(name),),
        ).fetchone()
        return subscriber_row(row) if row else None

    def log_consent(
        self, subscriber_id: int, now: datetime, ip: str | None, action: str, details: str
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO consent_log (subscriber_id, at, ip, action, details) "
                "VALUES (?, ?, ?, ?, ?)",
                (subscriber_id, stamp(now), ip, action, details),
            )

    def consent_history(self, subscriber_id: int) -> list[tuple[datetime, str | None, str, str]]:
        rows = self.conn.execute(
            "SELECT at, ip, action, details FROM consent_log WHERE subscriber_id = ? "
            "ORDER BY at, id",
            (subscriber_id,),
        )
        return [
            (parse_datetime(r["at"]) or datetime.min, r["ip"], r["action"], r["details"])
            for r in rows
        ]

    def spend_token(self, token: str, now: datetime) -> bool:
        """Record a single-use token as used; False when it had been used already."""
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO spent_tokens (token, spent_at) VALUES (?, ?) "
                "ON CONFLICT (token) DO NOTHING",
                (token, stamp(now)),
            )
            return cursor.rowcount == 1

    def token_spent(self, token: str) -> bool:
        row = self.conn.execute("SELECT 1 FROM spent_tokens WHERE token = ?", (token,)).fetchone()
        return row is not None

    def take_rate(self, bucket: str, now: datetime, window_s: float, limit: int) -> bool:
        """Count one event in `bucket` unless that would pass `limit` events per `window_s`
        (a leaky bucket: `limit` at once, then one per window/limit); False when limited.
        One statement decides and counts, so concurrent requests cannot both slip through."""
        if limit < 1:
            return False
        moment = now.timestamp()
        with self._write() as conn:
            conn.execute("DELETE FROM rate_buckets WHERE at < ?", (moment - 86_400,))
            row = conn.execute(RATE_SQL, (bucket, moment, limit / window_s, limit)).fetchone()
        return row is not None

    # -- the outgoing mail queue ---------------------------------------------------------

    def enqueue_mail(self, mail: OutgoingMail, now: datetime) -> int | None:
        """Queue a message; None when one with the same dedupe key is queued or sent already."""
        with self._write() as conn:
            return insert_mail(conn, mail, now)

    def claim_mail(self, now: datetime, limit: int, lease_s: float) -> list[QueuedMail]:
        """Take up to `limit` due messages for sending, held for `lease_s` seconds.

        Claiming happens in one write transaction, so two senders never take the same message;
        a sender killed mid-send lets go when its lease runs out.
        """
        due = queue_stamp(now)
        with self._write() as conn:
            ids = [
                int(row[0])
                for row in conn.execute(
                    "SELECT id FROM outgoing_mail INDEXED BY outgoing_mail_pending "
                    "WHERE status IN ('queued', 'sending') AND ("
                    "(status = 'queued' AND next_attempt_at <= ?) "
                    "OR (status = 'sending' AND lease_until <= ?)) ORDER BY id LIMIT ?",
                    (due, due, limit),
                )
            ]
            if not ids:
                return []
            lease = queue_stamp(now + timedelta(seconds=lease_s))
            conn.executemany(
                "UPDATE outgoing_mail SET status = 'sending', lease_until = ? WHERE id = ?",
                [(lease, mail_id) for mail_id in ids],
            )
            marks = ",".join("?" * len(ids))
            rows = conn.execute(
                "SELECT m.id, m.kind, m.recipient, m.message_id, d.data, m.subscriber_id, "
                "m.attempts FROM outgoing_mail m JOIN outgoing_mail_data d ON d.mail_id = m.id "
                f"WHERE m.id IN ({marks}) ORDER BY m.id",
                ids,
            ).fetchall()
        return [
            QueuedMail(
                id=int(row["id"]),
                kind=row["kind"],
                recipient=row["recipient"],
                message_id=row["message_id"],
                data=bytes(row["data"]),
                subscriber_id=row["subscriber_id"],
                attempts=int(row["attempts"]),
            )
            for row in rows
        ]

    def release_mail(self, mail_ids: Sequence[int]) -> None:
        """Give claimed messages back to the queue unsent (due at once)."""
        with self._write() as conn:
            conn.executemany(
                "UPDATE outgoing_mail SET status = 'queued', lease_until = NULL "
                "WHERE id = ? AND status = 'sending'",
                [(mail_id,) for mail_id in mail_ids],
            )

    def mail_sent(self, mail_id: int, now: datetime) -> None:
        """Delivered (whoever holds it now); the recipient's bounces in a row start over."""
        with self._write() as conn:
            conn.execute(
                "UPDATE outgoing_mail SET status = 'sent', sent_at = ?, lease_until = NULL, "
                "attempts = attempts + 1, last_error = NULL WHERE id = ?",
                (stamp(now), mail_id),
            )
            conn.execute(
                "UPDATE subscribers SET bounces = 0 WHERE bounces > 0 AND id = "
                "(SELECT subscriber_id FROM outgoing_mail WHERE id = ?)",
                (mail_id,),
            )

    def mail_deferred(self, mail_id: int, error: str, retry_at: datetime) -> bool:
        """A transient failure: back in the queue until `retry_at`. False (nothing changed)
        when the message is no longer being sent: another sender delivered it meanwhile."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE outgoing_mail SET status = 'queued', lease_until = NULL, "
                "attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
                "WHERE id = ? AND status = 'sending'",
                (error[:500], queue_stamp(retry_at), mail_id),
            )
            return cursor.rowcount > 0

    def mail_dropped(self, mail_id: int, status: str, error: str, now: datetime) -> bool:
        """A message that will not be sent: bounced (5xx) or to a suppressed address. False
        (nothing changed) when the message is no longer being sent."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE outgoing_mail SET status = ?, lease_until = NULL, last_error = ?, "
                "attempts = attempts + ?, sent_at = NULL WHERE id = ? AND status = 'sending'",
                (status, error[:500], 1 if status == "bounced" else 0, mail_id),
            )
            return cursor.rowcount > 0

    def record_bounce(self, subscriber_id: int, now: datetime, threshold: int) -> bool:
        """Count a hard bounce; True when it made the subscriber suppressed."""
        with self._write() as conn:
            conn.execute(
                "UPDATE subscribers SET bounces = bounces + 1, updated_at = ?, "
                "status = CASE WHEN bounces + 1 >= ? THEN 'suppressed' ELSE status END "
                "WHERE id = ?",
                (stamp(now), threshold, subscriber_id),
            )
            row = conn.execute(
                "SELECT status FROM subscribers WHERE id = ?", (subscriber_id,)
            ).fetchone()
        return bool(row) and row["status"] == "suppressed"

    def prune_mail(self, before: datetime) -> int:
        """Drop the bytes of messages sent (or bounced, or suppressed) before `before`; their
        rows stay, for the record. Returns how many were dropped."""
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM outgoing_mail_data WHERE mail_id IN (SELECT id FROM outgoing_mail "
                "WHERE status IN ('sent', 'bounced', 'suppressed') AND coalesce(sent_at, "
                "created_at) < ?)",
                (queue_stamp(before),),
            )
            return cursor.rowcount

    def mail_status(self) -> MailStatus:
        status = MailStatus()
        for row in self.conn.execute("SELECT status, count(*) FROM outgoing_mail GROUP BY status"):
            status.counts[row[0]] = int(row[1])
        status.problems = [
            (int(r["id"]), r["recipient"], int(r["attempts"]), r["last_error"] or "")
            for r in self.conn.execute(
                "SELECT id, recipient, attempts, last_error FROM outgoing_mail "
                "WHERE last_error IS NOT NULL AND status IN ('queued', 'sending', 'bounced') "
                "ORDER BY id DESC LIMIT 50"
            )
        ]
        status.suppressed = [
            r[0]
            for r in self.conn.execute(
                "SELECT email FROM subscribers WHERE status = 'suppressed' ORDER BY email"
            )
        ]
        return status


def _preference_values(preferences: Preferences) -> tuple[object, ...]:
    return (
        preferences.frequency,
        int(preferences.weekdays_only),
        json.dumps(list(preferences.topics), ensure_ascii=False),
        json.dumps(list(preferences.categories), ensure_ascii=False),
        preferences.max_papers,
        preferences.timezone,
    )
