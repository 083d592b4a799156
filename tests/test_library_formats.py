"""Library exports (BibTeX, CSV, JSON) and .bib imports: keys, names, escaping, round trips."""

import csv
import io
import json
import random
import time
from datetime import UTC, date, datetime

import pytest

from conftest import FIXTURES, make_paper
from paperfeed.library import (
    BibEntry,
    arxiv_ids_from_bibtex,
    bibtex_key,
    bibtex_name,
    bibtex_text,
    bibtex_title,
    parse_bibtex,
    to_bibtex,
    to_csv,
    to_json,
)

BIB = FIXTURES / "bibtex"


def field_values(bib: str) -> list[str]:
    """Every field value to_bibtex wrote (it writes one field per line)."""
    return [line.split(" = ", 1)[1].removesuffix(",") for line in bib.splitlines() if " = " in line]


def braces_balanced(value: str) -> bool:
    """As BibTeX counts them: every brace, a backslash before it or not."""
    depth = 0
    for ch in value:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def read_bib(name: str) -> tuple[list[BibEntry], list[tuple[int, str]]]:
    return parse_bibtex((BIB / name).read_text(encoding="utf-8"))


# --- keys ----------------------------------------------------------------------------------


def test_key_is_surname_year_and_first_significant_title_word():
    assert bibtex_key(make_paper(), set()) == "campos2026denoising"
    paper = make_paper(authors=("Ada Lovelace",), title="On the Analytical Engine")
    assert bibtex_key(paper, set()) == "lovelace2026analytical"
    math_first = make_paper(title=r"$\mathcal{O}(n)$ Sorting for All")
    assert bibtex_key(math_first, set()) == "campos2026sorting"


@pytest.mark.parametrize(
    ("author", "surname"),
    [
        ("Ludwig van Beethoven", "beethoven"),  # particles are not part of the key
        ("van Beethoven, Ludwig", "beethoven"),
        ("Charles-Jean de la Vallée Poussin", "valleepoussin"),
        ("Jürgen Schmidhuber", "schmidhuber"),
        ("Gábor Csányi", "csanyi"),
        ("Łukasz Kaiser", "kaiser"),
        ("Kaiser, Łukasz", "kaiser"),
        ("Søren Kierkegaard", "kierkegaard"),
        ("Martin Luther King Jr.", "king"),
        ("Plato", "plato"),
        ("ATLAS Collaboration", "atlas"),
        ("{Google DeepMind}", "google"),
        ("王小明", "anon"),
        ("", "anon"),
    ],
)
def test_key_surname(author, surname):
    assert bibtex_key(make_paper(authors=(author,)), set()) == f"{surname}2026denoising"


def test_key_without_authors_date_or_ascii_title():
    paper = make_paper(authors=(), published=None, listed=None, title="深度学习")
    assert bibtex_key(paper, set()) == "anon"
    assert bibtex_key(make_paper(published=None, listed=date(2025, 1, 2)), set()) == (
        "campos2025denoising"
    )


def test_clashing_keys_get_letters_and_taken_grows():
    taken: set[str] = set()
    keys = [bibtex_key(make_paper(f"2606.{n:05d}"), taken) for n in range(29)]
    assert keys[:3] == ["campos2026denoising", "campos2026denoisinga", "campos2026denoisingb"]
    assert keys[26:28] == ["campos2026denoisingz", "campos2026denoisingaa"]
    assert len(set(keys)) == 29 and taken == set(keys)


def test_export_keys_are_stable_whatever_the_order():
    older = make_paper("2606.00002", published=datetime(2026, 6, 1, tzinfo=UTC))
    newer = make_paper("2606.00001", published=datetime(2026, 6, 20, tzinfo=UTC))
    other = make_paper("2606.00003", authors=("Xin Li",))
    first = to_bibtex([newer, older, other])
    assert first == to_bibtex([newer, older, other])
    keys = {entry.fields["eprint"]: entry.key for entry in parse_bibtex(first)[0]}
    assert keys == {
        "2606.00002": "campos2026denoising",  # the oldest gets the bare key
        "2606.00001": "campos2026denoisinga",
        "2606.00003": "li2026denoising",
    }
    reordered = parse_bibtex(to_bibtex([other, older, newer]))[0]
    assert {entry.fields["eprint"]: entry.key for entry in reordered} == keys
    assert [entry.fields["eprint"] for entry in reordered] == [
        "2606.00003",
        "2606.00002",
        "2606.00001",
    ]


