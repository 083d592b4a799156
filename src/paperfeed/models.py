"""The records paperfeed keeps: papers and the days a paper was featured, as plain dataclasses."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from paperfeed.ids import is_arxiv_id

# The longest fields a paper keeps. Ingest cuts a longer one (ending it with "…") and reports
# it by record, keeping the paper (ingest/records.py, cap_paper); pages and mail show no more,
# whatever a database written before these caps holds.
MAX_TITLE_CHARS = 1_000  # arXiv's longest titles have ~300
MAX_ABSTRACT_CHARS = 20_000  # arXiv allows 1,920; BEIR passages and news articles run longer
MAX_COMMENT_CHARS = 2_000
# The longest arXiv author lists have ~5,000 names (~100,000 characters); the first are kept.
MAX_AUTHORS = 10_000
MAX_AUTHORS_CHARS = 200_000  # all the names together
MAX_AUTHOR_CHARS = 300  # one name (a collaboration's included)
MAX_CATEGORIES = 100
MAX_FIELD_CHARS = 1_000  # DOI, journal reference, licence, one category


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, the last one "…", when it is longer."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Paper:
    """One paper, at the latest version paperfeed has seen.

    `id` is the arXiv id without version (`2606.27372`, `hep-th/9901001`), or a non-arXiv
    source's own id (a BEIR document id). Datetimes are timezone-aware UTC.
    """

    id: str
    title: str
    abstract: str
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # primary category first when the source says which
    version: int | None = None
    published: datetime | None = None  # first version
    updated: datetime | None = None  # latest version
    listed: date | None = None  # first day it was announced/listed
    comment: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    license: str | None = None
    source: str = ""

    @property
    def primary_category(self) -> str | None:
        return self.categories[0] if self.categories else None

    @property
    def is_arxiv(self) -> bool:
        return is_arxiv_id(self.id)

    @property
    def day(self) -> date | None:
        """The paper's day in lists and filters: when it was first listed, else the day (UTC) of
        its first version. Both backends, the keyword index and feeds date papers by it."""
        if self.listed is not None:
            return self.listed
        return self.published.astimezone(UTC).date() if self.published else None

    @property
    def abs_url(self) -> str | None:
        return f"https://arxiv.org/abs/{self.id}" if self.is_arxiv else None

    @property
    def pdf_url(self) -> str | None:
        return f"https://arxiv.org/pdf/{self.id}" if self.is_arxiv else None


@dataclass(frozen=True)
class Featured:
    """A paper's appearance in a curated daily list (Hugging Face daily papers), with its votes."""

    paper_id: str
    day: date
    source: str
    upvotes: int = 0
    num_comments: int = 0
    submitted_by: str | None = None


@dataclass(frozen=True)
class Submission:
    """A paper a reader submitted to the day's list (submissions.py): once per paper."""

    paper_id: str
    subscriber_id: int
    submitter: str | None  # the reader's public name now (None once they dropped it)
    day: date  # the UTC day it was submitted on
    submitted_at: datetime


@dataclass
class UpsertCounts:
    """What writing a batch of papers did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: UpsertCounts) -> UpsertCounts:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


@dataclass
class CatalogStats:
    """Counts over the whole catalog, for `paperfeed stats`."""

    papers: int
    by_category: dict[str, int] = field(default_factory=dict)
    by_month: dict[str, int] = field(default_factory=dict)
    featured: int = 0
    first_listed: date | None = None
    last_listed: date | None = None


@dataclass(frozen=True)
class HarvestState:
    """Where a resumable harvest stands: its parameters, its next page, how far it got."""

    key: str  # e.g. "arxiv-oai:cs"
    params: dict[str, str | None]
    resumption_token: str | None = None
    pages: int = 0
    records: int = 0
    completed_until: date | None = None  # the `until` of the last harvest that finished


def paper_as_dict(paper: Paper) -> dict[str, object]:
    """A paper as JSON-ready data (dates as ISO 8601), with its derived links."""
    return {
        "id": paper.id,
        "version": paper.version,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": list(paper.authors),
        "categories": list(paper.categories),
        "primary_category": paper.primary_category,
        "published": paper.published.isoformat().replace("+00:00", "Z")
        if paper.published
        else None,
        "updated": paper.updated.isoformat().replace("+00:00", "Z") if paper.updated else None,
        "listed": paper.listed.isoformat() if paper.listed else None,
        "comment": paper.comment,
        "doi": paper.doi,
        "journal_ref": paper.journal_ref,
        "license": paper.license,
        "links": {"abs": paper.abs_url, "pdf": paper.pdf_url},
        "source": paper.source,
    }


@dataclass(frozen=True)
class SearchFilters:
    """Restrict a search: any of these categories, a range of days (listed, else published), and
    all of these authors (keys as search.names.author_key makes them: "tailin wu", or one word,
    "wu", for any author with that name; only the keyword index filters by author)."""

    categories: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    authors: tuple[str, ...] = ()
    has_code: bool = False  # only papers whose text links to their code (code_links.py)

    @property
    def active(self) -> bool:
        return bool(self.categories or self.since or self.until or self.authors or self.has_code)


NO_FILTERS = SearchFilters()


@dataclass(frozen=True)
class ListedPaper:
    """A paper as lists show it: with its day, votes and who featured it."""

    pk: int
    paper: Paper
    day: date | None
    upvotes: int = 0
    num_comments: int = 0  # visible comments in this instance's discussion
    submitted_by: str | None = None  # as imported (a Hugging Face user name)
    featured_on: date | None = None
    hf_comments: int = 0  # the comment count seen on Hugging Face (imported), 0 when unknown
    # The public name of the reader who submitted it here (submissions.py), read at read time.
    submitted_here_by: str | None = None

    @property
    def submitter(self) -> str | None:
        """Who is shown as its submitter: a reader here first, else Hugging Face's."""
        return self.submitted_here_by or self.submitted_by


