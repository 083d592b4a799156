"""Code and project links found in abstracts and comments (code_links.py), and where they show."""

import time

import pytest

from paperfeed.code_links import Links, links_in, repository


@pytest.mark.parametrize(
    ("url", "repo"),
    [
        ("https://github.com/owner/repo", "https://github.com/owner/repo"),
        ("https://github.com/owner/repo.git", "https://github.com/owner/repo"),
        ("https://www.github.com/Owner/Repo/tree/main/src", "https://github.com/Owner/Repo"),
        ("http://gitlab.com/group/project/-/blob/x", "https://gitlab.com/group/project"),
        ("https://codeberg.org/someone/tool", "https://codeberg.org/someone/tool"),
        ("https://huggingface.co/org/model-7b", "https://huggingface.co/org/model-7b"),
        ("https://huggingface.co/spaces/org/demo", "https://huggingface.co/spaces/org/demo"),
        (
            "https://huggingface.co/datasets/org/set/tree/main",
            "https://huggingface.co/datasets/org/set",
        ),
        ("https://huggingface.co/papers/2606.12345", None),
        ("https://github.com/owner", None),
        ("https://github.com/orgs/owner", None),
        ("https://example.org/owner/repo", None),
    ],
)
def test_a_link_into_a_repository_is_reduced_to_the_repository(url, repo):
    assert repository(url) == repo


def test_the_first_code_and_project_links_of_abstract_then_comment():
    abstract = (
        "We propose X. Our project page: https://example.org/x-project, and code is at "
        "https://github.com/lab/x. See also https://github.com/other/y."
    )
    assert links_in(abstract, None) == Links(
        "https://github.com/lab/x", "https://example.org/x-project"
    )
    assert links_in("Code: https://github.com/lab/x.", "https://lab.github.io/x/") == Links(
        "https://github.com/lab/x", "https://lab.github.io/x/"
    )
    # A plain link nobody calls a project page is not one; arXiv and DOI links never are.
    assert (
        links_in("Data from https://example.org/data and https://arxiv.org/abs/2606.1") == Links()
    )
    assert links_in("Website: https://doi.org/10.1/x") == Links()
    assert links_in(None, "", "no links here") == Links()


def test_only_web_links_count_and_hostile_text_is_quick():
    assert links_in('javascript:alert(1) "https://github.com/a/b"><script>') == Links(
        "https://github.com/a/b", None
    )
    started = time.perf_counter()
    links_in("https://" + "a" * 1_000_000, "http:// " * 100_000)
    assert time.perf_counter() - started < 1.0


def test_cards_pages_and_the_api_show_them(web_client, store):
    from conftest import make_paper

    store.upsert_papers(
        [
            make_paper(
                "2606.10066",
                title="Code everywhere",
                abstract="Code: https://github.com/lab/everywhere. Project page: https://lab.github.io/e/",
                listed=__import__("datetime").date(2026, 6, 29),
            )
        ]
    )
    web_client.app.state.paperfeed.searcher.refresh()
    day = web_client.get("/papers/date/2026-06-29").text
    assert (
        '<a class="code" href="https://github.com/lab/everywhere" rel="nofollow noopener">Code</a>'
        in day
    )
    assert 'href="https://lab.github.io/e/" rel="nofollow noopener">Project page</a>' in day
    paper = web_client.get("/api/papers/2606.10066").json()
    assert paper["githubRepo"] == "https://github.com/lab/everywhere"
    assert paper["projectPage"] == "https://lab.github.io/e/"
    assert "githubRepo" not in web_client.get("/api/papers/2606.10001").json()


# -- the "has code" filter ---------------------------------------------------------------

CODE_PAPERS = {
    "2606.20001": "Code at https://github.com/lab/one. Also https://lab.github.io/one/",
    "2606.20002": "No code here, only words.",
    "2606.20003": "Models: https://huggingface.co/lab/three-7b",
}


