from paperfeed.search.highlight import highlight_spans, query_terms
from paperfeed.search.query import parse_query


def _marked(text: str, query: str) -> list[str]:
    parsed = parse_query(query)
    return [text[a:b] for a, b in highlight_spans(text, query_terms(parsed), parsed.prefixes)]


def test_matches_words_by_their_stem_and_case():
    text = "Graph Neural Networks for networked dynamical systems"
    assert _marked(text, "network dynamics") == ["Networks", "networked", "dynamical"]


def test_phrases_required_words_and_prefixes_are_marked_but_exclusions_are_not():
    text = "A transformer-based survey of state-space models"
    assert _marked(text, '"state space" transform* -survey') == ["transformer", "state", "space"]


def test_offsets_survive_unicode_and_markup():
    text = "Schrödinger <b>bridges</b> for $\\mathcal{O}(n)$ diffusion"
    parsed = parse_query("schrodinger bridge")
    spans = highlight_spans(text, query_terms(parsed))
    assert [text[a:b] for a, b in spans] == ["Schrödinger", "bridges"]


def test_nothing_to_mark():
    assert highlight_spans("anything", frozenset()) == ()
    assert _marked("", "graph") == []
