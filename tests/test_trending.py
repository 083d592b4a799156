from datetime import UTC, date, datetime, timedelta

import pytest

from paperfeed.trending import Trend, trend, trend_key, trending_score


def test_votes_rise_and_age_decays():
    assert trending_score(10, 0) > trending_score(5, 0)
    assert trending_score(10, 2) > trending_score(10, 24)
    assert trending_score(10, 24) == pytest.approx(5.0)
    assert trending_score(10, 48, half_life_hours=48) == pytest.approx(5.0)
    assert trending_score(0, 5) == 0
    assert trending_score(-3, 5) == 0
    assert trending_score(4, -10) == trending_score(4, 0)


def test_a_fresh_paper_with_fewer_votes_can_beat_an_older_one():
    assert trending_score(10, 6) > trending_score(40, 72)


def test_trend_measures_age_from_midnight_utc_of_its_day():
    now = datetime(2026, 6, 27, 12, 0, tzinfo=UTC)
    assert trend(8, date(2026, 6, 26), now) == Trend(8, 36.0, trending_score(8, 36.0))


def test_the_stored_key_orders_papers_as_the_score_does_at_any_later_moment():
    papers = [
        (40, date(2026, 6, 20)),
        (10, date(2026, 6, 23)),
        (3, date(2026, 6, 24)),
        (1, date(2026, 6, 25)),
        (25, date(2026, 6, 22)),
    ]
    by_key = sorted(papers, key=lambda p: -trend_key(*p))
    for hours in (0, 7, 30, 200):
        now = datetime(2026, 6, 25, tzinfo=UTC) + timedelta(hours=hours)
        by_score = sorted(papers, key=lambda p: -trend(p[0], p[1], now).score)
        assert by_key == by_score
    # and the score is the key seen from `now`
    now = datetime(2026, 6, 26, 6, tzinfo=UTC)
    key = trend_key(10, date(2026, 6, 23))
    now_hours = (now - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() / 3600
    assert 2 ** (key - now_hours / 24) == pytest.approx(trend(10, date(2026, 6, 23), now).score)
    assert trend_key(0, date(2026, 6, 23)) is None
