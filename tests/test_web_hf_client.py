"""Hugging Face's own client, unmodified, against a running paperfeed server."""

from datetime import UTC, datetime

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.hf_api import PaperInfo


@pytest.fixture(scope="module")
def api(live_server):
    return HfApi(endpoint=live_server, token=False)


def test_paper_info(api):
    info = api.paper_info("2606.27372")
    assert isinstance(info, PaperInfo)
    assert info.id == "2606.27372"
    assert info.title == "DnA: Denoising Attention for Visual Tasks"
    assert [a.name for a in info.authors][:2] == ["Ron Campos", "Subhajit Maity"]
    assert info.published_at == datetime(2026, 6, 26, tzinfo=UTC)
    assert info.summary.startswith("The softmax activation in multihead attention")
    assert info.upvotes == 0


def test_unknown_paper_raises_the_clients_404(api):
    with pytest.raises(HfHubHTTPError) as caught:
        api.paper_info("2606.99999")
    assert caught.value.response.status_code == 404


def test_list_papers_searches(api):
    papers = list(api.list_papers(query="3D gaussian splatting", limit=5))
    assert len(papers) == 5
    assert all(isinstance(p, PaperInfo) and p.id and p.title for p in papers)
    assert any("splat" in p.title.lower() for p in papers)


def test_list_daily_papers_by_date_week_and_month(api):
    day = list(api.list_daily_papers(date="2026-06-26", limit=100))
    assert len(day) == 100
    assert all(p.submitted_at == datetime(2026, 6, 26, tzinfo=UTC) for p in day)
    week = list(api.list_daily_papers(week="2026-W26", limit=10, p=1))
    assert len(week) == 10
    month = list(api.list_daily_papers(month="2026-07"))
    assert len(month) == 50
    trending = list(api.list_daily_papers(sort="trending", limit=5))
    assert len(trending) == 5


def test_read_paper_gives_markdown(api):
    text = api.read_paper("2606.27372")
    assert text.startswith("# DnA: Denoising Attention for Visual Tasks\n")
    assert "## Abstract" in text


def test_list_daily_papers_by_submitter(api):
    papers = list(api.list_daily_papers(submitter="taesiri", limit=100))
    assert len(papers) == 35  # the sample's papers Hugging Face says taesiri submitted
    assert all(p.submitted_by.username == "taesiri" for p in papers)
    days = [p.submitted_at for p in papers]
    assert days == sorted(days, reverse=True)  # newest first
    page = list(api.list_daily_papers(submitter="taesiri", limit=10, p=3))
    assert [p.id for p in page] == [p.id for p in papers[30:]]
    assert list(api.list_daily_papers(submitter="nobody-at-all")) == []
