"""PostgresStore: paperfeed's data in PostgreSQL (psycopg 3, a connection pool per process)."""

from __future__ import annotations

from paperfeed.storage.postgres.digests import DigestQueries
from paperfeed.storage.postgres.discussions import DiscussionQueries
from paperfeed.storage.postgres.keywords import KeywordQueries
from paperfeed.storage.postgres.library import LibraryQueries
from paperfeed.storage.postgres.listings import ListingQueries
from paperfeed.storage.postgres.moderation import ModerationQueries
from paperfeed.storage.postgres.papers import PaperQueries
from paperfeed.storage.postgres.people import PeopleQueries
from paperfeed.storage.postgres.submissions import SubmissionQueries
from paperfeed.storage.postgres.thumbnails import ThumbnailQueries
from paperfeed.storage.postgres.transfer import TransferQueries
from paperfeed.storage.postgres.vectors import VectorQueries
from paperfeed.storage.postgres.votes import VoteQueries

__all__ = ["PostgresStore"]


class PostgresStore(
    PaperQueries,
    VectorQueries,  # and SearchQueries
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
    """The Store for one PostgreSQL database; safe to share between threads (a pool), and
    many processes on many machines can share the database."""
