"""The storage contract every backend honours (by domain), and the errors it raises.

Each consumer depends on the narrowest protocol it uses (listings on Listings, the mailer on
MailQueue and People, ...); `Store` is all of them, which is what open_store returns.

Units of work: every method is atomic on its own. An operation that spans several writes runs
them inside `with store.transaction():`, on one thread: every call on that thread joins it,
reads included, and it commits at the end of the block or rolls back on an exception.
Nested `transaction()` blocks join the outer one.

Derived files (search indexes, the mail outbox, a generated secret key) never live in the
database: config.files_dir(settings) says where, one rule for every backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Protocol

import numpy as np

from paperfeed.models import (
    CatalogStats,
    Collection,
    Comment,
    DigestRecord,
    DiscussionMail,
    Featured,
    Follow,
    HarvestState,
    HiddenItem,
    LibraryEntry,
    ListedPaper,
    MailStatus,
    OutgoingMail,
    Paper,
    Preferences,
    QueuedMail,
    SearchFilters,
    Submission,
    Subscriber,
    Thumbnail,
    ThumbnailTask,
    UpsertCounts,
)
from paperfeed.storage.errors import (  # noqa: F401 - re-exported
    AlreadySubmitted,
    CollectionNotFound,
    PaperNotFound,
    StorageError,
    SubmissionLimit,
    SubscriberNotFound,
)
from paperfeed.storage.portable import ImportProgress, Key, Row


class Catalog(Protocol):
    """The papers themselves and the days they were featured."""

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

    def papers_by_pk(self, pks: Iterable[int]) -> dict[int, Paper]: ...

    def pks_for_ids(self, paper_ids: Iterable[str]) -> dict[str, int]: ...

    def filtered_pks(self, filters: SearchFilters) -> list[int]:
        """Every pk whose paper passes `filters` (their categories and days: authors are the
        keyword index's to filter, KeywordIndex.filter_queries)."""
        ...


class Harvests(Protocol):
    """Where each resumable harvest stands."""

    def get_harvest_state(self, key: str) -> HarvestState | None: ...

    def save_harvest_state(self, state: HarvestState) -> None: ...


class ChangeFeed(Protocol):
    """What the search indexes follow to catch up with the catalog.

    The contract: a reader that asks for everything after the last (rev, pk) it was given, and
    keeps asking, sees every committed change, whatever order transactions commit in. A
    transaction that took its revision first and commits last is not skipped: a backend with
    concurrent writers hands a change out only once no transaction that could still commit an
    earlier revision is open (PostgreSQL: revisions are transaction ids, served below the
    oldest transaction still running); SQLite serialises writers, so revisions commit in order.
    Each paper (or vector) appears with its latest revision only: a reader sees its newest
    state, not every step.
    """

    def instance_id(self) -> str:
        """A random id made with the database; an index built from another database differs."""
        ...

    def changed_papers(self, after: tuple[int, int], limit: int) -> list[tuple[int, int, Paper]]:
        """(rev, pk, paper) of papers written after `after` = (rev, pk), in that order."""
        ...

    def embeddings_since(
        self, model: str, after: tuple[int, int], limit: int
    ) -> list[tuple[int, int, bytes]]:
        """(rev, pk, float16 vector) stored after `after` = (rev, pk), in that order."""
        ...


class Embeddings(Protocol):
    """Vectors of the papers' text, by model."""

    def papers_to_embed(
        self, model: str, after_pk: int, limit: int
    ) -> list[tuple[int, int, Paper, str | None]]:
        """(pk, rev, paper, stored content hash) of papers without a current vector."""
        ...

    def claim_papers_to_embed(
        self, model: str, limit: int, lease_seconds: float
    ) -> list[tuple[int, int, Paper, str | None]]:
        """Up to `limit` papers without a current vector that no other run has a live claim
        on, claimed for `lease_seconds`: runs side by side (processes, machines) never get
        the same paper; a claim ends when its vectors are saved, released, or the lease ends
        (so a killed run's papers go to the next)."""
        ...

    def release_embed_claims(self, model: str, pks: Iterable[int]) -> None:
        """Let go of claims without saving (a run that stops early)."""
        ...

    def claimed_elsewhere(self, model: str) -> int:
        """How many papers runs hold live claims on."""
        ...

    def save_embeddings(
        self, model: str, rows: Sequence[tuple[int, int, str, bytes | None]]
    ) -> int:
        """Store (pk, paper rev, content hash, float16 vector or None if unchanged) rows."""
        ...

    def count_embeddings(self, model: str) -> int: ...


class Keywords(Protocol):
    """A few keyphrases per paper (keywords/job.py), with what they were made from: the
    picking `method` (embedding model and version) and the content hash of the text, the
    embedding's. Cards show them, so writes move list_version."""

    def papers_for_keywords(
        self, model: str, method: str, after_pk: int, limit: int
    ) -> list[tuple[int, str, Paper, bytes]]:
        """(pk, content hash, paper, float16 vector) of papers after `after_pk`, in pk order,
        with a current vector from `model` and no keyphrases made by `method` from that
        text (none yet, another method's, or an older text's)."""
        ...

    def save_keywords(self, method: str, rows: Sequence[tuple[int, str, Sequence[str]]]) -> int:
        """Store (pk, content hash, phrases) rows in one transaction, replacing what the
        papers had; rows of papers that no longer exist are skipped. How many were stored."""
        ...

    def keywords_for_ids(self, paper_ids: Iterable[str]) -> dict[str, list[str]]:
        """The stored phrases of the papers among `paper_ids` that have any, by id."""
        ...

    def stored_keywords(
        self, method: str, after_pk: int, limit: int
    ) -> list[tuple[int, str, str, list[str]]]:
        """(pk, paper id, content hash, phrases) of the keyphrases made by `method`, in pk
        order after `after_pk` (to write them to a file)."""
        ...

    def count_keywords(self, method: str) -> int:
        """How many papers have keyphrases made by `method`."""
        ...


class SharedVectors(Protocol):
    """An HNSW index of the vectors inside the database, shared by every process: an
    optional part of the contract (PostgreSQL with pgvector offers it)."""

    def count_embeddings(self, model: str) -> int: ...

    def shared_vector_index_ready(self, model: str, dimensions: int) -> bool: ...

    def build_shared_vector_index(self, model: str, dimensions: int) -> bool: ...

    def nearest_vectors(
        self,
        model: str,
        dimensions: int,
        query: np.ndarray,
        limit: int,
        allowed: list[int] | None = None,
        exclude: int | None = None,
        ef_search: int = 100,
    ) -> list[tuple[int, float]]: ...

    def vectors_of(self, model: str, pks: Iterable[int]) -> dict[int, bytes]: ...


class Secrets(Protocol):
    """A secret made once for the whole deployment, shared by every process that opens it."""

    def shared_secret(self, candidate: str) -> str:
        """The database's signing key: the stored one, or `candidate`, stored now (when two
        processes race, both get the one stored first)."""
        ...


class Listings(Protocol):
    """The lists readers browse: a range of days, newest first, trending."""

    def listed_papers(
        self,
        since: date,
        until: date,
        order: str = "upvotes",
        limit: int = 50,
        offset: int = 0,
        has_code: bool = False,
    ) -> list[ListedPaper]:
        """Papers whose day (listed, else published) is in [since, until]; order is "upvotes"
        (then newest) or "date" (then most voted); with `has_code` only papers whose text
        links to their code. Lists (these, count_listed, newest_papers, trending_papers)
        leave out papers an operator hid."""
        ...

    def count_listed(self, since: date, until: date, has_code: bool = False) -> int: ...

    def listed_by_pk(self, pks: Sequence[int]) -> dict[int, ListedPaper]:
        """The papers of `pks` as lists show them; hidden papers are not among them (search
        hits, "for you", author pages and feeds are read through this)."""
        ...

    def day_before(self, day: date) -> date | None:
        """The last day before `day` that has papers."""
        ...

    def day_after(self, day: date) -> date | None:
        """The first day after `day` that has papers."""
        ...

    def latest_day(self) -> date | None: ...

    def list_version(self) -> int:
        """A number that grows with every committed write a list could show (papers, their
        upvotes and trending ranks, featured days), whichever process made it: what is built
        from lists stays good while it stands still. Read it before what it guards."""
        ...

    def newest_papers(self, before: tuple[date, int] | None, limit: int) -> list[ListedPaper]:
        """Newest day first, after the (day, pk) cursor when given."""
        ...

    def trending_papers(
        self, since: date, until: date, limit: int, offset: int = 0, has_code: bool = False
    ) -> list[ListedPaper]:
        """Papers of days [since, until] by stored trending rank, then newest."""
        ...


class People(Protocol):
    """Subscribers, consent, single-use tokens and rate limits."""

    def subscriber_by_email(self, email: str) -> Subscriber | None: ...

    def get_subscriber(self, subscriber_id: int) -> Subscriber:
        """Raises SubscriberNotFound."""
        ...

    def create_subscriber(self, email: str, preferences: Preferences, now: datetime) -> Subscriber:
        """A new pending subscriber, or the existing one with that address, unchanged."""
        ...

    def save_subscriber(self, subscriber: Subscriber, now: datetime) -> Subscriber: ...

    def set_public_name(self, subscriber_id: int, name: str | None, now: datetime) -> Subscriber:
        """Give the subscriber the public name `name` (checked by people/names.py), or take it
        away (None). NameTaken when another subscriber has it; SubscriberNotFound."""
        ...

    def subscriber_by_public_name(self, name: str) -> Subscriber | None:
        """The subscriber with that public name, compared case-insensitively."""
        ...

    def log_consent(
        self, subscriber_id: int, now: datetime, ip: str | None, action: str, details: str
    ) -> None: ...

    def consent_history(self, subscriber_id: int) -> list[tuple[datetime, str | None, str, str]]:
        """(time, IP, action, what was agreed) for one subscriber, oldest first."""
        ...

    def spend_token(self, token: str, now: datetime) -> bool:
        """Mark a single-use token used; False if it had been used before."""
        ...

    def token_spent(self, token: str) -> bool:
        """Whether `token` was spent (a used link, an ended session)."""
        ...

    def take_rate(self, bucket: str, now: datetime, window_s: float, limit: int) -> bool:
        """Count an event unless `limit` already fell in the window; False when limited."""
        ...


class MailQueue(Protocol):
    """The outgoing mail queue, shared by every sender."""

    def enqueue_mail(self, mail: OutgoingMail, now: datetime) -> int | None:
        """Queue a message; None when its dedupe key was queued before."""
        ...

    def claim_mail(self, now: datetime, limit: int, lease_s: float) -> list[QueuedMail]:
        """Take due messages for sending (no other sender gets them while leased)."""
        ...

    def release_mail(self, mail_ids: Sequence[int]) -> None:
        """Put claimed messages back in the queue, unsent."""
        ...

    def mail_sent(self, mail_id: int, now: datetime) -> None:
        """Delivered, whoever holds the message now; the recipient's bounce count (bounces
        in a row) goes back to 0."""
        ...

    def mail_deferred(self, mail_id: int, error: str, retry_at: datetime) -> bool:
        """Back in the queue until `retry_at`, unless the message is no longer being sent
        (a sender whose lease ran out reports late): then False, and nothing changes."""
        ...

    def mail_dropped(self, mail_id: int, status: str, error: str, now: datetime) -> bool:
        """Given up (bounced, suppressed), unless no longer being sent: then False."""
        ...

    def record_bounce(self, subscriber_id: int, now: datetime, threshold: int) -> bool:
        """Count a hard bounce; True when the subscriber is now suppressed."""
        ...

    def mail_status(self) -> MailStatus: ...

    def prune_mail(self, before: datetime) -> int:
        """Drop the bytes of messages done with before `before` (their rows stay)."""
        ...


class Votes(Protocol):
    """Local votes and the stored trending rank."""

    def set_vote(self, subscriber_id: int, pk: int, on: bool, now: datetime) -> int:
        """Vote for a paper or take the vote back; its new upvote count. PaperNotFound."""
        ...

    def voted(self, subscriber_id: int, paper_ids: Iterable[str]) -> set[str]:
        """Which of `paper_ids` the subscriber voted for."""
        ...

    def voted_pks(self, subscriber_id: int) -> set[int]:
        """Every paper the subscriber voted for (what "for you" learns from, with the saved)."""
        ...

    def trend_half_life(self) -> float: ...

    def set_trend_half_life(self, hours: float, force: bool = False) -> int:
        """Rank with this half-life (re-ranking every voted paper when it changes)."""
        ...


class Digests(Protocol):
    """Who is due a digest, what they were sent, and saving composed digests."""

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


class Library(Protocol):
    """A reader's own papers: collections (the reading list first), notes, what was read or
    dismissed, follows and the private feed's token. Readers are subscribers (an account is
    one who signed in); papers are pks. Names, notes and follows are checked as
    storage/library.py says (ValueError). Nothing here moves list_version.

    Methods taking a reader or a paper that does not exist raise SubscriberNotFound or
    PaperNotFound (writing nothing); a collection id that does not exist, CollectionNotFound.
    Whose a collection is, is the caller's to check (Collection.owner_id)."""

    def reading_list(self, owner_id: int, now: datetime) -> Collection:
        """The reader's reading list, made now if they have none (again if they deleted it)."""
        ...

    def create_collection(self, owner_id: int, name: str, now: datetime) -> Collection:
        """A new collection, or the reader's existing one of that name (names are the same
        when they match trimmed and ignoring case: "Reading list" is the reading list)."""
        ...

    def collections_of(self, owner_id: int) -> list[Collection]:
        """The reader's collections with their sizes: the reading list, then oldest first."""
        ...

    def get_collection(self, collection_id: int) -> Collection: ...

    def rename_collection(self, collection_id: int, name: str) -> Collection:
        """ValueError when the reader has another collection of that name."""
        ...

    def delete_collection(self, collection_id: int) -> bool:
        """Delete a collection and its entries (notes stay); False when there was none."""
        ...

    def share_collection(self, collection_id: int, token: str | None) -> Collection:
        """Share a collection under `token` (made by the caller), or make it private again
        with None; ValueError when another collection has that token."""
        ...

    def collection_by_share_token(self, token: str) -> Collection | None: ...

    def save_papers(self, collection_id: int, pks: Sequence[int], now: datetime) -> int:
        """Add papers to a collection; how many were not in it already. All or nothing."""
        ...

    def remove_paper(self, collection_id: int, pk: int) -> bool:
        """Take a paper out of a collection; False when it was not in it."""
        ...

    def collection_entries(
        self, collection_id: int, limit: int = 50, offset: int = 0
    ) -> list[LibraryEntry]:
        """A collection's papers, the newest saved first, with the owner's notes on them."""
        ...

    def saved_in(self, owner_id: int, pks: Iterable[int]) -> dict[int, set[int]]:
        """pk -> ids of the reader's collections holding it (for the pks saved anywhere)."""
        ...

    def saved_pks(self, owner_id: int) -> set[int]:
        """Every paper in any of the reader's collections."""
        ...

    def set_note(self, owner_id: int, pk: int, text: str | None, now: datetime) -> None:
        """The reader's note on a paper (one each, in no collection); None or blank deletes
        it."""
        ...

    def notes_for(self, owner_id: int, pks: Iterable[int]) -> dict[int, str]: ...

    def mark_read(self, owner_id: int, pk: int, read: bool, now: datetime) -> None: ...

    def read_pks(self, owner_id: int) -> set[int]: ...

    def dismiss(self, owner_id: int, pk: int, on: bool, now: datetime) -> None:
        """Mark a paper "not interested" (on), or take that back."""
        ...

    def dismissed_pks(self, owner_id: int) -> set[int]: ...

    def follow(self, owner_id: int, kind: str, value: str, now: datetime) -> bool:
        """Follow an author, a category or a search (`kind`); False when followed already."""
        ...

    def unfollow(self, owner_id: int, kind: str, value: str) -> bool:
        """Stop following; False when not followed."""
        ...

    def follows_of(self, owner_id: int) -> list[Follow]:
        """What the reader follows, oldest first."""
        ...

    def followers_of(self, kind: str, value: str) -> list[int]:
        """The readers following this author, category or search, by id."""
        ...

    def feed_token(self, owner_id: int) -> str | None:
        """The digest (library.token_digest) of the reader's private feed token: the token
        itself is never stored, so show it when made. None: no private feed."""
        ...

    def set_feed_token(self, owner_id: int, token: str | None) -> None:
        """Give the reader a new private feed token (the old one stops working), or none;
        ValueError when another reader has that token."""
        ...

    def owner_of_feed_token(self, token: str) -> int | None:
        """The reader whose private feed token this is."""
        ...


class Moderation(Protocol):
    """What operators hid (moderation.py): comments, papers and readers, kept with who hid
    them, why and when, and shown again when unhidden."""

    def hide(self, kind: str, key: str, by_id: int | None, reason: str, now: datetime) -> bool:
        """Hide one thing (kind comment, paper or reader; key as moderation.hidden_key); False
        when it was hidden already (the first hiding's record stays). ValueError for a bad
        kind, key or reason."""
        ...

    def unhide(self, kind: str, key: str) -> bool:
        """Show it again; False when it was not hidden."""
        ...

    def hidden_keys(self, kind: str) -> set[str]:
        """The keys of everything of `kind` hidden now."""
        ...

    def hidden_items(self, limit: int = 500) -> list[HiddenItem]:
        """What is hidden, most recently hidden first."""
        ...


class Thumbnails(Protocol):
    """First-page images of papers' PDFs, made by the thumbnails job (paperfeed/thumbnails/).

    A paper has no row until the job tries it, then one: 'ok' with its image, or 'failed' with
    the error, how many fetches failed and when it is due again (None: never). A thumbnail
    saved, replaced or removed moves list_version (cards show them); failures do not."""

    def papers_needing_thumbnails(self, now: datetime, limit: int) -> list[ThumbnailTask]:
        """Up to `limit` papers: first those never tried, newest day first, then failed ones
        due again by `now`, the longest due first."""
        ...

    def save_thumbnail(self, pk: int, thumbnail: Thumbnail, pdf_bytes: int, now: datetime) -> None:
        """Store a paper's thumbnail (replacing what it had); PaperNotFound."""
        ...

    def thumbnail_failed(
        self, pk: int, error: str, attempts: int, retry_at: datetime | None, now: datetime
    ) -> None:
        """Record a failed try (`attempts` so far, due again at `retry_at`, or never); an 'ok'
        thumbnail already stored is kept as it is. PaperNotFound."""
        ...

    def thumbnails_for(self, paper_ids: Iterable[str]) -> dict[str, Thumbnail]:
        """The thumbnails of those of `paper_ids` that have one, by id, without their bytes."""
        ...

    def get_thumbnail(self, paper_id: str) -> Thumbnail | None:
        """A paper's thumbnail with its bytes, if it has one."""
        ...

    def thumbnail_counts(self) -> dict[str, int]:
        """How many rows of each status there are ('ok', 'failed'; 'given up' are failed with
        no retry)."""
        ...


class Discussions(Protocol):
    """Each paper's discussion: comments with one level of replies, edited and deleted by their
    authors only, and the participants who asked for mail about new comments (discussion/)."""

    def add_comment(
        self, paper_pk: int, author_id: int, parent_id: int | None, text: str, now: datetime
    ) -> Comment:
        """A new comment (a reply when `parent_id` is given). A reply to a reply joins the
        top comment's replies; CommentNotFound for a parent not in this paper's discussion
        (or deleted), PaperNotFound / SubscriberNotFound, ValueError for empty text."""
        ...

    def edit_comment(self, comment_id: int, author_id: int, text: str, now: datetime) -> Comment:
        """The author's new text (edited_at set); CommentNotFound unless it is theirs and
        not deleted."""
        ...

    def delete_comment(self, comment_id: int, author_id: int, now: datetime) -> None:
        """Delete the author's comment: one with replies stays as "deleted" (its text gone) so
        they keep their place, any other goes (and a deleted top comment left without
        replies with it); CommentNotFound unless it is theirs."""
        ...

    def get_comment(self, comment_id: int) -> Comment:
        """One comment (hidden and deleted ones too); CommentNotFound."""
        ...

    def comments_of(self, paper_pk: int) -> list[Comment]:
        """A paper's comments, oldest first, hidden and deleted ones included (marked): the
        caller leaves out what the viewer may not see. Listed papers' `num_comments` counts
        the visible ones."""
        ...

    def set_discussion_mail(
        self, subscriber_id: int, paper_pk: int, on: bool, now: datetime
    ) -> None:
        """Mail about new comments in a paper's discussion, or no more (opt-in; turning it on
        counts only comments from now on)."""
        ...

    def discussion_mail_on(self, subscriber_id: int, paper_pk: int) -> bool:
        """Whether the reader asked for mail about this discussion."""
        ...

    def discussion_mail_due(self, now: datetime, every_s: float) -> list[DiscussionMail]:
        """Participants with new visible comments by others since their last mail, last
        mailed at least `every_s` ago (or never), by subscriber and paper."""
        ...

    def record_discussion_mail(
        self, subscriber_id: int, paper_pk: int, through_id: int, mail: OutgoingMail, now: datetime
    ) -> bool:
        """In one transaction: note the comments up to `through_id` as mailed and queue `mail`;
        False (nothing queued) when they were mailed already or mail was turned off."""


class Submissions(Protocol):
    """Papers readers submit to the day's list (submissions.py), once per paper, a limited
    number per reader and UTC day. A submission also features the paper (source "paperfeed")
    on its day, so lists and the API say who submitted it and when; the submitter's public
    name is read when a list is, so a renamed reader shows their new name. Submissions and a
    reader's rename move list_version."""

    def submit_paper(
        self, paper_id: str, subscriber_id: int, now: datetime, per_day: int
    ) -> Submission:
        """Record that the reader submits the paper on now's UTC day, in one transaction with
        the count of their submissions that day. AlreadySubmitted when the paper was submitted
        before (by anyone, also by a submit racing this one: the database keeps one);
        SubmissionLimit when the reader has `per_day` that day; PaperNotFound;
        SubscriberNotFound. Nothing is written when it raises."""
        ...

    def submission_of(self, paper_id: str) -> Submission | None:
        """Who submitted the paper, and when; None when nobody did (or no such paper)."""
        ...

    def submissions_on(self, subscriber_id: int, day: date) -> int:
        """How many papers the reader submitted on that UTC day."""
        ...

    def submitted_papers(
        self,
        submitter: str,
        since: date | None = None,
        until: date | None = None,
        limit: int = 50,
        offset: int = 0,
        imported: bool = True,
    ) -> list[ListedPaper]:
        """The papers whose shown submitter (ListedPaper.submitter) is `submitter`: a reader's
        public name (any case) for what they submitted here, and (unless not `imported`) a
        name imported from Hugging Face (as spelled) for papers no reader here submitted;
        with since/until, only papers whose day is in that range. Newest day first, then most
        voted."""
        ...


class Transactions(Protocol):
    """Units of work and locks for jobs that must not run twice at once."""

    def transaction(self) -> AbstractContextManager[None]:
        """One unit of work on this thread: every store call inside it joins it."""
        ...

    def job_lock(self, name: str) -> AbstractContextManager[bool]:
        """Hold the lock `name` for the block if no other process holds it: the context
        value says whether it was taken (never waits). Harvests, full re-ranks and prunes run
        only while holding theirs."""
        ...


class Transfers(Protocol):
    """Every table's rows in the portable form (storage/portable.py), to copy a whole store
    into another of any backend (migrate_store.py)."""

    def applied_migrations(self) -> list[str]:
        """The schema migrations this database has had (none: not a paperfeed database)."""
        ...

    def count_rows(self, table: str) -> int: ...

    def export_rows(self, table: str, after: Key | None, limit: int) -> list[Row]:
        """Up to `limit` rows of a portable table after the key `after`, in key order."""
        ...

    def import_rows(self, table: str, rows: Sequence[Row], progress: ImportProgress) -> None:
        """Insert portable rows (each stamped with a revision of this database) and record
        `progress` with them, in one transaction; when progress.done, the table is complete
        (generated ids carry on after the largest copied)."""
        ...

    def import_progress(self) -> dict[str, ImportProgress]:
        """What import_rows recorded, by table (empty when nothing was ever imported)."""
        ...


class Store(
    Catalog,
    Harvests,
    ChangeFeed,
    Embeddings,
    Keywords,
    Listings,
    People,
    MailQueue,
    Votes,
    Digests,
    Library,
    Moderation,
    Thumbnails,
    Discussions,
    Submissions,
    Transactions,
    Secrets,
    Transfers,
    Protocol,
):
    """All of paperfeed's data; only implementations of this write SQL."""

    url: str

    def migrate(self) -> list[str]:
        """Apply pending schema migrations; return the names applied (none when up to date)."""
        ...

    def close(self) -> None: ...