def _code_papers(store, day=None):
    from datetime import date

    from conftest import make_paper

    store.upsert_papers(
        [
            make_paper(
                paper_id,
                title=f"Paper {paper_id}",
                abstract=abstract,
                listed=day or date(2026, 6, 26),
            )
            for paper_id, abstract in CODE_PAPERS.items()
        ]
    )


def test_lists_and_filters_keep_to_papers_with_code_as_their_text_changes(store):
    from datetime import date

    from conftest import make_paper
    from paperfeed.models import SearchFilters

    _code_papers(store)
    day = date(2026, 6, 26)
    ids = lambda items: sorted(i.paper.id for i in items)  # noqa: E731
    assert ids(store.listed_papers(day, day, has_code=True)) == ["2606.20001", "2606.20003"]
    assert ids(store.listed_papers(day, day)) == sorted(CODE_PAPERS)
    assert store.count_listed(day, day, has_code=True) == 2
    assert ids(store.trending_papers(day, day, 10, has_code=True)) == ["2606.20001", "2606.20003"]
    with_code = store.filtered_pks(SearchFilters(has_code=True))
    assert sorted(store.pks_for_ids(["2606.20001", "2606.20003"]).values()) == with_code
    # A new version that drops the link drops the paper from the filter; one that adds it...
    store.upsert_papers(
        [
            make_paper("2606.20001", title="Paper 2606.20001", abstract="Gone.", version=2),
            make_paper(
                "2606.20002",
                title="Paper 2606.20002",
                abstract="See codeberg.org: https://codeberg.org/lab/two",
                version=2,
            ),
        ]
    )
    assert ids(store.listed_papers(day, day, has_code=True)) == ["2606.20002", "2606.20003"]


def test_papers_stored_before_the_links_were_kept_get_them_when_migrated(store):
    from datetime import date

    _code_papers(store)
    sqlite = store.url.startswith("sqlite")
    migration = "016_code_links.sql" if sqlite else "013_code_links.sql"
    with store._write() as conn:  # the schema as it was before the migration
        conn.execute("DROP INDEX papers_with_code")
        conn.execute("ALTER TABLE papers DROP COLUMN code_url")
        conn.execute("ALTER TABLE papers DROP COLUMN project_url")
        conn.execute(
            "DELETE FROM schema_migrations WHERE name = " + ("?" if sqlite else "%s"),
            (migration,),
        )
    assert store.migrate() == [migration]
    day = date(2026, 6, 26)
    found = store.listed_papers(day, day, has_code=True)
    assert sorted(i.paper.id for i in found) == ["2606.20001", "2606.20003"]


def test_the_web_lists_search_and_api_filter_by_code(web_client, store):
    _code_papers(store)
    web_client.app.state.paperfeed.searcher.refresh()
    day = web_client.get("/papers/date/2026-06-26", params={"has_code": "1"}).text
    assert "2 papers with code" in day and "Paper 2606.20001" in day
    assert "Paper 2606.20002" not in day and 'href="/papers/date/2026-06-26">Show all' in day
    everything = web_client.get("/papers/date/2026-06-26").text
    assert "Paper 2606.20002" in everything and "?has_code=1" in everything
    daily = web_client.get("/api/daily_papers", params={"date": "2026-06-26", "has_code": "true"})
    assert sorted(i["paper"]["id"] for i in daily.json()) == ["2606.20001", "2606.20003"]
    searched = web_client.get("/api/papers/search", params={"q": "paper", "has_code": "1"})
    assert {i["paper"]["id"] for i in searched.json()} == {"2606.20001", "2606.20003"}
    page = web_client.get("/search", params={"q": "paper", "has_code": "1"}).text
    assert 'id="has_code" name="has_code" type="checkbox" value="1" checked' in page
    assert 'href="/papers/2606.20003"' in page and 'href="/papers/2606.20002"' not in page
    for path in ("/api/daily_papers", "/api/papers/search"):
        refused = web_client.get(path, params={"q": "x", "has_code": "maybe"})
        assert refused.status_code == 400 and "has_code" in refused.json()["error"]
    assert web_client.get("/", params={"has_code": "<b>"}).status_code == 400