# --- authors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ada Lovelace", "Lovelace, Ada"),
        ("  Ron   Campos ", "Campos, Ron"),
        ("J. R. R. Tolkien", "Tolkien, J. R. R."),
        ("Jürgen Schmidhuber", "Schmidhuber, Jürgen"),  # UTF-8 kept
        ("Ludwig van Beethoven", "van Beethoven, Ludwig"),
        ("Charles-Jean de la Vallée Poussin", "de la Vallée Poussin, Charles-Jean"),
        ("Martin Luther King Jr.", "King, Jr., Martin Luther"),
        ("Lovelace, Ada", "Lovelace, Ada"),
        ("van Beethoven, Ludwig", "van Beethoven, Ludwig"),
        ("Plato", "Plato"),
        ("王小明", "王小明"),
        ("ATLAS Collaboration", "{ATLAS Collaboration}"),
        ("{Google DeepMind}", "{Google DeepMind}"),
        ("Simon & Garfunkel", r"Garfunkel, Simon \&"),
        ("Ada and Bob", "{Ada and Bob}"),  # one author, not two
        ("Ada {X} and Bob", "{Ada {X} and Bob}"),
        ("Pat O_Brien", r"O\_Brien, Pat"),
        ("Ada {Lovelace", r"\textbraceleft{}Lovelace, Ada"),
        ("", ""),
    ],
)
def test_bibtex_name(name, expected):
    assert bibtex_name(name) == expected


def test_authors_keep_the_papers_order():
    authors = ("Xin Li", "Ludwig van Beethoven", "Plato", "Kaiser, Łukasz", "Ron Campos")
    (entry,), _ = parse_bibtex(to_bibtex([make_paper(authors=authors)]))
    assert entry.fields["author"].split(" and ") == [
        "Li, Xin",
        "van Beethoven, Ludwig",
        "Plato",
        "Kaiser, Łukasz",
        "Campos, Ron",
    ]


# --- the entry -----------------------------------------------------------------------------


def test_entry_in_arxiv_style():
    paper = make_paper(
        "2606.12345",
        version=3,
        authors=("Ada Lovelace", "Jürgen Schmidhuber"),
        title="Denoising  Attention\n  for LLMs",
    )
    assert to_bibtex([paper]) == (
        "@misc{lovelace2026denoising,\n"
        "  title = {Denoising Attention for {LLMs}},\n"
        "  author = {Lovelace, Ada and Schmidhuber, Jürgen},\n"
        "  year = {2026},\n"
        "  month = jun,\n"
        "  eprint = {2606.12345},\n"
        "  archivePrefix = {arXiv},\n"
        "  primaryClass = {cs.CV},\n"
        "  url = {https://arxiv.org/abs/2606.12345},\n"
        "}\n"
    )


def test_journal_reference_makes_an_article_and_doi_is_kept():
    paper = make_paper(journal_ref="Phys. Rev. D 100, 1 (2026) & more", doi="10.1103/Phys_D.1")
    bib = to_bibtex([paper])
    assert bib.startswith("@article{campos2026denoising,\n")
    assert r"  journal = {Phys. Rev. D 100, 1 (2026) \& more}," in bib
    assert "  doi = {10.1103/Phys_D.1},\n" in bib
    doi_only = to_bibtex([make_paper(doi="10.1103/x.1")])
    assert doi_only.startswith("@misc{") and "doi = {10.1103/x.1}" in doi_only


def test_a_doi_that_could_break_the_entry_is_left_out():
    bib = to_bibtex([make_paper(doi="10.1/x}, note = {evil")])
    assert "doi" not in bib and "evil" not in bib


def test_non_arxiv_paper_has_no_eprint_or_url():
    bib = to_bibtex([make_paper("scifact-42", source="beir")])
    assert "eprint" not in bib and "arxiv.org" not in bib and "archivePrefix" not in bib


def test_each_paper_once_in_the_given_order():
    a, b = make_paper("2606.00001"), make_paper("2606.00002")
    entries, _ = parse_bibtex(to_bibtex([b, a, b]))
    assert [e.fields["eprint"] for e in entries] == ["2606.00002", "2606.00001"]
    assert to_bibtex([]) == ""


