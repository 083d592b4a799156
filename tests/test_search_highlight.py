import gzip
import json
import random

from paperfeed.sample import sample_path
from paperfeed.search.highlight import Highlighter, query_terms
from paperfeed.search.keyword import analyze_word
from paperfeed.search.query import WORD, parse_query


def _marked(text: str, query: str) -> list[str]:
    return [text[a:b] for a, b in Highlighter(parse_query(query)).spans(text)]


def test_matches_words_by_their_stem_and_case():
    text = "Graph Neural Networks for networked dynamical systems"
    assert _marked(text, "network dynamics") == ["Networks", "networked", "dynamical"]


def test_phrases_required_words_and_prefixes_are_marked_but_exclusions_are_not():
    text = "A transformer-based survey of state-space models"
    assert _marked(text, '"state space" transform* -survey') == ["transformer", "state", "space"]


def test_offsets_survive_unicode_and_markup():
    text = "Schrödinger <b>bridges</b> for $\\mathcal{O}(n)$ diffusion"
    assert _marked(text, "schrodinger bridge") == ["Schrödinger", "bridges"]


def test_function_words_are_not_marked():
    assert _marked("The dynamics of the system", "the dynamics of systems") == [
        "dynamics",
        "system",
    ]


def test_nothing_to_mark():
    assert Highlighter(parse_query("")).spans("anything") == ()
    assert _marked("", "graph") == []


def _every_word(text: str, query: str) -> list[tuple[int, int]]:
    """The plain way: analyse every word of the text and compare."""
    parsed = parse_query(query)
    terms = query_terms(parsed)
    prefixes = tuple(p.lower() for p in parsed.prefixes)
    return [
        (m.start(), m.end())
        for m in WORD.finditer(text)
        if not terms.isdisjoint(analyze_word(m.group()))
        or (prefixes and m.group().lower().startswith(prefixes))
    ]


def test_the_fast_path_marks_what_analysing_every_word_marks():
    with gzip.open(sample_path(), "rt", encoding="utf-8") as lines:
        papers = [json.loads(line) for _, line in zip(range(150), lines, strict=False)]
    rng = random.Random(5)
    queries = [" ".join(p["title"].split()[: rng.randint(1, 4)]) for p in rng.sample(papers, 40)]
    queries += ["studies of models", "transform* learning", '"large language" LLMs', "x²"]
    for query in queries:
        highlighter = Highlighter(parse_query(query))
        for paper in papers:
            for text in (paper["title"], paper["abstract"]):
                assert list(highlighter.spans(text)) == _every_word(text, query), query
