import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date

import pytest

from conftest import FIXTURES
from paperfeed.ingest.harvest import harvest_arxiv
from paperfeed.ingest.pipeline import IngestFailed, IngestInterrupted
from replay import Reply

TOKEN = "4006153|7"
PAGE1 = (FIXTURES / "oai_arxiv_page1.xml").read_bytes()
PAGE2 = (FIXTURES / "oai_arxiv_page2.xml").read_bytes()
JUNE = (date(2017, 12, 1), date(2017, 12, 31))


def _serve(replay, *page2_replies: Reply) -> None:
    replay.route("/oai", Reply(PAGE1), metadataPrefix="arXiv")
    replay.route("/oai", *(page2_replies or (Reply(PAGE2),)), resumptionToken=TOKEN)


def _settings(settings, replay):
    return dataclasses.replace(settings, arxiv_oai_url=f"{replay.url}/oai")


def test_follows_resumption_tokens_to_the_last_page(replay, settings, store):
    _serve(replay)
    report = harvest_arxiv(store, _settings(settings, replay), "cs", *JUNE)
    assert report.summary() == "added 9, updated 0, unchanged 0, skipped 1"
    assert report.problems == ["oai:arXiv.org:hep-th/9801010: deleted at the source"]
    assert [r.params for r in replay.requests] == [
        {
            "verb": "ListRecords",
            "metadataPrefix": "arXiv",
            "set": "cs",
            "from": "2017-12-01",
            "until": "2017-12-31",
        },
        {"verb": "ListRecords", "resumptionToken": TOKEN},
    ]
    assert replay.requests[1].at - replay.requests[0].at >= settings.request_delay_s
    state = store.get_harvest_state("arxiv-oai:cs")
    assert (state.resumption_token, state.pages, state.records) == (None, 2, 10)
    assert state.completed_until == date(2017, 12, 31)
    assert store.count_papers() == 9


def test_waits_out_a_503_with_retry_after(replay, settings, store):
    _serve(replay, Reply(b"", status=503, headers={"Retry-After": "1"}), Reply(PAGE2))
    report = harvest_arxiv(store, _settings(settings, replay), "cs", *JUNE)
    assert report.added == 9
    retried, served = replay.requests[1], replay.requests[2]
    assert retried.params == served.params == {"verb": "ListRecords", "resumptionToken": TOKEN}
    assert served.at - retried.at >= 0.99


def test_a_failed_harvest_resumes_from_its_last_token(replay, settings, store):
    _serve(replay, Reply(b"down", status=500))
    with pytest.raises(IngestInterrupted, match="HTTP 500"):
        harvest_arxiv(store, _settings(settings, replay), "cs", *JUNE)
    assert store.count_papers() == 6
    assert store.get_harvest_state("arxiv-oai:cs").resumption_token == TOKEN

    replay._rules.clear()
    replay.requests.clear()
    _serve(replay)
    report = harvest_arxiv(store, _settings(settings, replay), "cs", *JUNE)
    assert [r.params for r in replay.requests] == [
        {"verb": "ListRecords", "resumptionToken": TOKEN}
    ]
    assert (report.added, store.count_papers()) == (3, 9)


def test_an_expired_token_starts_the_harvest_over(replay, settings, store):
    _serve(replay, Reply(b"down", status=500))
    with pytest.raises(IngestInterrupted, match="HTTP 500"):
        harvest_arxiv(store, _settings(settings, replay), "cs", *JUNE)
    replay._rules.clear()
    expired = (FIXTURES / "oai_error_badResumptionToken.xml").read_bytes()
    _serve(replay, Reply(expired))
    replay.route("/oai", Reply(PAGE2), resumptionToken="again")
    replay._rules[0] = (
        "/oai",
        {"metadataPrefix": "arXiv"},
        [Reply(PAGE1.replace(TOKEN.encode(), b"again"))],
    )
    report = harvest_arxiv(store, _settings(settings, replay), "cs", *JUNE)
    assert (report.added, report.unchanged, store.count_papers()) == (3, 6, 9)


def test_next_harvest_continues_where_the_last_one_ended(replay, settings, store):
    _serve(replay)
    harvest_arxiv(store, _settings(settings, replay), "cs", *JUNE)
    replay.requests.clear()
    report = harvest_arxiv(store, _settings(settings, replay), "cs", None, None)
    assert replay.requests[0].params["from"] == "2017-12-31"
    assert "until" not in replay.requests[0].params
    assert report.unchanged == 9
    # Without --until, the day of the repository's response is where the next one starts.
    assert store.get_harvest_state("arxiv-oai:cs").completed_until == date(2018, 1, 26)


def test_first_harvest_needs_a_start_date(settings, store):
    with pytest.raises(IngestFailed, match="give --from"):
        harvest_arxiv(store, settings, "cs", None, None)
    with pytest.raises(IngestFailed, match="before --from"):
        harvest_arxiv(store, settings, "cs", date(2026, 6, 2), date(2026, 6, 1))


def _cli(settings, replay, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "PAPERFEED_DATABASE_URL": settings.database_url,
        "PAPERFEED_DATA_DIR": settings.data_dir,
        "PAPERFEED_ARXIV_OAI_URL": f"{replay.url}/oai",
        "PAPERFEED_REQUEST_DELAY_S": "0.05",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "paperfeed", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_killed_harvest_resumes_from_its_last_token(replay, settings, store):
    release = threading.Event()
    _serve(replay, Reply(PAGE2, hold=release))
    args = ("harvest", "arxiv", "--set", "cs", "--from", "2017-12-01", "--until", "2017-12-31")
    first = _cli(settings, replay, *args)
    deadline = time.monotonic() + 30
    while len(replay.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert replay.requests[1].params == {"verb": "ListRecords", "resumptionToken": TOKEN}
    first.send_signal(signal.SIGKILL)
    first.wait()
    release.set()
    assert store.count_papers() == 6

    replay.requests.clear()
    second = _cli(settings, replay, *args)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert out.splitlines()[0] == "added 3, updated 0, unchanged 0, skipped 1"
    assert [r.params for r in replay.requests] == [
        {"verb": "ListRecords", "resumptionToken": TOKEN}
    ]
    assert store.count_papers() == 9


def test_a_second_harvest_of_a_set_waits_its_turn(replay, settings, store):
    from paperfeed.ingest.harvest import HarvestBusy
    from paperfeed.storage import open_store

    _serve(replay)
    other = open_store(settings.database_url, migrate=False, pool_size=2)  # another process
    try:
        with other.job_lock("harvest:arxiv-oai:cs") as held:
            assert held
            with pytest.raises(HarvestBusy, match="another harvest of arxiv-oai:cs"):
                harvest_arxiv(store, _settings(settings, replay), "cs", *JUNE)
            assert replay.requests == []
            # Another set is another job.
            harvest_arxiv(store, _settings(settings, replay), "math", *JUNE)
    finally:
        other.close()
    assert harvest_arxiv(store, _settings(settings, replay), "cs", *JUNE).added == 0
