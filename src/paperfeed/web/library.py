"""A signed-in reader's library and "for you": save papers into collections, notes, read and
"not interested" marks, collections shared by link, and recommendations with their reasons.

Every form posts with its CSRF token; a browser without JavaScript is sent back to the page it
came from, a script asking for JSON gets JSON. Nothing here is kept between readers: these
pages are the reader's own (private, rendered for them alone)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from paperfeed.ids import ids_in_lines, paper_path
from paperfeed.library import arxiv_ids_from_bibtex, parse_bibtex, to_bibtex, to_csv, to_json
from paperfeed.models import Collection, Subscriber
from paperfeed.search.followed import for_you as for_you_papers
from paperfeed.storage import CollectionNotFound, Store
from paperfeed.web.app import AppState, state_of
from paperfeed.web.forms import form_answer, reader_form
from paperfeed.web.pages import render
from paperfeed.web.params import BadRequest, form_text, int_param, local_path, paper_pk
from paperfeed.web.security import SignInNeeded, current_subscriber

router = APIRouter(include_in_schema=False)

FOR_YOU_DAYS = 30  # "for you" shows papers of the catalog's last month unless asked for all
FOR_YOU_SIZE = 30
PAGE_SIZE = 50
MAX_NOTE_CHARS = 10_000
IMPORT_MAX = 10_000  # papers one import (or export) takes
IMPORT_BYTES = 60 * 1024  # a form body is at most 64 KB (web/limits.py)


def _on(form: dict[str, Any]) -> bool:
    return form_text(form.get("on")) != "0"


def own_collection(state: AppState, owner_id: int, raw: object) -> Collection:
    """The reader's collection named by a form or path value; 404 for anyone else's."""
    text = str(raw).strip() if raw is not None else ""
    if not text.isdigit() or len(text) > 18:
        raise CollectionNotFound(text[:40])
    collection = state.store.get_collection(int(text))
    if collection.owner_id != owner_id:
        raise CollectionNotFound(text)  # another reader's: as if it did not exist
    return collection


@router.post("/papers/{paper_id:path}/save", response_model=None)
async def save(request: Request, paper_id: str) -> Response:
    """Save a paper (on=1, the default) into `collection` (the reading list when not given),
    or take it out (on=0)."""
    posted = await reader_form(request, "library")
    state, account, form = posted.state, posted.account, posted.form
    normalised, pk = paper_pk(state.store, paper_id)
    now = datetime.now(UTC)
    if form.get("collection"):
        collection = own_collection(state, account.id, form.get("collection"))
    else:
        collection = state.store.reading_list(account.id, now)
    if _on(form):
        state.store.save_papers(collection.id, [pk], now)
    else:
        state.store.remove_paper(collection.id, pk)
    saved = pk in state.store.saved_pks(account.id)
    back = local_path(form.get("next"), paper_path(normalised))
    return form_answer(posted, back, {"saved": saved, "collection": collection.id})


@router.post("/papers/{paper_id:path}/dismiss", response_model=None)
async def dismiss(request: Request, paper_id: str) -> Response:
    """Not interested (on=1): papers like it go down in "for you", and it is not shown there
    again; on=0 takes it back."""
    return await _mark(request, paper_id, "dismissed", lambda store: store.dismiss)


@router.post("/papers/{paper_id:path}/read", response_model=None)
async def mark_read(request: Request, paper_id: str) -> Response:
    """Read (on=1), or not read after all (on=0)."""
    return await _mark(request, paper_id, "read", lambda store: store.mark_read)


async def _mark(
    request: Request,
    paper_id: str,
    name: str,
    method: Callable[[Store], Callable[[int, int, bool, datetime], None]],
) -> Response:
    """Set or clear one of the reader's marks on a paper (`method` of the store)."""
    posted = await reader_form(request, "library")
    state, account, form = posted.state, posted.account, posted.form
    normalised, pk = paper_pk(state.store, paper_id)
    on = _on(form)
    method(state.store)(account.id, pk, on, datetime.now(UTC))
    back = local_path(form.get("next"), paper_path(normalised))
    return form_answer(posted, back, {name: on})


