"""Score papers by votes decayed with age, so what is new and liked rises (pure).

The decay is exponential: a paper's score halves every `half_life_hours`. Unlike a gravity
formula, this keeps the order of any two papers fixed as time passes, so the rank can be stored
as a key that never needs recomputing: log2(votes) + (hours from 1970 to the paper's day) /
half-life. Only a paper whose votes change gets a new key (one row per vote), and the score
shown at any moment is 2 ** (key - now_hours / half-life).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

HALF_LIFE_HOURS = 24.0  # a day-old paper needs twice the votes of a fresh one
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Trend:
    """Why a paper trends: its votes, its age and the score they make."""

    upvotes: int
    age_hours: float
    score: float


def trending_score(
    upvotes: int, age_hours: float, half_life_hours: float = HALF_LIFE_HOURS
) -> float:
    """votes * 0.5 ** (age / half-life); a paper from the future counts as brand new."""
    return max(upvotes, 0) * 0.5 ** (max(age_hours, 0.0) / half_life_hours)


def trend_key(upvotes: int, since: date, half_life_hours: float = HALF_LIFE_HOURS) -> float | None:
    """The stored rank of a paper that appeared on day `since`; None without votes.

    Ordering by it equals ordering by trending_score at any moment after both papers' days.
    """
    if upvotes <= 0:
        return None
    return math.log2(upvotes) + (since - _EPOCH).days * 24.0 / half_life_hours


def trend(
    upvotes: int, since: date, now: datetime, half_life_hours: float = HALF_LIFE_HOURS
) -> Trend:
    """The Trend of a paper that appeared on day `since` (midnight UTC), seen at `now`."""
    start = datetime.combine(since, time(0, 0), tzinfo=UTC)
    age_hours = max((now - start).total_seconds() / 3600.0, 0.0)
    return Trend(upvotes, age_hours, trending_score(upvotes, age_hours, half_life_hours))
