from datetime import UTC, date, datetime

import pytest

from paperfeed.ingest.jsonl import parse_record
from paperfeed.ingest.records import BadRecord

DUMP_LINE = {
    "id": "2606.27372",
    "title": "DnA: Denoising Attention for Visual Tasks",
    "abstract": "The softmax activation in multihead attention (MHA) is the de facto standard.",
    "authors": ["Ron Campos", "Subhajit Maity", "Xin Li", "Srijan Das", "Aritra Dutta"],
    "categories": ["cs.CV"],
    "published": "2026-06-26",
    "comment": None,
}


def test_parses_a_line_of_the_arxiv_cs_daily_dump():
    paper = parse_record(DUMP_LINE).paper
    assert paper.id == "2606.27372"
    assert paper.authors == ("Ron Campos", "Subhajit Maity", "Xin Li", "Srijan Das", "Aritra Dutta")
    assert paper.categories == ("cs.CV",)
    assert paper.published == datetime(2026, 6, 26, tzinfo=UTC)
    assert paper.listed == date(2026, 6, 26)  # the dump's `published` is its listing day
    assert paper.comment is None
    assert paper.version is None
    assert paper.source == "jsonl"


def test_optional_fields_and_versioned_ids():
    record = {
        **DUMP_LINE,
        "id": "arXiv:2606.27372v3",
        "listed": "2026-06-29",
        "updated": "2026-07-02T10:00:00Z",
        "doi": "10.1/x",
        "journal_ref": "J. Test 1 (2026)",
    }
    paper = parse_record(record).paper
    assert (paper.id, paper.version) == ("2606.27372", 3)
    assert paper.listed == date(2026, 6, 29)
    assert paper.updated == datetime(2026, 7, 2, 10, tzinfo=UTC)
    assert (paper.doi, paper.journal_ref) == ("10.1/x", "J. Test 1 (2026)")
    assert parse_record({**DUMP_LINE, "version": "v2"}).paper.version == 2


def test_parses_beir_corpus_records():
    paper = parse_record(
        {"_id": "4983", "title": "Microstructural development", "text": "Alterations."}
    ).paper
    assert (paper.id, paper.title, paper.abstract) == (
        "4983",
        "Microstructural development",
        "Alterations.",
    )
    assert paper.abs_url is None


def test_empty_title_and_abstract_are_kept_not_fatal():
    paper = parse_record({"id": "2606.00001", "title": "", "abstract": None}).paper
    assert (paper.title, paper.abstract) == ("", "")


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"title": "no id"}, "missing id"),
        ({"id": "has spaces in it"}, "unusable id"),
        ({**DUMP_LINE, "published": "last tuesday"}, "unreadable date"),
        ({**DUMP_LINE, "authors": "x" and 5}, "'authors' must be a list"),
        ({**DUMP_LINE, "authors": [["nested"]]}, "expected names"),
        ({**DUMP_LINE, "categories": [1, 2]}, "'categories' must be"),
        ({**DUMP_LINE, "version": "latest"}, "bad version"),
    ],
)
def test_rejects_broken_records_with_a_reason(record, message):
    with pytest.raises(BadRecord, match=message):
        parse_record(record)