@router.post("/papers/{paper_id:path}/note", response_model=None)
async def note(request: Request, paper_id: str) -> Response:
    """The reader's note on a paper (an empty one deletes it)."""
    posted = await reader_form(request, "library")
    state, account, form = posted.state, posted.account, posted.form
    normalised, pk = paper_pk(state.store, paper_id)
    text = form_text(form.get("note")) or ""
    if len(text) > MAX_NOTE_CHARS:
        raise BadRequest(f"a note holds at most {MAX_NOTE_CHARS:,} characters")
    state.store.set_note(account.id, pk, text or None, datetime.now(UTC))
    back = local_path(form.get("next"), paper_path(normalised))
    return form_answer(posted, back, {"note": text.strip() or None})


def _reader(request: Request) -> tuple[AppState, Subscriber]:
    state = state_of(request)
    account = current_subscriber(request, state.store, state.settings, datetime.now(UTC))
    if account is None:
        raise SignInNeeded()
    return state, account


def _page(request: Request, template: str, **context: Any) -> HTMLResponse:
    """A library page: the reader's own (or a shared collection, which the kept answers'
    versions do not follow), so never kept."""
    return render(request, template, keep=False, **context)


@router.get("/library", response_model=None)
def library(request: Request) -> Response:
    """The reader's collections."""
    state, account = _reader(request)
    return _library_page(request, state, account)


def _library_page(
    request: Request, state: AppState, account: Subscriber, feed_token: str | None = None
) -> HTMLResponse:
    state.store.reading_list(account.id, datetime.now(UTC))
    return _page(
        request,
        "library.html",
        collections=state.store.collections_of(account.id),
        follows=state.store.follows_of(account.id),
        has_feed=state.store.feed_token(account.id) is not None,
        feed_token=feed_token,
        base_url=state.settings.base_url.rstrip("/"),
        active="library",
    )


@router.post("/library/feed", response_model=None)
async def private_feed(request: Request) -> Response:
    """on=1: a new private feed link for "for you" and the collections (the old one stops
    working; the link is shown now, once: only its digest is kept); on=0: no private feed."""
    posted = await reader_form(request, "library")
    state, account, form = posted.state, posted.account, posted.form
    token = secrets.token_urlsafe(24) if _on(form) else None
    state.store.set_feed_token(account.id, token)
    base = state.settings.base_url.rstrip("/")
    link = f"{base}/feeds/for-you/{token}" if token else None
    if posted.wants_json:
        return JSONResponse({"feed": link})
    return _library_page(request, state, account, feed_token=token)


@router.post("/library", response_model=None)
async def create_collection(request: Request) -> Response:
    posted = await reader_form(request, "library")
    state, account, form = posted.state, posted.account, posted.form
    try:
        collection = state.store.create_collection(
            account.id, form_text(form.get("name")) or "", datetime.now(UTC)
        )
    except ValueError as exc:  # an empty or too long name: the store says which
        raise BadRequest(str(exc)) from None
    return form_answer(posted, f"/library/{collection.id}", {"collection": collection.id})


@router.get("/library/{collection_id}", response_model=None)
def collection_page(
    request: Request, collection_id: str, q: str = "", p: str | None = None
) -> Response:
    """One collection: its papers, newest saved first, with notes; `q` searches within it."""
    state, account = _reader(request)
    collection = own_collection(state, account.id, collection_id)
    collection = state.store.get_collection(collection.id)
    return _collection_view(request, state, collection, q, p, own=True)


@router.get("/shared/{token}", response_model=None)
def shared_collection(request: Request, token: str, q: str = "", p: str | None = None) -> Response:
    """A collection its owner shared by link (read-only)."""
    state = state_of(request)
    collection = state.store.collection_by_share_token(token[:100])
    if collection is None:
        raise CollectionNotFound("this link")
    return _collection_view(request, state, collection, q, p, own=False)


