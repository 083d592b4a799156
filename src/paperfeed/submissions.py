"""Submit a paper to the day's list: check what the reader named, fetch it if new, record it.

A reader names an arXiv paper, recent enough; the catalog's copy is used, or arXiv's Atom API
is asked for it; and it is recorded as theirs, once.

What "it appears on that day's list" means here. Lists in paperfeed are by a paper's own day
(listed, else its arXiv date: `paper_day`), for every source, Hugging Face's featured days
included (a paper is in one day's list, and week and month lists count it once). A submission
does not move a paper to another day, and does not add it to a second one. It:

- records (paper, reader, the UTC day it was submitted, when) in `submissions`, once per
  paper (the database's primary key: of two submits at once, one wins, the other is told who
  submitted it and when);
- features the paper on that day (a `featured` row, source "paperfeed"), as Hugging Face's
  imports do: `submittedOnDailyAt` in the API is that day, and trending counts the paper's
  age from it (as a paper HF features);
- puts the paper, if the catalog did not have it, on its own day's list: the day of its first
  version on arXiv, at most `submit_window_days` (14) ago, so one of the last lists;
- and from then on every card, page and API item of the paper says who submitted it: the
  reader's public name, read when the list is (a renamed reader shows the new name; a rename
  moves list_version), linking to their submissions (`/submitters/<name>`). Names imported
  from Hugging Face are shown "via Hugging Face" and link nowhere; `submittedBy.via` in the
  API says which ("paperfeed" or "huggingface").

A reader submits at most `submit_per_day` (5) papers a UTC day, counted from `submissions`
in the submitting transaction. Nothing is written when a submission is refused.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from paperfeed.config import Settings
from paperfeed.ids import BadIdentifier, parse_arxiv_id
from paperfeed.ingest import atom
from paperfeed.ingest.http import PoliteClient, SourceUnavailable
from paperfeed.ingest.records import Item, cap_paper
from paperfeed.models import Paper, Submission, Subscriber
from paperfeed.storage import AlreadySubmitted, PaperNotFound, Store, SubmissionLimit

MAX_INPUT_CHARS = 300  # an id or a URL; anything longer is not one
# Pages that name a paper by its arXiv id, besides arXiv's abs and pdf pages (ids.py).
_OTHER_PAGES = re.compile(
    r"^(?:https?://)?(?:(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)"
    r"|(?:www\.)?alphaxiv\.org/(?:abs|overview)|(?:www\.)?(?:huggingface|hf)\.co/papers)/",
    re.IGNORECASE,
)
# How long a reader waits for arXiv at most: one retry, short timeouts (ingest waits longer).
_INTERACTIVE = {"max_retries": 1, "request_timeout_s": 15.0, "max_retry_after_s": 5.0}

__all__ = [
    "AlreadySubmitted",
    "ArxivUnavailable",
    "NeedsPublicName",
    "NotAnArxivId",
    "NotOnArxiv",
    "SubmissionLimit",
    "SubmitRefused",
    "Submitted",
    "TooOld",
    "arxiv_date",
    "submit",
    "submitted_id",
]


class SubmitRefused(ValueError):
    """A submission that cannot be made; the message says why, to the reader. `status` is
    the HTTP status that fits."""

    status = 400


class NeedsPublicName(SubmitRefused):
    """Submissions carry a public name, and the reader has none yet."""

    status = 403


class NotAnArxivId(SubmitRefused):
    """The text names no arXiv paper."""


class NotOnArxiv(SubmitRefused):
    """arXiv has no paper with that id."""

    status = 404


class TooOld(SubmitRefused):
    """The paper's arXiv date is further back than the window allows."""


class ArxivUnavailable(SubmitRefused):
    """arXiv did not answer (down, slow, or refusing): nothing was written."""

    status = 503


@dataclass(frozen=True)
class Submitted:
    """A submission made: the record, and whether the paper was fetched from arXiv for it."""

    submission: Submission
    paper: Paper
    fetched: bool


ClientFactory = Callable[[Settings], PoliteClient]


def interactive_client(settings: Settings) -> PoliteClient:
    """A client for a reader waiting on a page: one retry and short timeouts."""
    quick = {name: min(getattr(settings, name), value) for name, value in _INTERACTIVE.items()}
    return PoliteClient(dataclasses.replace(settings, **quick))


