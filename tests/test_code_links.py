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