def _matches(words: list[str]) -> Callable[[Any], bool]:
    def match(entry: Any) -> bool:
        text = " ".join(
            [
                entry.paper.title,
                entry.paper.abstract,
                " ".join(entry.paper.authors),
                entry.note or "",
            ]
        ).lower()
        return all(word in text for word in words)

    return match


def _collection_view(
    request: Request,
    state: AppState,
    collection: Collection,
    q: str,
    p: str | None,
    own: bool,
    imported: dict[str, Any] | None = None,
) -> HTMLResponse:
    page = int_param("p", p, 0, 0, 10_000)
    words = q.lower().split()[:20]
    if words:  # a reader's library is small enough to search in full
        entries = state.store.collection_entries(collection.id, 10_000, 0)
        entries = [e for e in entries if _matches(words)(e)]
        total = len(entries)
        entries = entries[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    else:
        entries = state.store.collection_entries(collection.id, PAGE_SIZE, page * PAGE_SIZE)
        total = collection.size
    base = state.settings.base_url.rstrip("/")
    return _page(
        request,
        "collection.html",
        collection=collection,
        entries=entries,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        q=q,
        own=own,
        base_url=base,
        imported=imported,
        active="library",
    )


EXPORTS = {  # format: (media type, file name suffix)
    "bibtex": ("application/x-bibtex; charset=utf-8", "bib"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json", "json"),
}


@router.get("/library/{collection_id}/export", response_model=None)
def export(request: Request, collection_id: str, format: str = "bibtex") -> Response:
    """The collection as BibTeX (the default), CSV or JSON, to download."""
    state, account = _reader(request)
    return _export(state, own_collection(state, account.id, collection_id), format, notes=True)


@router.get("/shared/{token}/export", response_model=None)
def export_shared(request: Request, token: str, format: str = "bibtex") -> Response:
    state = state_of(request)
    collection = state.store.collection_by_share_token(token[:100])
    if collection is None:
        raise CollectionNotFound("this link")
    return _export(state, collection, format, notes=False)


def _export(state: AppState, collection: Collection, kind: str, notes: bool) -> Response:
    if kind not in EXPORTS:
        raise BadRequest(f"format must be one of {', '.join(EXPORTS)}")
    entries = state.store.collection_entries(collection.id, IMPORT_MAX, 0)
    papers = [entry.paper for entry in entries]
    noted = {e.paper.id: e.note for e in entries if e.note} if notes else {}
    if kind == "bibtex":
        body = to_bibtex(papers)
    elif kind == "csv":
        body = to_csv(papers, noted)
    else:
        body = to_json(papers, noted)
    media_type, suffix = EXPORTS[kind]
    name = "".join(c if c.isalnum() else "-" for c in collection.name).strip("-") or "papers"
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name[:60]}.{suffix}"',
            "Cache-Control": "private, no-cache",
        },
    )


@router.post("/library/{collection_id}/import", response_model=None)
async def import_papers(request: Request, collection_id: str) -> Response:
    """Papers into a collection from a list of arXiv ids or URLs (one per line) or a .bib
    file's text: those in the catalog are saved, the rest reported (with their lines)."""
    posted = await reader_form(request, "library")
    state, account, form = posted.state, posted.account, posted.form
    collection = own_collection(state, account.id, collection_id)
    text = form_text(form.get("papers")) or ""
    upload = form.get("file")
    if upload is not None and not isinstance(upload, str):
        text += "\n" + (await upload.read(IMPORT_BYTES)).decode("utf-8", "replace")
    if "@" in text:
        entries, problems = parse_bibtex(text)
        ids, missing_ids = arxiv_ids_from_bibtex(entries)
        problems += missing_ids
    else:
        ids, problems = ids_in_lines(text.splitlines())
    known = state.store.pks_for_ids(ids[:IMPORT_MAX])
    unknown = [paper_id for paper_id in ids if paper_id not in known]
    added = state.store.save_papers(collection.id, list(known.values()), datetime.now(UTC))
    report = {
        "added": added,
        "already": len(known) - added,
        "not_in_catalog": unknown[:100],
        "problems": [f"line {line}: {problem}" for line, problem in problems[:100]],
    }
    if posted.wants_json:
        return JSONResponse(report)
    return _collection_view(request, state, collection, "", None, own=True, imported=report)


