"""Faults at arXiv, replayed by a real local HTTP server: OAI-PMH answering 503 (with and
without Retry-After), XML cut short mid-record, a refused resumption token; the Atom API
answering 503 or cut XML. The harvest keeps what it has, says so, and resumes when rerun."""

import dataclasses
from datetime import date

import pytest

from conftest import FIXTURES
from paperfeed.ingest.harvest import harvest_arxiv
from paperfeed.ingest.pipeline import IngestInterrupted, ingest_sources
from replay import Reply

TOKEN = "4006153|7"
PAGE1 = (FIXTURES / "oai_arxiv_page1.xml").read_bytes()
PAGE2 = (FIXTURES / "oai_arxiv_page2.xml").read_bytes()
BAD_TOKEN = (FIXTURES / "oai_error_badResumptionToken.xml").read_bytes()
DECEMBER = (date(2017, 12, 1), date(2017, 12, 31))
# Page 2 cut inside its second <record>: the first is whole, the second is not.
CUT = PAGE2.index(b"<record>", PAGE2.index(b"<record>") + 1) + 200
ATOM1 = (FIXTURES / "atom_search_page1.xml").read_bytes()
ATOM2 = (FIXTURES / "atom_search_page2.xml").read_bytes()
ATOM_CUT = ATOM2.index(b"<entry>") + 300


def _oai(replay, *page2: Reply, page1: Reply | None = None) -> None:
    replay.route("/oai", page1 or Reply(PAGE1), metadataPrefix="arXiv")
    replay.route("/oai", *page2, resumptionToken=TOKEN)


def _settings(settings, replay):
    return dataclasses.replace(settings, arxiv_oai_url=f"{replay.url}/oai")


def _rerun_resumes_from_the_token(replay, settings, store) -> None:
    """Run the harvest again against a healthy server: it asks for page 2 only and ends with
    every paper once."""
    replay._rules.clear()
    replay.requests.clear()
    _oai(replay, Reply(PAGE2))
    report = harvest_arxiv(store, _settings(settings, replay), "cs", *DECEMBER)
    assert [r.params for r in replay.requests] == [
        {"verb": "ListRecords", "resumptionToken": TOKEN}
    ]
    assert (report.added, store.count_papers()) == (3, 9)
    state = store.get_harvest_state("arxiv-oai:cs")
    assert (state.resumption_token, state.pages, state.completed_until) == (None, 2, DECEMBER[1])


def _stops_after_page_1(exc: pytest.ExceptionInfo, store) -> None:
    message = str(exc.value)
    assert "kept: added 6, updated 0, unchanged 0, skipped 0" in message
    assert "1 page (6 records) saved; run the same harvest again to resume from page 2" in message
    assert store.count_papers() == 6
    assert store.get_harvest_state("arxiv-oai:cs").resumption_token == TOKEN


def test_oai_503s_without_retry_after_back_off_then_stop_and_the_rerun_resumes(
    replay, settings, store
):
    _oai(replay, Reply(b"busy", status=503))
    with pytest.raises(IngestInterrupted, match="HTTP 503 after 4 attempts") as stopped:
        harvest_arxiv(store, _settings(settings, replay), "cs", *DECEMBER)
    waits = [b.at - a.at for a, b in zip(replay.requests[1:], replay.requests[2:], strict=False)]
    assert len(waits) == 3 and waits[0] >= 0.1 and waits[1] >= 0.2 and waits[2] >= 0.4
    _stops_after_page_1(stopped, store)
    _rerun_resumes_from_the_token(replay, settings, store)


def test_oai_503s_with_retry_after_are_waited_out(replay, settings, store):
    _oai(
        replay,
        Reply(b"", status=503, headers={"Retry-After": "1"}),
        Reply(b"", status=503, headers={"Retry-After": "0"}),
        Reply(PAGE2),
    )
    report = harvest_arxiv(store, _settings(settings, replay), "cs", *DECEMBER)
    assert (report.added, store.count_papers()) == (9, 9)
    assert replay.requests[2].at - replay.requests[1].at >= 0.99


