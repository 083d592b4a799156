"""The errors storage raises, whatever the backend."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from paperfeed.models import Submission


class StorageError(Exception):
    """The database cannot be used (bad URL, unreadable file, failed migration)."""


class StoreBusy(StorageError):
    """The database did not let us write in time (PAPERFEED_DATABASE_BUSY_TIMEOUT_S): another
    process holds its write lock, or every pooled connection is in use. Nothing was written;
    try again later."""


class PaperNotFound(LookupError):
    """No paper has the requested id."""

    def __init__(self, paper_id: str) -> None:
        super().__init__(f"no paper with id {paper_id!r}")
        self.paper_id = paper_id


class PaperHidden(PaperNotFound):
    """The paper is in the catalog, but an operator hid it (a 404 to readers)."""

    def __init__(self, paper_id: str) -> None:
        LookupError.__init__(self, f"the paper {paper_id!r} was hidden by this site's operators")
        self.paper_id = paper_id


class SubscriberNotFound(LookupError):
    """No subscriber has that id or address."""

    def __init__(self, key: object) -> None:
        super().__init__(f"no subscriber {key!r}")


class CollectionNotFound(LookupError):
    """No collection has that id."""

    def __init__(self, collection_id: int | str) -> None:
        super().__init__(f"no collection {collection_id!r}")
        self.collection_id = collection_id


class NameTaken(ValueError):
    """Another reader already has that public name (compared case-insensitively)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the public name {name!r} is taken; pick another")
        self.name = name


class CommentNotFound(LookupError):
    """No comment has that id (or not one the reader may change)."""

    def __init__(self, comment_id: int | str) -> None:
        super().__init__(f"no comment {comment_id!r}")
        self.comment_id = comment_id


class AlreadySubmitted(ValueError):
    """The paper was submitted before (a paper is submitted once); `submission` says by whom."""

    def __init__(self, submission: Submission) -> None:
        who = submission.submitter or "a reader"
        super().__init__(
            f"{submission.paper_id} was already submitted by {who} on {submission.day.isoformat()}"
        )
        self.submission = submission


class SubmissionLimit(ValueError):
    """The reader has submitted as many papers as the UTC day `day` allows; more from
    `resets_at` on (the next day's midnight, UTC)."""

    def __init__(self, per_day: int, day: date) -> None:
        resets_at = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=UTC)
        super().__init__(
            f"you have submitted {per_day} papers today, the most a day allows; you can "
            f"submit again from {resets_at:%Y-%m-%d %H:%M} UTC"
        )
        self.per_day = per_day
        self.resets_at = resets_at
