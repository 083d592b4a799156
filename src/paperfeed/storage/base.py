"""The storage interface every backend implements, and the errors it raises."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Protocol

from paperfeed.models import (
    CatalogStats,
    DigestRecord,
    Featured,
    HarvestState,
    ListedPaper,
    MailStatus,
    OutgoingMail,
    Paper,
    Preferences,
    QueuedMail,
    SearchFilters,
    Subscriber,
    UpsertCounts,
)


class StorageError(Exception):
    """The database cannot be used (bad URL, unreadable file, failed migration)."""


class PaperNotFound(LookupError):
    """No paper has the requested id."""

    def __init__(self, paper_id: str) -> None:
        super().__init__(f"no paper with id {paper_id!r}")
        self.paper_id = paper_id


class SubscriberNotFound(LookupError):
    """No subscriber has that id or address."""

    def __init__(self, key: object) -> None:
        super().__init__(f"no subscriber {key!r}")


class Store(Protocol):
    """All reads and writes of paperfeed's data; only implementations of this write SQL."""

    def migrate(self) -> list[str]:
        """Apply pending schema migrations; return the names applied (none when up to date)."""
        ...

    def close(self) -> None: ...

    def upsert_papers(self, papers: Sequence[Paper]) -> UpsertCounts:
        """Insert or merge papers by id in one transaction (see merge.merge_paper)."""
        ...

    def upsert_featured(self, entries: Sequence[Featured]) -> int:
        """Record featured days; the latest observation of (paper, source, day) wins."""
        ...

    def get_paper(self, paper_id: str) -> Paper:
        """The paper with this id; raises PaperNotFound."""
        ...

    def get_papers(self, paper_ids: Iterable[str]) -> dict[str, Paper]:
        """The papers among `paper_ids` that exist, by id."""
        ...

    def upvotes_for(self, pks: Iterable[int]) -> dict[int, int]:
        """Upvotes by pk, for the papers that have any (the latest count seen)."""
        ...

    def featured_for(self, paper_id: str) -> list[Featured]:
        """Every day this paper was featured, oldest first."""
        ...

    def count_papers(self) -> int: ...

    def catalog_stats(self) -> CatalogStats: ...

    def get_harvest_state(self, key: str) -> HarvestState | None: ...

    def save_harvest_state(self, state: HarvestState) -> None: ...

    def instance_id(self) -> str:
        """A random id made with the database; an index built from another database differs."""
        ...

    def changed_papers(self, after: tuple[int, int], limit: int) -> list[tuple[int, int, Paper]]:
        """(rev, pk, paper) of papers written after `after` = (rev, pk), in that order."""
        ...

    def papers_by_pk(self, pks: Iterable[int]) -> dict[int, Paper]: ...

    def pks_for_ids(self, paper_ids: Iterable[str]) -> dict[str, int]: ...

    def filtered_pks(self, filters: SearchFilters) -> list[int]:
        """Every pk whose paper passes `filters`."""
        ...

    def papers_to_embed(
        self, model: str, after_pk: int, limit: int
    ) -> list[tuple[int, int, Paper, str | None]]:
        """(pk, rev, paper, stored content hash) of papers without a current vector."""
        ...

    def save_embeddings(
        self, model: str, rows: Sequence[tuple[int, int, str, bytes | None]]
    ) -> int:
        """Store (pk, paper rev, content hash, float16 vector or None if unchanged) rows."""
        ...

    def embeddings_since(
        self, model: str, after: tuple[int, int], limit: int
    ) -> list[tuple[int, int, bytes]]:
        """(rev, pk, float16 vector) stored after `after` = (rev, pk), in that order."""
        ...

    def count_embeddings(self, model: str) -> int: ...

    def listed_papers(
        self, since: date, until: date, order: str = "upvotes", limit: int = 50, offset: int = 0
    ) -> list[ListedPaper]:
        """Papers whose day (listed, else published) is in [since, until]; order is "upvotes"
        (then newest) or "date" (then most voted)."""
        ...

    def count_listed(self, since: date, until: date) -> int: ...

    def listed_by_pk(self, pks: Sequence[int]) -> dict[int, ListedPaper]: ...

    def day_before(self, day: date) -> date | None:
        """The last day before `day` that has papers."""
        ...

    def day_after(self, day: date) -> date | None:
        """The first day after `day` that has papers."""
        ...

    def latest_day(self) -> date | None: ...

    def newest_papers(self, before: tuple[date, int] | None, limit: int) -> list[ListedPaper]:
        """Newest day first, after the (day, pk) cursor when given."""
        ...

    # -- people and mail -----------------------------------------------------------------

    def subscriber_by_email(self, email: str) -> Subscriber | None: ...

    def get_subscriber(self, subscriber_id: int) -> Subscriber:
        """Raises SubscriberNotFound."""
        ...

    def create_subscriber(self, email: str, preferences: Preferences, now: datetime) -> Subscriber:
        """A new pending subscriber, or the existing one with that address, unchanged."""
        ...

    def save_subscriber(self, subscriber: Subscriber, now: datetime) -> Subscriber: ...

    def log_consent(
        self, subscriber_id: int, now: datetime, ip: str | None, action: str, details: str
    ) -> None: ...

    def consent_history(self, subscriber_id: int) -> list[tuple[datetime, str | None, str, str]]:
        """(time, IP, action, what was agreed) for one subscriber, oldest first."""
        ...

    def spend_token(self, token: str, now: datetime) -> bool:
        """Mark a single-use token used; False if it had been used before."""
        ...

    def take_rate(self, bucket: str, now: datetime, window_s: float, limit: int) -> bool:
        """Count an event unless `limit` already fell in the window; False when limited."""
        ...

    def enqueue_mail(self, mail: OutgoingMail, now: datetime) -> int | None:
        """Queue a message; None when its dedupe key was queued before."""
        ...

    def claim_mail(self, now: datetime, limit: int, lease_s: float) -> list[QueuedMail]:
        """Take due messages for sending (no other sender gets them while leased)."""
        ...

    def release_mail(self, mail_ids: Sequence[int]) -> None:
        """Put claimed messages back in the queue, unsent."""
        ...

    def mail_sent(self, mail_id: int, now: datetime) -> None: ...

    def mail_deferred(self, mail_id: int, error: str, retry_at: datetime) -> None: ...

    def mail_dropped(self, mail_id: int, status: str, error: str, now: datetime) -> None: ...

    def record_bounce(self, subscriber_id: int, now: datetime, threshold: int) -> bool:
        """Count a hard bounce; True when the subscriber is now suppressed."""
        ...

    def mail_status(self) -> MailStatus: ...

    def prune_mail(self, before: datetime) -> int:
        """Drop the bytes of messages done with before `before` (their rows stay)."""
        ...

    # -- votes and trending --------------------------------------------------------------

    def set_vote(self, subscriber_id: int, pk: int, on: bool, now: datetime) -> int:
        """Vote for a paper or take the vote back; its new upvote count. PaperNotFound."""
        ...

    def voted(self, subscriber_id: int, paper_ids: Iterable[str]) -> set[str]:
        """Which of `paper_ids` the subscriber voted for."""
        ...

    def trend_half_life(self) -> float: ...

    def set_trend_half_life(self, hours: float, force: bool = False) -> int:
        """Rank with this half-life (re-ranking every voted paper when it changes)."""
        ...

    def trending_papers(
        self, since: date, until: date, limit: int, offset: int = 0
    ) -> list[ListedPaper]:
        """Papers of days [since, until] by stored trending rank, then newest."""
        ...

    # -- digests -------------------------------------------------------------------------

    def active_subscribers(self) -> list[Subscriber]:
        """Confirmed subscribers whose digest is not paused."""
        ...

    def digested(self, period: str) -> set[int]:
        """Subscribers who have a digest for `period` already."""
        ...

    def papers_sent(self, paper_pks: Sequence[int]) -> dict[int, set[int]]:
        """Subscriber id -> which of `paper_pks` they were sent before."""
        ...

    def save_digests(self, records: Sequence[DigestRecord], now: datetime) -> int:
        """Save digests with their queued mail, skipping any (subscriber, period) saved
        before, all in one transaction; how many were new."""
        ...
