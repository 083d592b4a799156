"""The portable form of the tables a store copies to another: columns, keys and value kinds.

Every backend dumps its rows to this form and loads rows from it (storage/*/transfer.py), so
any store can be copied into any other, and a row's canonical encoding, hence a table's
checksum, is the same whichever backend holds it.

Value kinds, as Python values in the portable form:
  int, float, text, bool, bytes;
  time     an aware UTC datetime (SQLite keeps it to the second: `2026-06-25T17:59:00Z`);
  time_ms  the same, kept by SQLite to the millisecond (the mail queue compares them as text);
  date     a date;
  list     a list of str (SQLite: JSON text, PostgreSQL: text[]);
  json     a JSON value (SQLite: JSON text, PostgreSQL: jsonb).

What is not portable stays out: revisions (each backend numbers its own change feed, so the
target stamps every row it loads with a revision of its own), PostgreSQL's derived
`papers.day` and `embeddings.embedding`, the `instance` id (see migrate_store.py), embedding
claims (leases of embed runs under way) and schema_migrations.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any

Row = tuple[Any, ...]
Key = tuple[Any, ...]

KINDS = ("int", "float", "text", "bool", "bytes", "time", "time_ms", "date", "list", "json")


@dataclass(frozen=True)
class Table:
    """One table as it travels: its columns (name, kind) in order, and its primary key."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    # Rows of the table that stay behind, as SQL both backends understand.
    where: str = ""
    # At most this many rows a batch (big rows: a message is ~30 KB).
    max_batch: int | None = None
    # Copied rows replace the target's own with the same key (a new store writes some meta
    # itself), and what the target held before does not count as other data.
    replace: bool = False

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    @cached_property
    def kinds(self) -> tuple[str, ...]:
        return tuple(kind for _, kind in self.columns)

    def key_kinds(self) -> tuple[str, ...]:
        kinds = dict(self.columns)
        return tuple(kinds[name] for name in self.key)

    def key_of(self, row: Row) -> Key:
        positions = [self.names.index(name) for name in self.key]
        return tuple(row[i] for i in positions)


def _table(name: str, key: str, columns: str, **options: Any) -> Table:
    """A Table from "name:kind, ..." text (kind text when left out)."""
    pairs = []
    for item in columns.split(","):
        column, _, kind = item.strip().partition(":")
        pairs.append((column, kind or "text"))
    return Table(name, tuple(pairs), tuple(key.split(",")), **options)


# In copy order: a table comes after every table its foreign keys point at.
TABLES: tuple[Table, ...] = (
    _table("meta", "key", "key, value", where="key <> 'instance'", replace=True),
    _table(
        "papers",
        "pk",
        "pk:int, id, version:int, title, abstract, authors:list, categories:list, "
        "published:time, updated:time, listed:date, comment, doi, journal_ref, license, source, "
        "upvotes:int, trend_key:float, created_at:time, modified_at:time, code_url, project_url",
    ),
    _table("paper_categories", "paper_pk,category", "paper_pk:int, category, position:int"),
    _table(
        "featured",
        "paper_pk,source,day",
        "paper_pk:int, source, day:date, upvotes:int, num_comments:int, submitted_by, "
        "observed_at:time",
    ),
    _table(
        "harvests",
        "key",
        "key, params:json, resumption_token, pages:int, records:int, completed_until:date, "
        "updated_at:time",
    ),
    # `current`: the vector was made from the paper as it is now (not waiting to be redone);
    # each backend turns it into its own paper_rev.
    _table(
        "embeddings",
        "model,paper_pk",
        "model, paper_pk:int, content_hash, vector:bytes, current:bool",
    ),
    # `content_hash` is the embedding's: keyphrases of a changed text are made again.
    _table(
        "paper_keywords",
        "paper_pk",
        "paper_pk:int, keywords:list, method, content_hash",
    ),
    _table(
        "subscribers",
        "id",
        "id:int, email, email_key, status, frequency, weekdays_only:bool, topics:list, "
        "categories:list, max_papers:int, timezone, requested:json, bounces:int, "
        "session_version:int, created_at:time, confirmed_at:time, updated_at:time, public_name, "
        "public_name_key",
    ),
    _table("consent_log", "id", "id:int, subscriber_id:int, at:time, ip, action, details"),
    _table("spent_tokens", "token", "token, spent_at:time"),
    _table("rate_buckets", "bucket", "bucket, level:float, at:float"),
    _table(
        "outgoing_mail",
        "id",
        "id:int, dedupe_key, subscriber_id:int, kind, recipient, message_id, status, "
        "attempts:int, next_attempt_at:time_ms, lease_until:time_ms, last_error, "
        "created_at:time_ms, sent_at:time",
    ),
    _table("outgoing_mail_data", "mail_id", "mail_id:int, data:bytes", max_batch=200),
    _table("votes", "subscriber_id,paper_pk", "subscriber_id:int, paper_pk:int, created_at:time"),
    _table(
        "digests",
        "subscriber_id,period",
        "subscriber_id:int, period, message_id, papers:int, created_at:time",
    ),
    _table("digest_papers", "subscriber_id,paper_pk", "subscriber_id:int, paper_pk:int, period"),
    _table(
        "collections",
        "id",
        "id:int, owner_id:int, name, name_key, is_reading_list:bool, share_token, created_at:time",
    ),
    _table(
        "collection_entries",
        "collection_id,paper_pk",
        "collection_id:int, paper_pk:int, added_at:time_ms",
    ),
    _table("paper_notes", "owner_id,paper_pk", "owner_id:int, paper_pk:int, text, updated_at:time"),
    _table("papers_read", "owner_id,paper_pk", "owner_id:int, paper_pk:int, read_at:time"),
    _table(
        "papers_dismissed", "owner_id,paper_pk", "owner_id:int, paper_pk:int, dismissed_at:time"
    ),
    _table("follows", "owner_id,kind,value", "owner_id:int, kind, value, created_at:time_ms"),
    _table("feed_tokens", "owner_id", "owner_id:int, digest"),
    _table(
        "hidden_items",
        "kind,item_key",
        "kind, item_key, hidden_by:int, reason, hidden_at:time",
    ),
    _table(
        "thumbnails",
        "paper_pk",
        "paper_pk:int, status, mime_type, width:int, height:int, image:bytes, digest, "
        "pdf_bytes:int, error, attempts:int, fetched_at:time, retry_at:time",
        max_batch=200,
    ),
    # A reply comes after its top comment (ids grow), so rows copied in key order keep
    # every parent_id pointing at a row already there.
    _table(
        "comments",
        "id",
        "id:int, paper_pk:int, author_id:int, parent_id:int, body, created_at:time, "
        "edited_at:time, deleted_at:time",
    ),
    _table(
        "discussion_follows",
        "subscriber_id,paper_pk",
        "subscriber_id:int, paper_pk:int, mail:bool, mailed_through:int, last_mailed_at:time, "
        "since:time",
    ),
    _table(
        "submissions", "paper_pk", "paper_pk:int, subscriber_id:int, day:date, submitted_at:time"
    ),
)
TABLE_NAMES = tuple(table.name for table in TABLES)
# Tables whose integer key is handed out by the database (sequences to move on after a load).
GENERATED_KEYS = {
    "papers": "pk",
    "subscribers": "id",
    "consent_log": "id",
    "outgoing_mail": "id",
    "collections": "id",
    "comments": "id",
}