def test_an_oai_retry_after_too_long_stops_at_once_and_the_rerun_resumes(replay, settings, store):
    _oai(replay, Reply(b"", status=503, headers={"Retry-After": "7200"}))
    with pytest.raises(IngestInterrupted, match="asked to retry after 7200 s") as stopped:
        harvest_arxiv(store, _settings(settings, replay), "cs", *DECEMBER)
    assert len(replay.requests) == 2  # no waiting two hours
    _stops_after_page_1(stopped, store)
    _rerun_resumes_from_the_token(replay, settings, store)


def test_oai_xml_cut_by_a_dropped_connection_is_fetched_again(replay, settings, store):
    _oai(replay, Reply(PAGE2, cut_at=CUT), Reply(PAGE2))
    report = harvest_arxiv(store, _settings(settings, replay), "cs", *DECEMBER)
    assert (report.added, store.count_papers()) == (9, 9)
    assert len(replay.requests) == 3


def test_oai_xml_cut_short_mid_record_is_asked_again(replay, settings, store):
    """A whole HTTP answer whose XML ends mid-record (a proxy, a server bug) is asked for
    again, like a dropped connection."""
    _oai(replay, Reply(PAGE2[:CUT]), Reply(PAGE2))
    report = harvest_arxiv(store, _settings(settings, replay), "cs", *DECEMBER)
    assert (report.added, store.count_papers()) == (9, 9)
    assert len(replay.requests) == 3


def test_oai_xml_that_stays_cut_stops_the_harvest_at_that_page_and_the_rerun_resumes(
    replay, settings, store
):
    _oai(replay, Reply(PAGE2[:CUT]))
    with pytest.raises(IngestInterrupted, match="not well-formed XML") as stopped:
        harvest_arxiv(store, _settings(settings, replay), "cs", *DECEMBER)
    assert len(replay.requests) == 1 + 4  # page 1, then page 2 asked 4 times
    # The cut page's first record is whole, yet nothing of that page is written: the page
    # is written whole with its token, or not at all.
    _stops_after_page_1(stopped, store)
    _rerun_resumes_from_the_token(replay, settings, store)


def test_a_refused_resumption_token_starts_over_once_then_stops(replay, settings, store):
    _oai(replay, Reply(BAD_TOKEN))
    with pytest.raises(IngestInterrupted, match="badResumptionToken") as stopped:
        harvest_arxiv(store, _settings(settings, replay), "cs", *DECEMBER)
    # Page 1, its token refused, page 1 again (the list restarted), the new token refused.
    assert [r.params.get("resumptionToken") for r in replay.requests] == [None, TOKEN] * 2
    assert "kept: added 6, updated 0, unchanged 6" in str(stopped.value)
    assert store.count_papers() == 6
    _rerun_resumes_from_the_token(replay, settings, store)


def _atom(replay, *page2: Reply) -> str:
    replay.route("/api/query", Reply(ATOM1), start="0")
    replay.route("/api/query", *page2, start="2")
    return f"{replay.url}/api/query?search_query=all:testing"


def test_atom_503s_fail_the_source_keep_the_first_page_and_the_rerun_adds_the_rest(
    replay, settings, store
):
    url = _atom(replay, Reply(b"busy", status=503))
    report = ingest_sources(store, [url], settings)
    assert report.summary() == "added 2, updated 0, unchanged 0, skipped 0, failed sources 1"
    assert "HTTP 503 after 4 attempts" in report.problems[0]
    assert store.count_papers() == 2
    replay._rules.clear()
    url = _atom(replay, Reply(ATOM2))
    again = ingest_sources(store, [url], settings)
    assert again.summary() == "added 2, updated 0, unchanged 2, skipped 0"
    assert store.count_papers() == 4


def test_atom_xml_cut_short_is_asked_again(replay, settings, store):
    url = _atom(replay, Reply(ATOM2[:ATOM_CUT]), Reply(ATOM2, cut_at=ATOM_CUT), Reply(ATOM2))
    report = ingest_sources(store, [url], settings)
    assert report.summary() == "added 4, updated 0, unchanged 0, skipped 0"
    assert len(replay.requests) == 4


def test_atom_xml_that_stays_cut_fails_the_source_and_keeps_the_rest(replay, settings, store):
    url = _atom(replay, Reply(ATOM2[:ATOM_CUT]))
    report = ingest_sources(store, [url], settings)
    assert report.summary() == "added 2, updated 0, unchanged 0, skipped 0, failed sources 1"
    assert "not well-formed XML" in report.problems[0]
    assert len(replay.requests) == 1 + 4
