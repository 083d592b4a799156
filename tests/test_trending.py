from datetime import UTC, date, datetime

import pytest

from paperfeed.trending import Trend, trend, trending_score


def test_votes_rise_and_age_decays():
    assert trending_score(10, 0) > trending_score(5, 0)
    assert trending_score(10, 2) > trending_score(10, 24)
    assert trending_score(10, 0) == pytest.approx(10 / 2**1.8)
    assert trending_score(0, 5) == 0
    assert trending_score(-3, 5) == 0
    assert trending_score(4, -10) == trending_score(4, 0)


def test_a_fresh_paper_with_fewer_votes_can_beat_an_older_one():
    assert trending_score(10, 6) > trending_score(40, 72)


def test_trend_measures_age_from_midnight_utc_of_its_day():
    now = datetime(2026, 6, 27, 12, 0, tzinfo=UTC)
    assert trend(8, date(2026, 6, 26), now) == Trend(8, 36.0, trending_score(8, 36.0))