# --- escaping ------------------------------------------------------------------------------


def test_specials_are_escaped():
    assert bibtex_title(r"50% & $5 #1 a_b {x} ~ ^ \ end") == (
        r"50\% \& \$5 \#1 a\_b \textbraceleft{}x\textbraceright{} \textasciitilde{} "
        r"\textasciicircum{} \textbackslash{} end"
    )


def test_an_authors_own_escapes_are_read_as_the_characters():
    assert bibtex_title(r"Q\&A costs \$5, not \$6") == r"Q\&A costs \$5, not \$6"


def test_words_with_inner_capitals_are_protected():
    assert bibtex_title("LLMs and GPT-4 on ImageNet beat iPhone Baselines") == (
        "{LLMs} and {GPT-4} on {ImageNet} beat {iPhone} Baselines"
    )


@pytest.mark.parametrize(
    "math",
    [
        r"$\mathcal{O}(n \log n)$",
        r"$\{x_i\}_{i=1}^{N}$",
        r"$$E = mc^2$$",
        r"\(\alpha\text{-}\beta\)",
        r"$50\%$",
    ],
)
def test_math_is_kept(math):
    assert bibtex_title(f"Sorting in {math} time") == f"Sorting in {math} time"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("$a}$ b", r"\$a\textbraceright{}\$ b"),
        ("$50%$", r"\$50\%\$"),
        (
            r"$\input{/etc/passwd}$",
            r"\$\textbackslash{}input\textbraceleft{}/etc/passwd\textbraceright{}\$",
        ),
        (
            r"$x \end{document}$",
            r"\$x \textbackslash{}end\textbraceleft{}document\textbraceright{}\$",
        ),
        (
            r"$\def\x{y}$",
            r"\$\textbackslash{}def\textbackslash{}x\textbraceleft{}y\textbraceright{}\$",
        ),
        ("$ $", r"\$ \$"),
        ("a $ b", r"a \$ b"),
    ],
)
def test_unsafe_math_is_escaped_as_text(title, expected):
    assert bibtex_title(title) == expected


HOSTILE_TITLES = [
    r"}, author = {Mallory}, note = {",
    "}\n}\n@misc{evil,\n  title = {owned",
    r"\end{document} \input{/etc/passwd} \write18{rm -rf ~}",
    r"{{{ unclosed $\frac{1}{2$ and $x}}}$ \\ \} \{ % # & _ ~ ^",
    r"\\$\end{document}$ and \(\input{x}\) and $$\catcode`\{=12$$",
    "back\\slash at the end \\",
]


def test_hostile_fields_cannot_leave_their_field():
    papers = [
        make_paper(f"2606.0000{n}", title=title, authors=(title, "Ada Lovelace"), journal_ref=title)
        for n, title in enumerate(HOSTILE_TITLES, start=1)
    ]
    bib = to_bibtex(papers)
    values = field_values(bib)
    assert len(values) == 9 * len(papers)
    assert all(braces_balanced(value) for value in values), bib
    for command in ("\\end{", "\\input{", "\\input\\", "\\write18", "\\catcode"):
        assert command not in bib
    entries, problems = parse_bibtex(bib)
    assert problems == []
    assert [entry.key for entry in entries] == [
        "anon2026author",
        "miscevil2026misc",
        "anon2026document",
        "unclosed2026unclosed",
        "enddocument2026",
        "anon2026back",
    ]
    # A title's own \{ and \} are read as braces (what they print).
    assert [bibtex_text(entry.fields["title"]) for entry in entries] == [
        " ".join(title.replace("\\}", "}").replace("\\{", "{").split()) for title in HOSTILE_TITLES
    ]


# --- round trip ----------------------------------------------------------------------------


def test_round_trip_gives_back_ids_and_titles():
    papers = [
        make_paper("2606.00001"),
        make_paper("hep-th/9901001", title="Large $N$ Field Theories & Gravity: 100% {Exact}"),
        make_paper("2606.54321", title=r"Fast $\mathcal{O}(n)$ sorting for LLMs, ~ and ^ \ too"),
        make_paper("math/0309136", authors=("王小明", "Jürgen Schmidhuber")),
    ]
    entries, problems = parse_bibtex(to_bibtex(papers))
    assert problems == []
    assert arxiv_ids_from_bibtex(entries) == ([p.id for p in papers], [])
    assert [bibtex_text(e.fields["title"]) for e in entries] == [p.title for p in papers]