FREQUENCIES = ("daily", "weekly", "paused")


@dataclass(frozen=True)
class Preferences:
    """What a subscriber wants in their digest."""

    frequency: str = "daily"
    weekdays_only: bool = False
    topics: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    max_papers: int = 10
    timezone: str = "UTC"  # an IANA name; digests go out at the configured hour there

    def as_dict(self) -> dict[str, Any]:
        """The preferences as JSON-ready data (how stores keep a requested change)."""
        return {
            "frequency": self.frequency,
            "weekdays_only": self.weekdays_only,
            "topics": list(self.topics),
            "categories": list(self.categories),
            "max_papers": self.max_papers,
            "timezone": self.timezone,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preferences:
        """The inverse of as_dict (an older record without a time zone means UTC)."""
        return cls(
            frequency=data["frequency"],
            weekdays_only=bool(data["weekdays_only"]),
            topics=tuple(data["topics"]),
            categories=tuple(data["categories"]),
            max_papers=int(data["max_papers"]),
            timezone=data.get("timezone", "UTC"),
        )


@dataclass(frozen=True)
class Subscriber:
    """A person with an address: subscribed (pending, active), or not any more."""

    id: int
    email: str
    status: str  # pending | active | unsubscribed | suppressed
    preferences: Preferences
    bounces: int = 0
    session_version: int = 1
    created_at: datetime | None = None
    confirmed_at: datetime | None = None
    requested: Preferences | None = None  # asked for in a subscription not yet confirmed
    public_name: str | None = None  # shown to others (people/names.py); the address never is

    @property
    def is_account(self) -> bool:
        """A confirmed address can sign in (and has preferences), subscribed or not."""
        return self.confirmed_at is not None and self.status != "suppressed"


def address_key(email: str) -> str:
    """What makes two addresses the same person: `Ada@X.org` and `ada@x.org` are one mailbox
    to every provider, so addresses are compared lowercased (and shown as typed)."""
    return unicodedata.normalize("NFC", email.strip().lower())


@dataclass(frozen=True)
class OutgoingMail:
    """A message to queue: the bytes to send and what they are."""

    kind: str
    recipient: str
    message_id: str
    data: bytes
    subscriber_id: int | None = None
    dedupe_key: str | None = None


@dataclass(frozen=True)
class DigestRecord:
    """A composed digest: whose, for which period, the papers in it and the message itself."""

    subscriber_id: int
    period: str  # 2026-11-29 for a daily digest, 2026-W48 for a weekly one
    paper_pks: tuple[int, ...]
    mail: OutgoingMail


@dataclass(frozen=True)
class QueuedMail:
    """A message in the queue, as a sender claims it."""

    id: int
    kind: str
    recipient: str
    message_id: str
    data: bytes
    subscriber_id: int | None
    attempts: int


@dataclass
class MailStatus:
    """The queue at a glance, for `paperfeed mail status`."""

    counts: dict[str, int] = field(default_factory=dict)
    problems: list[tuple[int, str, int, str]] = field(default_factory=list)  # id, to, tries, error
    suppressed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Collection:
    """A reader's named set of saved papers; the reading list is the one made for everyone."""

    id: int
    owner_id: int  # a subscriber's id
    name: str
    created_at: datetime
    share_token: str | None = None  # set: anyone with the link can see it
    size: int = 0  # how many papers it holds
    is_reading_list: bool = False


@dataclass(frozen=True)
class LibraryEntry:
    """A paper in a collection: when it was saved, and its owner's note on it."""

    pk: int
    paper: Paper
    added_at: datetime
    note: str | None = None


@dataclass(frozen=True)
class Follow:
    """Something a reader follows: an author, a category or a search."""

    kind: str  # author | category | search
    value: str
    created_at: datetime


@dataclass(frozen=True)
class HiddenItem:
    """One thing an operator hid."""

    kind: str  # comment | paper | reader
    key: str  # a paper's arXiv id; a comment's or a reader's id, as text
    hidden_by: int | None  # the operator's subscriber id (None once their account is gone)
    reason: str
    hidden_at: datetime


@dataclass(frozen=True)
class Thumbnail:
    """A paper's thumbnail as pages link to it; `image` holds the bytes when asked for them."""

    paper_id: str
    mime_type: str
    width: int
    height: int
    digest: str  # of the image: its ETag, and the ?v= of its URL
    image: bytes = b""


@dataclass(frozen=True)
class ThumbnailTask:
    """A paper the thumbnails job is to try: never tried, or failed and due again."""

    pk: int
    paper: Paper
    attempts: int = 0  # failed fetches so far


@dataclass(frozen=True)
class Comment:
    """One comment of a paper's discussion (discussion/), as the store keeps it."""

    id: int
    paper_pk: int
    author_id: int | None  # None once the author's account is gone
    author_name: str | None  # the author's public name (never their address)
    parent_id: int | None  # the top comment a reply belongs to (one level of replies)
    text: str  # the Markdown as written; "" once deleted
    created_at: datetime
    edited_at: datetime | None = None
    deleted: bool = False  # deleted by its author but kept, so its replies keep their place
    hidden: bool = False  # an operator hid it, or its author

    @property
    def visible(self) -> bool:
        return not self.deleted and not self.hidden


@dataclass(frozen=True)
class DiscussionMail:
    """New comments in one discussion that one participant asked to hear about."""

    subscriber_id: int
    paper_pk: int
    comments: tuple[Comment, ...]  # visible, by others, oldest first
    last_mailed_at: datetime | None

    @property
    def through_id(self) -> int:
        return max(comment.id for comment in self.comments)
