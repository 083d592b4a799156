from datetime import UTC, date, datetime

import pytest

from conftest import FIXTURES
from paperfeed.ingest.oai import OaiError, list_records_params, parse_page
from paperfeed.ingest.records import Item, Rejected


def test_parses_a_real_list_records_page_with_a_resumption_token():
    page = parse_page((FIXTURES / "oai_arxiv_page1.xml").read_bytes())
    assert page.resumption_token == "4006153|7"
    assert page.complete_list_size == 10
    assert page.response_date == datetime(2018, 1, 26, 9, 5, 29, tzinfo=UTC)
    papers = [o.paper for o in page.outcomes if isinstance(o, Item)]
    assert [p.id for p in papers] == [
        "1412.8323",
        "1507.07790",
        "1607.01710",
        "1706.05371",
        "1706.09418",
        "1707.00874",
    ]
    first = papers[0]
    assert first.title == (
        "Toolbox for reconstructing quantum theory from rules on information acquisition"
    )
    assert first.authors == ("Philipp A Hoehn",)
    assert first.categories[0] == "quant-ph"
    assert first.published == datetime(2014, 12, 29, tzinfo=UTC)
    assert first.updated == datetime(2017, 12, 13, tzinfo=UTC)
    assert first.license == "http://creativecommons.org/licenses/by/4.0/"
    assert first.abstract.startswith("We develop an operational approach")
    second = papers[1]
    assert second.doi == "10.1088/1751-8121/aa9c53"
    assert second.journal_ref == "J. Phys. A: Math. Theor. 51 (2018) 035201"


def test_last_page_has_no_token_and_reports_deleted_records():
    page = parse_page((FIXTURES / "oai_arxiv_page2.xml").read_bytes())
    assert page.resumption_token is None
    assert [o.paper.id for o in page.outcomes if isinstance(o, Item)] == [
        "1401.2122",
        "0804.2273",
        "0801.3931",
    ]
    assert page.outcomes[-1] == Rejected("oai:arXiv.org:hep-th/9801010", "deleted at the source")
    manos = page.outcomes[2].paper
    assert manos.title.startswith("Dynamical study of 2D and 3D barred galaxy models")
    assert "Poincar\\'{e} $(y,p_y)$" in manos.abstract  # LaTeX kept verbatim


def test_no_records_match_is_an_empty_page_and_other_errors_raise():
    assert parse_page((FIXTURES / "oai_noRecordsMatch.xml").read_bytes()).outcomes == []
    with pytest.raises(OaiError) as caught:
        parse_page((FIXTURES / "oai_error_badResumptionToken.xml").read_bytes())
    assert caught.value.code == "badResumptionToken"
    with pytest.raises(OaiError, match="not well-formed"):
        parse_page(b"<OAI-PMH><unclosed>")


def test_request_parameters_for_first_and_resumed_pages():
    assert list_records_params("cs", date(2026, 6, 1), date(2026, 6, 2), None) == {
        "verb": "ListRecords",
        "metadataPrefix": "arXiv",
        "set": "cs",
        "from": "2026-06-01",
        "until": "2026-06-02",
    }
    assert list_records_params("cs", date(2026, 6, 1), None, "4006153|7") == {
        "verb": "ListRecords",
        "resumptionToken": "4006153|7",
    }