# --- reading .bib files --------------------------------------------------------------------


def test_arxiv_export_sample():
    entries, problems = read_bib("arxiv_export.bib")
    assert problems == []
    (entry,) = entries
    assert (entry.key, entry.entry_type, entry.line) == ("vaswani2023attentionneed", "misc", 1)
    assert entry.fields["title"] == "Attention Is All You Need"
    assert entry.fields["author"].startswith("Ashish Vaswani and Noam Shazeer and ")
    assert entry.fields["archiveprefix"] == "arXiv"
    assert arxiv_ids_from_bibtex(entries) == (["1706.03762"], [])


def test_google_scholar_sample_names_the_id_in_journal():
    entries, problems = read_bib("google_scholar.bib")
    assert problems == [] and entries[0].fields["year"] == "2022"
    assert entries[0].fields["journal"] == "arXiv preprint arXiv:2301.00303"
    assert arxiv_ids_from_bibtex(entries) == (["2301.00303"], [])


def test_zotero_sample_url_note_and_datacite_doi():
    entries, problems = read_bib("zotero.bib")
    assert problems == []
    assert [(e.key, e.line) for e in entries] == [
        ("vaswani_attention_2017", 2),
        ("https://doi.org/10.48550/arxiv.2202.03163", 16),
    ]
    assert bibtex_text(entries[0].fields["title"]) == "Attention Is All You Need"
    assert entries[0].fields["month"] == "August"
    assert "Kaiser, Łukasz" in entries[0].fields["author"]
    assert arxiv_ids_from_bibtex(entries) == (["1706.03762", "2202.03163"], [])


def test_string_macros_and_concatenation():
    entries, problems = read_bib("macros.bib")
    assert problems == []
    (entry,) = entries  # @preamble, @string and @comment are not entries
    assert (entry.key, entry.entry_type, entry.line) == ("ho2020denoising", "inproceedings", 7)
    assert entry.fields == {
        "author": "Ho, Jonathan and Jain, Ajay and Abbeel, Pieter",
        "title": "Denoising Diffusion Probabilistic Models",
        "booktitle": "Advances in Neural Information Processing Systems 33",
        "journal": "arXiv preprint arXiv:2006.11239",
        "year": "2020",
        "month": "December",
    }
    assert arxiv_ids_from_bibtex(entries) == (["2006.11239"], [])


def test_nested_braces_and_quoted_values():
    entries, problems = read_bib("nested.bib")
    assert problems == []
    ads, mendeley = entries
    assert ads.fields["title"].startswith("{Cosmoglobe DR2. II. CIB monopole")
    assert ads.fields["author"] == r"{Watts}, D.~J. and {Thommesen}, H. and {Wehus}, I.~K."
    assert ads.fields["primaryclass"] == "astro-ph.CO"
    assert mendeley.fields["abstract"].startswith(
        r"We introduce a new language representation model called {\{}BERT{\}}, which"
    )
    assert mendeley.fields["title"] == (
        "{BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding}"
    )
    assert arxiv_ids_from_bibtex(entries) == (["2406.01491", "1810.04805"], [])


def test_a_broken_entry_is_reported_and_the_rest_still_parse():
    entries, problems = read_bib("broken.bib")
    assert [(e.key, e.line) for e in entries] == [
        ("maldacena1999large", 3),
        ("kingma2014adam", 22),
        ("knuth1984texbook", 29),
    ]
    # The title's brace is closed by the entry's own: then the entry has no end.
    assert problems == [
        (15, "@article{broken2020: expected ',' or '}' after title, found the end of the entry")
    ]
    assert entries[0].fields["title"] == (
        "The Large {$N$} Limit of Superconformal Field Theories and Supergravity"
    )
    ids, missing = arxiv_ids_from_bibtex(entries)
    assert ids == ["hep-th/9711200", "1412.6980"]
    assert missing == [(29, r"no arXiv id: The \TeXbook")]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("@misc{k, title = {x}", "@misc{k: expected ',' or '}' after title, found the end"),
        ("@misc{k, title {x}}", "@misc{k: expected '=' after title, found '{'"),
        ("@misc{k, = {x}}", "@misc{k: expected a field name, found '='"),
        ("@misc{k, title = }", "@misc{k: expected a value for title, found '}'"),
        ('@misc{k, title = "a {b" }', "@misc{k: unbalanced braces or quotes in title"),
        ("@misc{, title = {x}}", "@misc: expected a citation key, found ','"),
        ("@misc{k title = {x}}", "@misc: expected ',' after the key, found 'title'"),
        ("@preamble{ {x }", "@preamble: not closed"),
    ],
)
def test_malformed_entries_are_reported_with_their_line(text, problem):
    entries, problems = parse_bibtex(f"@misc{{ok, year = 1}}\n\n{text}\n")
    assert [e.key for e in entries] == ["ok"]
    assert len(problems) == 1 and problems[0][0] == 3
    assert problems[0][1].startswith(problem), problems


