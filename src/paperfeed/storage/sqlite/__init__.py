"""SqliteStore: the embedded catalog in one SQLite file (WAL), with versioned migrations."""

from __future__ import annotations

from paperfeed.storage.sqlite.database import sqlite_path
from paperfeed.storage.sqlite.digests import DigestQueries
from paperfeed.storage.sqlite.discussions import DiscussionQueries
from paperfeed.storage.sqlite.keywords import KeywordQueries
from paperfeed.storage.sqlite.library import LibraryQueries
from paperfeed.storage.sqlite.listings import ListingQueries
from paperfeed.storage.sqlite.moderation import ModerationQueries
from paperfeed.storage.sqlite.papers import PaperQueries
from paperfeed.storage.sqlite.people import PeopleQueries
from paperfeed.storage.sqlite.search import SearchQueries
from paperfeed.storage.sqlite.submissions import SubmissionQueries
from paperfeed.storage.sqlite.thumbnails import ThumbnailQueries
from paperfeed.storage.sqlite.transfer import TransferQueries
from paperfeed.storage.sqlite.votes import VoteQueries

__all__ = ["SqliteStore", "sqlite_path"]


class SqliteStore(
    PaperQueries,
    SearchQueries,
    ListingQueries,
    PeopleQueries,
    VoteQueries,
    DigestQueries,
    LibraryQueries,
    ModerationQueries,
    ThumbnailQueries,
    DiscussionQueries,
    KeywordQueries,
    SubmissionQueries,
    TransferQueries,
):
    """The Store for one SQLite file; safe to share between threads (one connection each)."""
