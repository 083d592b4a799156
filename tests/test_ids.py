from urllib.parse import urljoin

import pytest

from paperfeed.ids import BadIdentifier, is_arxiv_id, paper_path, parse_arxiv_id, parse_paper_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2606.27372", ("2606.27372", None)),
        ("2606.27372v3", ("2606.27372", 3)),
        ("0704.0001", ("0704.0001", None)),
        ("arXiv:2606.27372v2", ("2606.27372", 2)),
        ("oai:arXiv.org:2606.27372", ("2606.27372", None)),
        ("https://arxiv.org/abs/2606.27372v1", ("2606.27372", 1)),
        ("http://arxiv.org/pdf/2606.27372v4.pdf", ("2606.27372", 4)),
        ("http://arxiv.org/abs/hep-th/9901001v1", ("hep-th/9901001", 1)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("math.GT/0309136", ("math/0309136", None)),
        ("cond-mat/0102536v2", ("cond-mat/0102536", 2)),
        ("  2606.27372 \n", ("2606.27372", None)),
    ],
)
def test_parse_arxiv_id_accepts_common_spellings(raw, expected):
    assert parse_arxiv_id(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "2613.00001", "26.1", "hello", "2606.27372vx", "../etc/passwd"]
)
def test_parse_arxiv_id_rejects_non_ids(raw):
    with pytest.raises(BadIdentifier):
        parse_arxiv_id(raw)


def test_is_arxiv_id_only_for_normalised_ids():
    assert is_arxiv_id("2606.27372")
    assert is_arxiv_id("hep-th/9901001")
    assert not is_arxiv_id("2606.27372v2")
    assert not is_arxiv_id("arXiv:2606.27372")
    assert not is_arxiv_id("4983")


def test_parse_paper_id_keeps_other_sources_ids():
    assert parse_paper_id("4983") == ("4983", None)
    assert parse_paper_id(4983) == ("4983", None)
    assert parse_paper_id("arXiv:2606.27372v2") == ("2606.27372", 2)
    for bad in (None, "", "  ", "a b", "<script>", True, 1.5):
        with pytest.raises(BadIdentifier):
            parse_paper_id(bad)


@pytest.mark.parametrize(
    "bad", ["x/../../outbox", "..", "a/./b", "a//b", "trailing/", "./a", "a/.."]
)
def test_ids_with_dot_or_empty_segments_are_refused(bad):
    # Their links would resolve outside /papers/ (x/../../outbox -> /outbox).
    with pytest.raises(BadIdentifier, match="segment"):
        parse_paper_id(bad)


def test_ids_with_dots_inside_segments_are_fine():
    assert parse_paper_id("doc-1/part.2") == ("doc-1/part.2", None)
    assert parse_paper_id("a..b") == ("a..b", None)


@pytest.mark.parametrize(
    ("paper_id", "path"),
    [
        ("2606.27372", "/papers/2606.27372"),
        ("hep-th/9901001", "/papers/hep-th/9901001"),
        ("doc:1", "/papers/doc%3A1"),
        # Stored before the rule above: its slashes are encoded, so it stays one segment.
        ("x/../../outbox", "/papers/x%2F..%2F..%2Foutbox"),
        ("a//b", "/papers/a%2F%2Fb"),
    ],
)
def test_paper_paths_never_leave_papers(paper_id, path):
    assert paper_path(paper_id) == path
    assert urljoin("https://h.example/papers/2606.1", path).startswith("https://h.example/papers/")