def test_reader_details():
    text = """Notes on my library: write to ada@example.org {not an entry}.
@Misc(paren, TITLE = "Parentheses"  # { too}, note = undefinedmacro, title = {second})
% a comment line between entries
@misc{nofields}
@article{spaces,
  title = {  Many
     spaces  },
  % a comment between fields
  year = 2026,
}
"""
    entries, problems = parse_bibtex(text)
    assert problems == []
    assert entries == [
        BibEntry("paren", "misc", {"title": "Parentheses too", "note": "undefinedmacro"}, line=2),
        BibEntry("nofields", "misc", {}, line=4),
        BibEntry("spaces", "article", {"title": "Many spaces", "year": "2026"}, line=5),
    ]


# --- arXiv ids -----------------------------------------------------------------------------


def entry(line: int = 1, **fields: str) -> BibEntry:
    return BibEntry("k", "misc", fields, line)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"eprint": "1706.03762v5", "archiveprefix": "arXiv"}, "1706.03762"),
        ({"eprint": "arXiv:2509.09292", "eprinttype": "arXiv"}, "2509.09292"),
        ({"eprint": "hep-th/9711200"}, "hep-th/9711200"),
        ({"arxivid": "1810.04805"}, "1810.04805"),
        ({"url": "https://arxiv.org/pdf/1706.03762v5.pdf"}, "1706.03762"),
        ({"url": "http://arxiv.org/abs/math.GT/0309136v1"}, "math/0309136"),
        ({"howpublished": r"\url{https://arxiv.org/abs/2606.12345}"}, "2606.12345"),
        ({"note": "arXiv:2106.09685 [cs]"}, "2106.09685"),
        ({"journal": "arXiv preprint arXiv:2301.00303"}, "2301.00303"),
        ({"journal": "arXiv preprint hep-th/9901001"}, "hep-th/9901001"),
        ({"doi": "10.48550/ARXIV.2202.03163"}, "2202.03163"),
        ({"eprint": "2606.12345", "archiveprefix": "HAL", "doi": "10.1/x"}, None),
        ({"eprint": "not-an-id", "archiveprefix": "arXiv", "url": "arxiv.org/abs/2606.1"}, None),
    ],
)
def test_arxiv_id_forms(fields, expected):
    ids, missing = arxiv_ids_from_bibtex([entry(**fields)])
    assert ids == ([expected] if expected else [])
    assert len(missing) == (0 if expected else 1)


def test_each_id_once_in_file_order_and_missing_ones_reported():
    entries = [
        entry(1, eprint="2606.00002"),
        entry(5, title="{A} Book", doi="10.1000/book"),
        entry(9, url="https://arxiv.org/abs/2606.00001"),
        entry(13, eprint="2606.00002v2"),
        BibEntry("untitled", "book", {}, 17),
    ]
    assert arxiv_ids_from_bibtex(entries) == (
        ["2606.00002", "2606.00001"],
        [(5, "no arXiv id: A Book"), (17, "no arXiv id: untitled")],
    )


# --- hostile input -------------------------------------------------------------------------