@router.post("/library/{collection_id}/rename", response_model=None)
async def rename(request: Request, collection_id: str) -> Response:
    posted = await reader_form(request, "library")
    state, account, form = posted.state, posted.account, posted.form
    collection = own_collection(state, account.id, collection_id)
    try:
        renamed = state.store.rename_collection(collection.id, form_text(form.get("name")) or "")
    except ValueError as exc:  # empty, too long, or the name of another of theirs
        raise BadRequest(str(exc)) from None
    return form_answer(posted, f"/library/{renamed.id}", {"name": renamed.name})


@router.post("/library/{collection_id}/delete", response_model=None)
async def delete(request: Request, collection_id: str) -> Response:
    posted = await reader_form(request, "library")
    state, account = posted.state, posted.account
    collection = own_collection(state, account.id, collection_id)
    state.store.delete_collection(collection.id)
    return form_answer(posted, "/library", {"deleted": collection.id})


@router.post("/library/{collection_id}/share", response_model=None)
async def share(request: Request, collection_id: str) -> Response:
    """on=1: anyone with the (new, unguessable) link can see the collection; on=0: private."""
    posted = await reader_form(request, "library")
    state, account, form = posted.state, posted.account, posted.form
    collection = own_collection(state, account.id, collection_id)
    token = secrets.token_urlsafe(18) if _on(form) else None
    shared = state.store.share_collection(collection.id, token)
    link = f"{state.settings.base_url.rstrip('/')}/shared/{token}" if token else None
    return form_answer(posted, f"/library/{shared.id}", {"shared": link})


FOLLOW_KINDS = ("author", "category", "search")


@router.post("/follow", response_model=None)
async def follow(request: Request) -> Response:
    """Follow (on=1) or stop following (on=0) an author, a category or a search (`kind`,
    `value`): their new papers come first in "for you", each with its reason."""
    posted = await reader_form(request, "library")
    state, account, form = posted.state, posted.account, posted.form
    kind = form_text(form.get("kind")) or ""
    if kind not in FOLLOW_KINDS:
        raise BadRequest(f"kind must be one of {', '.join(FOLLOW_KINDS)}")
    value = form_text(form.get("value")) or ""
    try:
        if _on(form):
            state.store.follow(account.id, kind, value, datetime.now(UTC))
        else:
            state.store.unfollow(account.id, kind, value)
    except ValueError as exc:  # an empty or too long value: the store says which
        raise BadRequest(str(exc)) from None
    following = any(
        f.kind == kind and f.value == value.strip() for f in state.store.follows_of(account.id)
    )
    return form_answer(posted, local_path(form.get("next"), "/library"), {"following": following})


@router.get("/for-you", response_model=None)
def for_you(request: Request, interest: str | None = None, all: str | None = None) -> Response:
    """Papers for the reader, each with its reason; `interest` = one collection's; `all`: the
    whole catalog, not only its last FOR_YOU_DAYS days."""
    state, account = _reader(request)
    chosen = own_collection(state, account.id, interest) if interest else None
    latest = state.store.latest_day()
    since = None if all or latest is None else latest - timedelta(days=FOR_YOU_DAYS)
    found = for_you_papers(
        state.searcher, account.id, chosen.id if chosen else None, since, FOR_YOU_SIZE
    )
    listed = state.store.listed_by_pk([f.pk for f in found])
    from_follows = [(listed[f.pk], f.reason) for f in found if f.like_pk is None and f.pk in listed]
    items = [(listed[f.pk], f.reason) for f in found if f.like_pk is not None and f.pk in listed]
    collections = [c for c in state.store.collections_of(account.id) if c.size]
    follows = state.store.follows_of(account.id) if chosen is None else []
    return _page(
        request,
        "for_you.html",
        items=items,
        from_follows=from_follows,
        follows=follows,
        interest=chosen,
        collections=collections,
        since=since,
        semantic=state.searcher.vectors is not None,
        active="for-you",
    )
