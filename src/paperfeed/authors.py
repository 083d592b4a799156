"""An author's page: their papers in the catalog, newest first, and who they write with.

Authors are matched by key (search/names.author_key: case, accents and punctuation folded), so
"Jürgen Schmidhuber" and "Jurgen Schmidhuber" are one page, shown under the spelling their
papers use most."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from paperfeed.models import NO_FILTERS, ListedPaper
from paperfeed.search.keyword import KeywordIndex
from paperfeed.search.names import author_key
from paperfeed.storage import Store

MAX_PAPERS = 1000  # an author page lists at most this many (newest first)
COAUTHORS = 12


class AuthorNotFound(LookupError):
    """No paper in the catalog has this author (the message names them)."""


@dataclass(frozen=True)
class AuthorPage:
    """One page of an author's papers, with the co-authors of all of them."""

    name: str  # the spelling their papers use most
    key: str
    total: int
    items: list[ListedPaper]
    coauthors: list[tuple[str, int]]  # (name, papers together), most first
    page: int
    limit: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))


def author_page(
    store: Store, keyword: KeywordIndex, name: str, page: int = 0, limit: int = 30
) -> AuthorPage:
    """The author named `name` (any spelling of the key); AuthorNotFound when no paper of the
    catalog has them."""
    key = author_key(name)
    pks = keyword.author_pks([key], NO_FILTERS, MAX_PAPERS) if key else []
    if not pks:
        raise AuthorNotFound(f"no paper in the catalog has an author named {name.strip()[:80]!r}")
    papers = store.papers_by_pk(pks)
    spellings: Counter[str] = Counter()
    others: Counter[str] = Counter()
    spelled: dict[str, Counter[str]] = {}
    for paper in papers.values():
        for author in dict.fromkeys(paper.authors):
            other = author_key(author)
            if other == key:
                spellings[author] += 1
            elif other:
                others[other] += 1
                spelled.setdefault(other, Counter())[author] += 1
    shown = pks[page * limit : (page + 1) * limit]
    listed = store.listed_by_pk(shown)
    coauthors = [
        (spelled[other].most_common(1)[0][0], count)
        for other, count in sorted(others.items(), key=lambda kv: (-kv[1], kv[0]))[:COAUTHORS]
    ]
    return AuthorPage(
        name=spellings.most_common(1)[0][0] if spellings else name.strip(),
        key=key,
        total=len(pks),
        items=[listed[pk] for pk in shown if pk in listed],
        coauthors=coauthors,
        page=page,
        limit=limit,
    )