MB = 1_000_000
HOSTILE_BIB = {
    "open braces": "@misc{k, title = " + "{" * MB,
    "close braces": "@misc{k, title = {" + "}" * MB,
    "quotes": '@misc{k, title = "' + '{"' * (MB // 2),
    "at signs": "@" * MB,
    "entry starts": "@misc{" * (MB // 6),
    "entry starts on lines": "\n@misc{k," * (MB // 9),
    "unclosed values on lines": "@misc{k, t = {\n" * (MB // 15),
    "many fields": "@misc{k," + "f=1," * (MB // 4),
    "many tiny entries": "@a{b,c=1}\n" * (MB // 10),
    "concatenation": "@string{a=" + "a#" * (MB // 2),
    "spaces": "@" + " " * MB,
    "identifier": "@" + "a" * MB,
    "comments": "@misc{k," + "%\n" * (MB // 2),
    "backslashes": "@misc{k, title = {" + "\\" * MB + "}}",
    "string doubling": "@string{a0 = {xx}}\n"
    + "".join(f"@string{{a{n + 1} = a{n} # a{n}}}\n" for n in range(64))
    + "@misc{k, title = a64}",
}


@pytest.mark.parametrize("name", HOSTILE_BIB)
def test_hostile_input_returns_quickly(name):
    # Measured at 0.1-0.6 s; a regex that backtracks (or a quadratic rescan) takes minutes.
    started = time.perf_counter()
    entries, _ = parse_bibtex(HOSTILE_BIB[name])
    arxiv_ids_from_bibtex(entries)
    assert time.perf_counter() - started < 2.0
    assert all(len(value) <= 100_000 for e in entries for value in e.fields.values())


def test_random_input_never_raises():
    rng = random.Random(11)
    alphabet = ["@", "misc", "{", "}", "(", ")", ",", "=", '"', "#", "%", "\n", " ", "k", "1"]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        entries, problems = parse_bibtex(text)
        arxiv_ids_from_bibtex(entries)
        assert all(isinstance(line, int) and line >= 1 for line, _ in problems)


def test_hostile_titles_export_in_linear_time():
    started = time.perf_counter()
    for title in ("$" * 50_000, "\\(" * 25_000, "$$a" * 20_000, "\\" * 50_000, "$a\\$b{" * 10_000):
        assert braces_balanced(bibtex_title(title))
    assert time.perf_counter() - started < 2.0


# --- CSV and JSON --------------------------------------------------------------------------


def test_csv_reads_back_as_written():
    papers = [
        make_paper("2606.00001", doi="10.1/x"),
        make_paper("scifact-42", title='A "quoted", comma title', authors=("Jürgen Schmidhuber",)),
    ]
    notes = {"2606.00001": 'line one\nline two, with "quotes"'}
    rows = list(csv.DictReader(io.StringIO(to_csv(papers, notes))))
    assert rows == [
        {
            "id": "2606.00001",
            "title": "Denoising Attention for Visual Tasks",
            "authors": "Ron Campos; Xin Li",
            "year": "2026",
            "categories": "cs.CV cs.LG",
            "url": "https://arxiv.org/abs/2606.00001",
            "doi": "10.1/x",
            "note": 'line one\nline two, with "quotes"',
        },
        {
            "id": "scifact-42",
            "title": 'A "quoted", comma title',
            "authors": "Jürgen Schmidhuber",
            "year": "2026",
            "categories": "cs.CV cs.LG",
            "url": "",
            "doi": "",
            "note": "",
        },
    ]


def test_csv_cells_that_look_like_formulas_are_defused():
    paper = make_paper(title='=HYPERLINK("http://evil")', published=None, listed=None)
    (row,) = csv.DictReader(io.StringIO(to_csv([paper], {paper.id: "@SUM(1)"})))
    assert row["title"] == '\'=HYPERLINK("http://evil")'
    assert row["note"] == "'@SUM(1)" and row["year"] == ""


def test_json_loads_with_stable_keys():
    papers = [make_paper(authors=("Jürgen Schmidhuber",)), make_paper("scifact-42")]
    text = to_json(papers, {"scifact-42": "read"})
    assert "Jürgen" in text and text == to_json(papers, {"scifact-42": "read"})
    items = json.loads(text)
    assert list(items[0]) == [
        "id",
        "title",
        "authors",
        "year",
        "published",
        "categories",
        "url",
        "pdf_url",
        "doi",
        "journal_ref",
        "note",
    ]
    assert items[0]["authors"] == ["Jürgen Schmidhuber"] and items[0]["year"] == 2026
    assert items[0]["url"] == "https://arxiv.org/abs/2606.00001" and items[0]["note"] is None
    assert items[1]["url"] is None and items[1]["note"] == "read"
