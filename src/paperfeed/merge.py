"""Decide what a newly ingested record does to the stored copy of the same paper (pure)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import TypeVar

from paperfeed.models import Paper

# Sources that add papers and signals but never replace the text of a paper we already have:
# Hugging Face daily papers carries no version and its summaries are sometimes edited.
SECONDARY_SOURCES = frozenset({"hf-daily"})

_T = TypeVar("_T", date, datetime)


def merge_paper(existing: Paper | None, incoming: Paper) -> Paper | None:
    """Return the paper to store for `incoming`, or None when it changes nothing.

    A newer version replaces the text and keeps the first published date; an older version
    never overwrites a newer one, but may fill in what the stored copy lacks (a DOI, the day it
    was listed). Records of the same version replace each other, so a corrected dump can be
    re-ingested, unless the incoming source is secondary.
    """
    if existing is None:
        return incoming
    order = compare_versions(existing, incoming)
    if order > 0 or (order == 0 and incoming.source not in SECONDARY_SOURCES):
        merged = _fill(incoming, existing)
        if order > 0 and incoming.version is None:
            # Newer by date but of unknown number: the stored number no longer describes it.
            merged = dataclasses.replace(merged, version=None)
    else:
        merged = _fill(existing, incoming)
    merged = dataclasses.replace(
        merged,
        published=_earliest(existing.published, incoming.published),
        listed=_earliest(existing.listed, incoming.listed),
        updated=_latest(existing.updated, incoming.updated),
    )
    if dataclasses.replace(merged, source=existing.source) == existing:
        return None
    return merged


def compare_versions(existing: Paper, incoming: Paper) -> int:
    """1 when `incoming` is a later version than `existing`, -1 when earlier, 0 when unknown/same.

    Version numbers decide when both sides have one; otherwise the dates of the latest version.
    """
    if existing.version and incoming.version:
        return (incoming.version > existing.version) - (incoming.version < existing.version)
    if existing.updated and incoming.updated:
        old, new = existing.updated.date(), incoming.updated.date()
        return (new > old) - (new < old)
    return 0


def _fill(primary: Paper, fallback: Paper) -> Paper:
    """`primary`, with each empty field taken from `fallback`."""
    changes = {
        f.name: getattr(fallback, f.name)
        for f in dataclasses.fields(Paper)
        if getattr(primary, f.name) in (None, "", ())
        and getattr(fallback, f.name) not in (None, "", ())
    }
    return dataclasses.replace(primary, **changes) if changes else primary


def _earliest(a: _T | None, b: _T | None) -> _T | None:
    if a is None or b is None:
        return a or b
    return min(a, b)


def _latest(a: _T | None, b: _T | None) -> _T | None:
    if a is None or b is None:
        return a or b
    return max(a, b)
