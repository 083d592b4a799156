"""Score papers by votes decayed with age, so what is new and liked rises (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

GRAVITY = 1.8  # Hacker News' exponent: a day-old paper needs ~2.6x the votes of a fresh one


@dataclass(frozen=True)
class Trend:
    """Why a paper trends: its votes, its age and the score they make."""

    upvotes: int
    age_hours: float
    score: float


def trending_score(upvotes: int, age_hours: float, gravity: float = GRAVITY) -> float:
    """votes / (age_hours + 2) ** gravity; a paper from the future counts as brand new."""
    return max(upvotes, 0) / (max(age_hours, 0.0) + 2.0) ** gravity


def trend(upvotes: int, since: date, now: datetime, gravity: float = GRAVITY) -> Trend:
    """The Trend of a paper that appeared on day `since` (midnight UTC), seen at `now`."""
    start = datetime.combine(since, time(0, 0), tzinfo=UTC)
    age_hours = max((now - start).total_seconds() / 3600.0, 0.0)
    return Trend(upvotes, age_hours, trending_score(upvotes, age_hours, gravity))
