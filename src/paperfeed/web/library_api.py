"""The signed-in reader's library and "for you" as JSON (the session cookie of the web pages
says who): the same functions the pages use; answers are personal, never kept or shared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from paperfeed.models import Collection
from paperfeed.search.followed import for_you as for_you_papers
from paperfeed.web.api import ApiJson, with_keywords
from paperfeed.web.api_schema import (
    BAD_REQUEST,
    SIGNED_IN,
    CollectionObject,
    CollectionPage,
    ForYouItem,
    PageLimit,
)
from paperfeed.web.app import AppState, state_of
from paperfeed.web.hf_format import iso_z, paper_object
from paperfeed.web.library import FOR_YOU_DAYS, FOR_YOU_SIZE, own_collection
from paperfeed.web.params import int_param
from paperfeed.web.security import SignInNeeded, current_subscriber

router = APIRouter(prefix="/api", tags=["library"])
PRIVATE = {"Cache-Control": "private, no-cache"}
Interest = Annotated[
    str | None, Query(description="A collection's id: that collection as the only interest.")
]
AllTime = Annotated[
    str | None, Query(description="Any value: the whole catalog, not only its last 30 days.")
]
Offset = Annotated[str | None, Query(description="Papers to skip (from 0).")]


def _collection(collection: Collection) -> dict[str, Any]:
    return {
        "id": collection.id,
        "name": collection.name,
        "size": collection.size,
        "readingList": collection.is_reading_list,
        "createdAt": iso_z(collection.created_at),
        "shared": collection.share_token is not None,
    }


def _reader(request: Request) -> tuple[AppState, int]:
    state = state_of(request)
    account = current_subscriber(request, state.store, state.settings, datetime.now(UTC))
    if account is None:
        raise SignInNeeded(json=True, message="sign in to see your library")
    return state, account.id


@router.get(
    "/library",
    summary="Your collections",
    response_model=list[CollectionObject],
    responses={**SIGNED_IN, **BAD_REQUEST},
)
def library(request: Request) -> JSONResponse:
    """The signed-in reader's collections with their sizes (the reading list first)."""
    state, owner = _reader(request)
    state.store.reading_list(owner, datetime.now(UTC))
    rows = [_collection(c) for c in state.store.collections_of(owner)]
    return ApiJson(rows, headers=PRIVATE)


@router.get(
    "/library/{collection_id}",
    summary="One of your collections, newest saved first",
    response_model=CollectionPage,
    responses={**SIGNED_IN, **BAD_REQUEST},
)
def collection(
    request: Request, collection_id: int, limit: PageLimit = None, offset: Offset = None
) -> JSONResponse:
    state, owner = _reader(request)
    chosen = state.store.get_collection(own_collection(state, owner, collection_id).id)
    size = int_param("limit", limit, 50, 1, 100)
    skip = int_param("offset", offset, 0, 0, 1_000_000)
    entries = state.store.collection_entries(chosen.id, size, skip)
    papers = [
        {"paper": paper_object(e.paper), "addedAt": iso_z(e.added_at), "note": e.note}
        for e in entries
    ]
    with_keywords(state.store, papers)
    return ApiJson({"collection": _collection(chosen), "papers": papers}, headers=PRIVATE)


@router.get(
    "/for-you",
    summary="Papers for you, each with its reason",
    response_model=list[ForYouItem],
    responses={**SIGNED_IN, **BAD_REQUEST},
)
def for_you(request: Request, interest: Interest = None, all: AllTime = None) -> JSONResponse:
    """What the reader follows first (newest papers of followed authors, categories and
    searches), then papers like what they saved and upvoted (or like one collection's, with
    `interest`); never one they read, saved or dismissed."""
    state, owner = _reader(request)
    chosen = own_collection(state, owner, interest) if interest else None
    latest = state.store.latest_day()
    since = None if all or latest is None else latest - timedelta(days=FOR_YOU_DAYS)
    suggested = for_you_papers(
        state.searcher, owner, chosen.id if chosen else None, since, FOR_YOU_SIZE
    )
    listed = state.store.listed_by_pk([f.pk for f in suggested])
    likes = state.store.papers_by_pk({f.like_pk for f in suggested if f.like_pk is not None})
    rows = [
        {
            "paper": paper_object(listed[f.pk].paper, listed[f.pk].upvotes, listed[f.pk]),
            "reason": {
                "text": f.reason,
                "likeId": likes[f.like_pk].id if f.like_pk in likes else None,
            },
            "score": None if f.score is None else round(f.score, 6),
        }
        for f in suggested
        if f.pk in listed
    ]
    return ApiJson(with_keywords(state.store, rows), headers=PRIVATE)
