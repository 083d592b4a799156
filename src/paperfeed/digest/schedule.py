"""When a subscriber's digest is due and which days it covers (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from paperfeed.config import WEEKDAYS
from paperfeed.models import Preferences

DAILY_WINDOW_DAYS = 3  # the day itself and the two before: a weekend or a late listing is caught
WEEKLY_WINDOW_DAYS = 7


@dataclass(frozen=True)
class DigestPeriod:
    """One digest's span: it goes out on `day` and covers listing days [since, until]."""

    kind: str  # daily | weekly
    day: date
    since: date
    until: date

    @property
    def key(self) -> str:
        """What makes a digest unique with its subscriber: 2026-11-29, or 2026-W48."""
        if self.kind == "weekly":
            year, week, _ = self.day.isocalendar()
            return f"{year}-W{week:02d}"
        return self.day.isoformat()


def period_for(
    preferences: Preferences, day: date, weekly_day: str = "monday"
) -> DigestPeriod | None:
    """The period of a digest going out on `day`, or None when none is due that day
    (paused, a weekend for weekdays-only, or not the weekly day)."""
    if preferences.frequency == "daily":
        if preferences.weekdays_only and day.weekday() >= 5:
            return None
        return DigestPeriod("daily", day, day - timedelta(days=DAILY_WINDOW_DAYS - 1), day)
    if preferences.frequency == "weekly":
        if day.weekday() != WEEKDAYS.index(weekly_day.strip().lower()):
            return None
        return DigestPeriod("weekly", day, day - timedelta(days=WEEKLY_WINDOW_DAYS - 1), day)
    return None


def local_now(now: datetime, timezone: str) -> datetime:
    """`now` on the subscriber's clock (UTC when the zone is unknown)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return now.astimezone(zone)


def due_day(preferences: Preferences, now: datetime, hour: int | None) -> date | None:
    """The subscriber's local date at `now`, once their clock has reached `hour` (any hour
    when None); None before it."""
    local = local_now(now, preferences.timezone)
    if hour is not None and local.hour < hour:
        return None
    return local.date()
