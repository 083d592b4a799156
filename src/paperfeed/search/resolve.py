"""Resolve the paper references in a query (refs.find_refs) to papers in the catalog."""

from __future__ import annotations

from paperfeed.search.keyword import KeywordIndex
from paperfeed.search.refs import PaperRefs, find_refs
from paperfeed.storage import Store


def lookup_ref(store: Store, keyword: KeywordIndex, refs: PaperRefs) -> list[int]:
    """Pks of the papers `refs` name, arXiv ids first, then DOIs, each in the order given;
    references to papers not in the catalog are left out.

    arXiv ids are looked up in the store (the source of truth, so a paper ingested a moment
    ago counts); DOIs in the keyword index, which holds them lowercased on either backend.
    """
    by_id = store.pks_for_ids(refs.arxiv_ids) if refs.arxiv_ids else {}
    by_doi = keyword.ref_pks((), refs.dois) if refs.dois else {}
    pks = [by_id[i] for i in refs.arxiv_ids if i in by_id]
    pks += [by_doi[doi] for doi in refs.dois if doi in by_doi]
    return list(dict.fromkeys(pks))


def paper_named_by(store: Store, keyword: KeywordIndex, text: str) -> str | None:
    """The id of the catalog's paper when `text` is one reference and nothing else (an arXiv
    id, an arXiv / alphaXiv / HF papers URL, a DOI); None otherwise."""
    refs = find_refs(text)
    if not refs.only_one:
        return None
    pks = lookup_ref(store, keyword, refs)
    if not pks:
        return None
    paper = store.papers_by_pk(pks[:1]).get(pks[0])
    return paper.id if paper is not None else None
