"""A reader's library in other tools' formats: export (BibTeX, CSV, JSON) and BibTeX import."""

from paperfeed.library.bibtex_import import (
    BibEntry,
    arxiv_ids_from_bibtex,
    entry_arxiv_id,
    parse_bibtex,
)
from paperfeed.library.export import (
    bibtex_key,
    bibtex_name,
    bibtex_text,
    bibtex_title,
    to_bibtex,
    to_csv,
    to_json,
)

__all__ = [
    "BibEntry",
    "arxiv_ids_from_bibtex",
    "bibtex_key",
    "bibtex_name",
    "bibtex_text",
    "bibtex_title",
    "entry_arxiv_id",
    "parse_bibtex",
    "to_bibtex",
    "to_csv",
    "to_json",
]
