import pytest

from paperfeed.search.query import MAX_QUERY_CHARS, ParsedQuery, parse_query


def test_plain_words_rank_results():
    parsed = parse_query("dynamical systems")
    assert parsed.words == ("dynamical", "systems")
    assert not parsed.constrained
    assert parsed.semantic_text == "dynamical systems"


def test_quoted_phrases_and_operators():
    parsed = parse_query(
        '"neural operator" -survey NOT "review article" +PDE physics AND fluids OR x'
    )
    assert parsed.phrases == (("neural", "operator"),)
    assert parsed.excluded == ("survey",)
    assert parsed.excluded_phrases == (("review", "article"),)
    assert parsed.required == ("PDE", "physics", "fluids")
    assert parsed.words == ("x",)
    assert parsed.constrained


def test_prefixes_and_hyphenated_terms():
    parsed = parse_query("transform* state-of-the-art a*")
    assert parsed.prefixes == ("transform",)
    assert parsed.words == ("state", "of", "the", "art", "a")
    assert parse_query("-state-of-the-art").excluded_phrases == (("state", "of", "the", "art"),)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        '"',
        '"unbalanced quote',
        "((a OR b]",
        "AND OR NOT",
        "*",
        "-",
        "title:attention AND author:vaswani",
        "🚀🚀 LLM 🤖",
        "\x00\x01 DROP TABLE papers; --",
        "x" * 10_000,
        "word " * 5_000,
        "Ünïcödé ñame 中文 检索",
    ],
)
def test_any_string_parses(text):
    parsed = parse_query(text)
    assert isinstance(parsed, ParsedQuery)
    assert len(parsed.text) <= MAX_QUERY_CHARS
    assert len(parsed.words) <= 64


def test_odd_inputs_read_sensibly():
    assert parse_query('"unbalanced quote').phrases == (("unbalanced", "quote"),)
    assert parse_query("AND OR NOT").is_empty
    assert parse_query("🚀🚀 LLM 🤖").words == ("LLM",)
    assert parse_query("title:attention").words == ("title", "attention")
    assert parse_query("Ünïcödé 中文").words == ("Ünïcödé", "中文")
    assert parse_query("x" * 10_000).notes == ("query cut to its first 2000 characters",)
    assert parse_query("Graph graph GRAPH").words == ("Graph",)


def test_author_filters_are_keys_not_words():
    parsed = parse_query('author:"Tailin Wu" diffusion AUTHOR:Wu au:"Jürgen  Schmidhuber"')
    assert parsed.authors == ("tailin wu", "wu", "jurgen schmidhuber")
    assert parsed.words == ("diffusion",)
    assert parsed.semantic_text == "diffusion"
    assert parsed.constrained
    assert parse_query('author:"Wu, T."').authors == ("wu t",)
    assert parse_query('author:"Tailin Wu').authors == ("tailin wu",)  # quote left open
    assert parse_query("author:Wu author:wu").authors == ("wu",)
    # Only a filter: nothing to rank by.
    assert parse_query("author:Wu").is_empty


def test_odd_author_filters():
    empty = parse_query('author:"" x')
    assert (empty.words, empty.authors, empty.phrases) == (("x",), (), ())
    assert parse_query("author: x").words == ("author", "x")
    assert parse_query("coauthor:wu").words == ("coauthor", "wu")
    assert parse_query("author:... x").authors == ()
    # Excluding an author leaves out papers that mention the name.
    assert parse_query('-author:"Tailin Wu" x').excluded_phrases == (("Tailin", "Wu"),)
    assert parse_query("NOT author:Wu x").excluded_phrases == (("Wu",),)
    assert parse_query("NOT author:Wu x").authors == ()
