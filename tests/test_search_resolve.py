import pytest

from conftest import make_paper
from paperfeed.search.keyword import KeywordIndex
from paperfeed.search.refs import find_refs
from paperfeed.search.resolve import lookup_ref, paper_named_by


@pytest.fixture
def catalog(store, tmp_path):
    store.upsert_papers(
        [
            make_paper("2606.24824", title="Bidirectional conditional flow matching"),
            make_paper("hep-th/9901001", title="Old style"),
            make_paper("2606.00002", title="Published", doi="10.1103/PhysRevLett.116.061102"),
        ]
    )
    index = KeywordIndex(tmp_path / "keyword")
    index.sync(store)
    return store, index


def test_lookup_ref_finds_ids_then_dois_in_order(catalog):
    store, index = catalog
    pks = store.pks_for_ids(["2606.24824", "hep-th/9901001", "2606.00002"])
    refs = find_refs(
        "doi:10.1103/PhysRevLett.116.061102 hep-th/9901001 2606.99999 10.1000/x "
        "https://arxiv.org/abs/2606.24824v2 arXiv:2606.24824"
    )
    assert lookup_ref(store, index, refs) == [
        pks["hep-th/9901001"],
        pks["2606.24824"],
        pks["2606.00002"],
    ]
    assert lookup_ref(store, index, find_refs("flow matching")) == []


def test_an_id_ingested_since_the_index_synced_is_found(catalog):
    store, index = catalog
    store.upsert_papers([make_paper("2606.30000", title="Just in")])
    assert paper_named_by(store, index, "arXiv:2606.30000") == "2606.30000"


@pytest.mark.parametrize(
    "text, paper_id",
    [
        ("2606.24824", "2606.24824"),
        ("arXiv:2606.24824", "2606.24824"),
        ("https://arxiv.org/abs/2606.24824v2", "2606.24824"),
        (" https://huggingface.co/papers/2606.24824 ", "2606.24824"),
        ("hep-th/9901001v1", "hep-th/9901001"),
        ("https://doi.org/10.1103/physrevlett.116.061102", "2606.00002"),
        ("2606.99999", None),  # not in the catalog
        ("10.1000/unknown", None),
        ("2606.24824 flow", None),  # more than a reference: an ordinary search
        ("2606.24824 hep-th/9901001", None),
        ("flow matching", None),
        ("", None),
    ],
)
def test_paper_named_by(catalog, text, paper_id):
    store, index = catalog
    assert paper_named_by(store, index, text) == paper_id
