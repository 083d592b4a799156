from datetime import UTC, date, datetime

from conftest import make_paper
from paperfeed.merge import compare_versions, merge_paper


def test_a_new_paper_is_stored_as_it_is():
    paper = make_paper()
    assert merge_paper(None, paper) == paper


def test_the_same_record_twice_changes_nothing():
    assert merge_paper(make_paper(), make_paper()) is None


def test_a_newer_version_replaces_the_text_and_keeps_the_first_published_date():
    v1 = make_paper(version=1, published=datetime(2026, 6, 25, tzinfo=UTC))
    v2 = make_paper(
        version=2,
        title="Denoising Attention, revised",
        abstract="Now with more experiments.",
        published=datetime(2026, 7, 3, tzinfo=UTC),
        updated=datetime(2026, 7, 3, tzinfo=UTC),
        source="arxiv-api",
    )
    merged = merge_paper(v1, v2)
    assert merged == make_paper(
        version=2,
        title="Denoising Attention, revised",
        abstract="Now with more experiments.",
        published=datetime(2026, 6, 25, tzinfo=UTC),
        updated=datetime(2026, 7, 3, tzinfo=UTC),
        source="arxiv-api",
    )


def test_a_lower_version_never_overwrites_but_fills_gaps():
    v3 = make_paper(version=3, title="Final title", doi=None, listed=None)
    v1 = make_paper(version=1, title="First title", doi="10.1/x", listed=date(2026, 6, 26))
    merged = merge_paper(v3, v1)
    assert merged == make_paper(
        version=3, title="Final title", doi="10.1/x", listed=date(2026, 6, 26)
    )
    assert (
        merge_paper(v3, make_paper(version=1, title="First title", doi=None, listed=None)) is None
    )


def test_versions_unknown_compare_by_latest_version_date():
    older = make_paper(version=None, updated=datetime(2026, 1, 1, tzinfo=UTC), title="Old")
    newer = make_paper(version=None, updated=datetime(2026, 3, 1, tzinfo=UTC), title="New")
    assert compare_versions(older, newer) == 1
    assert compare_versions(newer, older) == -1
    assert merge_paper(newer, older) is None
    assert merge_paper(older, newer).title == "New"


def test_newer_by_date_but_unnumbered_drops_the_stale_number():
    v2 = make_paper(version=2, updated=datetime(2026, 1, 1, tzinfo=UTC))
    later = make_paper(version=None, updated=datetime(2026, 5, 1, tzinfo=UTC), title="Later")
    assert merge_paper(v2, later).version is None


def test_same_version_from_a_primary_source_replaces_corrected_text():
    stored = make_paper(version=None, title="Typo in titel")
    fixed = make_paper(version=None, title="Typo in title")
    assert merge_paper(stored, fixed).title == "Typo in title"


def test_secondary_sources_only_fill_gaps():
    stored = make_paper(version=None, title="arXiv title", comment=None)
    from_hf = make_paper(
        version=None, title="HF edited title", comment="CVPR 2026", source="hf-daily"
    )
    merged = merge_paper(stored, from_hf)
    assert (merged.title, merged.comment, merged.source) == ("arXiv title", "CVPR 2026", "jsonl")


def test_a_different_source_with_the_same_content_is_unchanged():
    assert merge_paper(make_paper(source="jsonl"), make_paper(source="arxiv-oai")) is None
