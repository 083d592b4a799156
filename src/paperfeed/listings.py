"""Build the lists readers browse (a day, an ISO week, a month, trending, newest), once, for the
web pages, the JSON API and the feeds alike."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from paperfeed.models import ListedPaper
from paperfeed.storage import Store
from paperfeed.trending import Trend, trend

PERIODS = ("date", "week", "month")
TRENDING_WINDOW_DAYS = 7
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class BadPeriod(ValueError):
    """A date, week or month that cannot be read (the message says what is expected)."""


@dataclass(frozen=True)
class Period:
    """A span of listing days: one day, an ISO week (Monday to Sunday) or a calendar month."""

    kind: str
    start: date
    end: date

    @property
    def key(self) -> str:
        """How URLs and the API name it: 2026-06-26, 2026-W26, 2026-06."""
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "month":
            return self.start.strftime("%Y-%m")
        return self.start.isoformat()

    @property
    def label(self) -> str:
        """How people read it: Friday 26 June 2026, Week 26 of 2026, June 2026."""
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"Week {week} of {year}"
        if self.kind == "month":
            return f"{calendar.month_name[self.start.month]} {self.start.year}"
        return f"{self.start:%A} {self.start.day} {self.start:%B %Y}"

    @classmethod
    def containing(cls, kind: str, day: date) -> Period:
        """The period of `kind` that contains `day`."""
        if kind == "week":
            start = day - timedelta(days=day.weekday())
            # The week of 9999-12-31 ends in year 10000, which `date` cannot hold.
            end = date.max if date.max - start < timedelta(days=6) else start + timedelta(days=6)
            return cls("week", start, end)
        if kind == "month":
            last = calendar.monthrange(day.year, day.month)[1]
            return cls("month", day.replace(day=1), day.replace(day=last))
        return cls("date", day, day)


def parse_period(kind: str, value: str) -> Period:
    """Read YYYY-MM-DD (date), YYYY-Www (week) or YYYY-MM (month); BadPeriod otherwise."""
    value = value.strip()
    try:
        if kind == "date":
            return Period.containing("date", date.fromisoformat(value))
        if kind == "week":
            match = _WEEK.match(value)
            if match:
                monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
                if date.max - monday >= timedelta(days=6):
                    return Period.containing("week", monday)
                raise BadPeriod(f"week {value} ends after {date.max}, the last day there is")
            raise ValueError
        if kind == "month":
            match = _MONTH.match(value)
            if match:
                return Period.containing("month", date(int(match[1]), int(match[2]), 1))
            raise ValueError
    except BadPeriod:
        raise
    except ValueError:
        pass
    expected = {"date": "YYYY-MM-DD", "week": "YYYY-Www, e.g. 2026-W26", "month": "YYYY-MM"}
    if kind not in expected:
        raise BadPeriod(f"unknown period {kind!r}; use date, week or month")
    raise BadPeriod(f"{kind} must look like {expected[kind]}, not {value[:40]!r}")


@dataclass(frozen=True)
class Listing:
    """One page of a list, with what is needed to draw it and to move around."""

    title: str
    items: list[ListedPaper]
    total: int
    page: int
    limit: int
    period: Period | None = None
    previous: Period | None = None
    following: Period | None = None
    trends: dict[int, Trend] = field(default_factory=dict)
    has_code: bool = False  # only papers that link to their code

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))


def period_listing(
    store: Store,
    period: Period,
    page: int = 0,
    limit: int = 50,
    order: str = "upvotes",
    has_code: bool = False,
) -> Listing:
    """The papers of a period, most voted first (or newest first with order="date"); with
    `has_code` only those that link to their code."""
    items = store.listed_papers(period.start, period.end, order, limit, page * limit, has_code)
    before = store.day_before(period.start)
    after = store.day_after(period.end)
    return Listing(
        title=period.label,
        items=items,
        total=store.count_listed(period.start, period.end, has_code),
        page=page,
        limit=limit,
        period=period,
        previous=Period.containing(period.kind, before) if before else None,
        following=Period.containing(period.kind, after) if after else None,
        has_code=has_code,
    )


def latest_listing(
    store: Store,
    kind: str = "date",
    page: int = 0,
    limit: int = 50,
    order: str = "upvotes",
    has_code: bool = False,
) -> Listing | None:
    """The most recent period of `kind` that has papers; None for an empty catalog."""
    latest = store.latest_day()
    if latest is None:
        return None
    return period_listing(store, Period.containing(kind, latest), page, limit, order, has_code)


def trending_now(store: Store, now: datetime) -> datetime:
    """The moment trending is measured at: now, or the end of the catalog's last day if that
    is earlier (an instance whose data stopped still shows what trended then)."""
    latest = store.latest_day()
    if latest is None:
        return now
    end = datetime.combine(latest + timedelta(days=1), time(0, 0), tzinfo=UTC)
    return min(now, end)


def trending_listing(
    store: Store,
    now: datetime,
    page: int = 0,
    limit: int = 50,
    window_days: int = TRENDING_WINDOW_DAYS,
    has_code: bool = False,
) -> Listing:
    """Papers of the last `window_days` by votes decayed with age (the stored rank, see
    trending.py), then the newest; each shown paper's Trend says why it is where it is."""
    moment = trending_now(store, now)
    until = moment.date()
    since = until - timedelta(days=window_days)
    shown = store.trending_papers(since, until, limit, page * limit, has_code)
    half_life = store.trend_half_life()
    return Listing(
        title="Trending papers",
        items=shown,
        total=store.count_listed(since, until, has_code),
        page=page,
        limit=limit,
        trends={
            item.pk: trend(item.upvotes, item.featured_on or item.day or until, moment, half_life)
            for item in shown
        },
        has_code=has_code,
    )