def submitted_id(text: str) -> str:
    """The arXiv id (no version) that a reader's text names: an id in any spelling
    (2606.27372v2, arXiv:2606.27372, hep-th/9901001) or an arXiv, alphaXiv or Hugging Face
    papers URL; NotAnArxivId otherwise."""
    raw = text.strip()
    if not raw:
        raise NotAnArxivId("give an arXiv id (like 2606.27372) or an arXiv URL")
    if len(raw) > MAX_INPUT_CHARS:
        raise NotAnArxivId(
            f"that is {len(raw):,} characters: give one arXiv id (like 2606.27372) or its URL"
        )
    if _OTHER_PAGES.match(raw):
        raw = "arxiv:" + _OTHER_PAGES.sub("", raw).split("?")[0].split("#")[0].rstrip("/")
    try:
        return parse_arxiv_id(raw)[0]
    except BadIdentifier:
        shown = raw if len(raw) <= 60 else raw[:60] + "…"
        raise NotAnArxivId(
            f"{shown!r} is not an arXiv id: give one like 2606.27372, hep-th/9901001 or "
            "https://arxiv.org/abs/2606.27372"
        ) from None


def arxiv_date(paper: Paper) -> date | None:
    """A paper's arXiv date: the day of its first version (UTC), else the day it was listed."""
    if paper.published is not None:
        return paper.published.astimezone(UTC).date()
    return paper.listed


def check_window(paper: Paper, now: datetime, window_days: int) -> None:
    """TooOld unless the paper's arXiv date is at most `window_days` before now's day."""
    day = arxiv_date(paper)
    if day is None:
        raise TooOld(f"{paper.id} has no arXiv date, so it cannot be submitted")
    age = (now.astimezone(UTC).date() - day).days
    if age > window_days:
        raise TooOld(
            f"{paper.id} is from {day.isoformat()}, {age} days ago: papers can be submitted "
            f"up to {window_days} days after their arXiv date"
        )


def fetch_from_arxiv(client: PoliteClient, api_url: str, paper_id: str) -> Paper | None:
    """The paper as arXiv's Atom API has it, None when arXiv has no such paper;
    ArxivUnavailable when arXiv cannot be asked."""
    url = f"{api_url}?id_list={paper_id}"
    try:
        for page in atom.fetch_pages(client, url, page_size=1):
            for outcome in page.outcomes:
                if isinstance(outcome, Item) and outcome.paper.id == paper_id:
                    return cap_paper(outcome.paper)[0]
    except atom.AtomError as exc:
        if isinstance(exc, atom.AtomCutShort):
            raise ArxivUnavailable(f"arXiv's answer was cut short; try again ({exc})") from None
        return None  # arXiv's own error entry: "incorrect id format", no such id
    except SourceUnavailable as exc:
        raise ArxivUnavailable(
            f"arXiv did not answer ({exc}); nothing was saved: try again in a few minutes"
        ) from None
    return None


def submit(
    store: Store,
    settings: Settings,
    reader: Subscriber,
    text: str,
    now: datetime,
    client_factory: ClientFactory = interactive_client,
) -> Submitted:
    """Submit the paper `text` names as `reader`'s, now; SubmitRefused (and its kinds),
    AlreadySubmitted or SubmissionLimit say why not. What the store already knows is checked
    before arXiv is asked, and again by the store when writing."""
    if not reader.public_name:
        raise NeedsPublicName("pick a public name first: it is shown beside what you submit")
    paper_id = submitted_id(text)
    before = store.submission_of(paper_id)
    if before is not None:
        raise AlreadySubmitted(before)
    today = now.astimezone(UTC).date()
    if store.submissions_on(reader.id, today) >= settings.submit_per_day:
        raise SubmissionLimit(settings.submit_per_day, today)
    fetched = False
    try:
        paper = store.get_paper(paper_id)
    except PaperNotFound:
        with client_factory(settings) as client:
            found = fetch_from_arxiv(client, settings.arxiv_api_url, paper_id)
        if found is None:
            raise NotOnArxiv(f"arXiv has no paper {paper_id}") from None
        paper, fetched = found, True
    check_window(paper, now, settings.submit_window_days)
    with store.transaction():  # the fetched paper is kept only with its submission
        if fetched:
            store.upsert_papers([paper])
        submission = store.submit_paper(paper_id, reader.id, now, settings.submit_per_day)
    return Submitted(submission, paper, fetched)