def table(name: str) -> Table:
    for candidate in TABLES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no portable table {name!r}")


@dataclass(frozen=True)
class ImportProgress:
    """How far the copy of one table into a store has got, recorded in that store."""

    source: str  # the instance id of the store copied from
    after: Key | None  # the key of the last row copied (None: none yet)
    rows: int  # rows copied so far
    done: bool = False


# -- canonical form ---------------------------------------------------------------------------


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def microseconds(value: datetime) -> int:
    """A moment as whole microseconds since 1970 UTC (a datetime without zone is UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _MICROSECOND


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# Each kind's canonical value (text is as it is).
_CANONICAL: dict[str, Callable[[Any], Any]] = {
    "time": microseconds,
    "time_ms": microseconds,
    "date": lambda value: value.isoformat(),
    "bytes": lambda value: bytes(value).hex(),
    "bool": bool,
    "float": float,
    "int": int,
    "list": lambda value: [str(item) for item in value],
    "json": _json_text,
}


def row_digest(spec: Table, row: Row) -> bytes:
    """SHA-256 of the row's canonical encoding: JSON of its values in column order, with
    times as microseconds since 1970 UTC, dates as YYYY-MM-DD, bytes as hex, booleans as
    true/false, and JSON values as JSON text with sorted keys."""
    return _digests(spec, [row])[0]


def _digests(spec: Table, rows: list[Row]) -> list[bytes]:
    converts = [_CANONICAL.get(kind) for kind in spec.kinds]
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    out = []
    for row in rows:
        values = [
            value if value is None or convert is None else convert(value)
            for convert, value in zip(converts, row, strict=True)
        ]
        out.append(hashlib.sha256(encode(values).encode("utf-8")).digest())
    return out


class Checksum:
    """An order-independent checksum of a table's rows: the sum of their digests modulo
    2**256. Each backend can read its rows in its own key order (text keys sort by the
    database's collation, which differs between backends), and equal sets of rows still give
    equal sums; a sum, unlike XOR, does not cancel a row that appears twice."""

    _MODULUS = 1 << 256

    def __init__(self, spec: Table) -> None:
        self.spec = spec
        self.rows = 0
        self._total = 0

    def add(self, rows: list[Row]) -> None:
        total = self._total
        for digest in _digests(self.spec, rows):
            total += int.from_bytes(digest, "big")
        self._total = total % self._MODULUS
        self.rows += len(rows)

    def hexdigest(self) -> str:
        return f"{self._total:064x}"


# -- keys as text, for the progress record ------------------------------------------------------


def key_to_text(spec: Table, key: Key | None) -> str | None:
    """A key (of int, text and date values) as JSON text, and back."""
    if key is None:
        return None
    return json.dumps(
        [value.isoformat() if isinstance(value, date) else value for value in key],
        ensure_ascii=False,
    )


def key_from_text(spec: Table, text: str | None) -> Key | None:
    if text is None:
        return None
    values = json.loads(text)
    return tuple(
        date.fromisoformat(value) if kind == "date" and value is not None else value
        for kind, value in zip(spec.key_kinds(), values, strict=True)
    )
