import time

import pytest

from paperfeed.search.refs import MAX_REFS, PaperRefs, find_refs, normalise_doi


@pytest.mark.parametrize(
    "text",
    [
        # the three spellings from the issue
        "2606.24824",
        "arXiv:2606.24824",
        "https://arxiv.org/abs/2606.24824v2",
        # and the others people paste
        "2606.24824v2",
        "ARXIV:2606.24824V3",
        "arxiv: 2606.24824",
        "arXiv 2606.24824",
        "http://arxiv.org/abs/2606.24824",
        "arxiv.org/abs/2606.24824",
        "https://www.arxiv.org/abs/2606.24824v1",
        "https://export.arxiv.org/abs/2606.24824",
        "https://arxiv.org/pdf/2606.24824",
        "https://arxiv.org/pdf/2606.24824v2.pdf",
        "https://arxiv.org/html/2606.24824v2",
        "https://arxiv.org/html/2606.24824v2/#S3",
        "https://arxiv.org/abs/2606.24824?context=cs",
        "https://www.alphaxiv.org/abs/2606.24824",
        "https://huggingface.co/papers/2606.24824",
        "https://huggingface.co/papers/2606.24824#community",
        "hf.co/papers/2606.24824",
        "https://doi.org/10.48550/arXiv.2606.24824",
        "doi:10.48550/ARXIV.2606.24824",
        "10.48550/arXiv.2606.24824",
        "  <https://arxiv.org/abs/2606.24824v2>  ",
        "(2606.24824)",
    ],
)
def test_every_spelling_of_an_arxiv_id_is_one_reference(text):
    refs = find_refs(text)
    assert refs.arxiv_ids == ("2606.24824",)
    assert refs.dois == ()
    assert refs.only_one


@pytest.mark.parametrize(
    "text, arxiv_id",
    [
        ("hep-th/9901001", "hep-th/9901001"),
        ("hep-th/9901001v2", "hep-th/9901001"),
        ("math.GT/0309136v1", "math/0309136"),
        ("cs/0101001", "cs/0101001"),
        ("cond-mat/0102536", "cond-mat/0102536"),
        ("arXiv:HEP-TH/9901001", "hep-th/9901001"),
        ("https://arxiv.org/abs/math.GT/0309136", "math/0309136"),
        ("https://arxiv.org/pdf/hep-th/9901001v1", "hep-th/9901001"),
        ("0704.0001", "0704.0001"),
        ("1412.8888v3", "1412.8888"),
        ("1501.00001", "1501.00001"),
    ],
)
def test_old_style_and_four_digit_ids(text, arxiv_id):
    assert find_refs(text) == PaperRefs((arxiv_id,), (), "")


@pytest.mark.parametrize(
    "text",
    [
        "2024.12345",  # month 24
        "2613.12345",  # month 13
        "2600.12345",  # month 0
        "0612.1234",  # before the new-style scheme (April 2007)
        "1412.12345",  # five digits before 2015
        "1501.1234",  # four digits since 2015
        "2606.248245",  # six digits
        "x2606.24824",
        "2606.24824x",
        "1.2606.24824",
        "2606.24824.5",
        "papers from 2023",
        "3.14159",
        "cs.LG",
        "math.GT",
        "hep-th",
        "and/or/9901001",
        "foo/9901001",
        "https://arxiv.org/abs/2606.24824x",
        "https://arxiv.org/list/cs.LG/recent",
        "https://example.org/abs/2606.24824",
        "10.1234",
        "10.123/abc",  # a DOI prefix has 4 to 9 digits
        "10.1234/",
        "10.1234/).",
        "",
    ],
)
def test_numbers_words_and_other_urls_are_not_references(text):
    refs = find_refs(text)
    assert (refs.arxiv_ids, refs.dois) == ((), ())
    assert refs.rest == " ".join(text.split())


@pytest.mark.parametrize(
    "text, doi",
    [
        ("10.1038/nature14539", "10.1038/nature14539"),
        ("doi:10.1038/NATURE14539", "10.1038/nature14539"),
        ("DOI: 10.1038/nature14539", "10.1038/nature14539"),
        ("https://doi.org/10.1038/nature14539", "10.1038/nature14539"),
        ("http://dx.doi.org/10.1038/nature14539", "10.1038/nature14539"),
        ("doi.org/10.1145/3292500.3330701.", "10.1145/3292500.3330701"),
        ("(10.1103/PhysRevLett.116.061102)", "10.1103/physrevlett.116.061102"),
        ("(10.1000/a(b)c),", "10.1000/a(b)c"),
        ("https://doi.org/10.1000%2Fabc", "10.1000/abc"),
        (
            "10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-O",
            "10.1002/(sici)1097-4571(199806)49:8<693::aid-asi4>3.0.co;2-o",
        ),
    ],
)
def test_dois(text, doi):
    refs = find_refs(text)
    assert refs.dois == (doi,)
    assert refs.arxiv_ids == ()
    assert refs.only_one


def test_references_inside_a_query_leave_the_rest_for_ranking():
    refs = find_refs("flow matching arXiv:2606.24824 vs 10.1038/nature14539, and hep-th/9901001")
    assert refs.arxiv_ids == ("2606.24824", "hep-th/9901001")
    assert refs.dois == ("10.1038/nature14539",)
    assert refs.rest == "flow matching vs , and"
    assert not refs.only_one
    assert refs.count == 3


def test_the_same_paper_twice_is_one_reference():
    refs = find_refs("2606.24824 https://arxiv.org/abs/2606.24824v2 10.48550/arXiv.2606.24824")
    assert refs.arxiv_ids == ("2606.24824",)
    assert refs.only_one


def test_a_reference_with_words_is_not_only_one():
    assert not find_refs("2606.24824 flow").only_one
    assert not find_refs("2606.24824 2606.11111").only_one
    assert not find_refs("flow matching").only_one


def test_a_bibliography_keeps_at_most_max_refs():
    refs = find_refs(" ".join(f"2606.{n:05d}" for n in range(1, 60)))
    assert len(refs.arxiv_ids) == MAX_REFS
    assert refs.rest == ""


def test_normalise_doi():
    assert normalise_doi(" https://doi.org/10.1038/NATURE14539 ") == "10.1038/nature14539"
    assert normalise_doi("doi:10.1000/x%2By") == "10.1000/x+y"


@pytest.mark.parametrize(
    "text",
    [
        "a" * 5000,
        "1" * 2000,
        "10.1234/" * 250,
        "10.12345/" + ")" * 1990,
        "10.12345/" + "(" * 1990,
        "hep-th/" * 300,
        "arxiv:" * 400,
        "https://arxiv.org/abs/" * 100,
        "2606.2482" * 250,
        "a-" * 1000,
        "math.GT/" * 250,
        "https://" * 250,
    ],
)
def test_long_hostile_queries_are_read_quickly(text):
    started = time.perf_counter()
    find_refs(text)
    assert time.perf_counter() - started < 0.05
