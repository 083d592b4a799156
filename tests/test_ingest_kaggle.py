import json
from datetime import UTC, datetime

import pytest

from conftest import FIXTURES
from paperfeed.ingest.kaggle import parse_record
from paperfeed.ingest.records import BadRecord


def _lines() -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / "kaggle_snapshot.jsonl").open()]


def test_parses_a_real_snapshot_line():
    paper = parse_record(_lines()[0]).paper
    assert paper.id == "0704.0001"
    assert paper.version == 2
    assert paper.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert paper.abstract.startswith("A fully differential calculation in perturbative quantum")
    assert paper.authors == ("C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan")
    assert paper.categories == ("hep-ph",)
    assert paper.published == datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC)
    assert paper.updated == datetime(2007, 7, 24, 20, 10, 27, tzinfo=UTC)
    assert paper.comment == "37 pages, 15 figures; published version"
    assert paper.journal_ref == "Phys.Rev.D76:013009,2007"
    assert paper.doi == "10.1103/PhysRevD.76.013009"
    assert paper.license is None
    assert paper.source == "kaggle"
    assert paper.listed is None


def test_keeps_primary_category_first_and_every_line_parses():
    papers = [parse_record(line).paper for line in _lines()]
    assert [p.id for p in papers] == [f"0704.000{n}" for n in range(1, 10)]
    assert papers[1].categories == ("math.CO", "cs.CG")
    assert [p.version for p in papers] == [2, 2, 3, 1, 1, 1, 2, 3, 1]


def test_falls_back_to_the_author_string_without_authors_parsed():
    line = _lines()[3]
    del line["authors_parsed"]
    assert parse_record(line).paper.authors == ("David Callan",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": None}, "missing id"),
        ({"id": "not-an-id"}, "not an arXiv identifier"),
        ({"versions": "v1"}, "'versions' must be a list"),
        ({"versions": [{"version": "vX", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}]}, "version"),
        ({"versions": [{"version": "v1", "created": "yesterday"}]}, "unreadable date"),
        ({"title": {"nested": True}}, "'title' must be text"),
    ],
)
def test_rejects_broken_records_with_a_reason(change, message):
    with pytest.raises(BadRecord, match=message):
        parse_record({**_lines()[0], **change})
