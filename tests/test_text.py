from paperfeed.text import clean_optional, clean_text


def test_clean_text_collapses_arxiv_line_wrapping():
    wrapped = "  Calculation of prompt diphoton production cross sections at\n  LHC energies\n"
    expected = "Calculation of prompt diphoton production cross sections at LHC energies"
    assert clean_text(wrapped) == expected


def test_clean_text_drops_control_characters_and_lone_surrogates():
    assert clean_text("a\x00b\x07c\x1b[31md\ud800e") == "abc[31mde"


def test_clean_text_keeps_html_and_latex_verbatim():
    raw = "<script>alert(1)</script> $\\mathcal{O}(n)$ \\emph{fast}"
    assert clean_text(raw) == raw


def test_clean_text_normalises_unicode_to_nfc():
    assert clean_text("Bala\u0301zs") == "Bal\u00e1zs"


def test_clean_optional_is_none_for_blank_values():
    assert clean_optional(None) is None
    assert clean_optional("  \n ") is None
    assert clean_optional(" x ") == "x"
    assert clean_text(12) == "12"


def test_clean_text_drops_bidi_overrides_and_noncharacters():
    # U+202E turns "gnp.exe" around on screen; U+FFFE/U+FFFF make XML (the feeds) invalid.
    spoof = "Safe title \u202egnp.exe\u202c, \u2066isolated\u2069 \u202aembedded\u202b \ufffe\uffff"
    assert clean_text(spoof) == "Safe title gnp.exe, isolated embedded"
    # Right-to-left text and its marks stay: they are not overrides.
    assert (
        clean_text("\u05e9\u05dc\u05d5\u05dd \u200fabc\u200e")
        == "\u05e9\u05dc\u05d5\u05dd \u200fabc\u200e"
    )


def test_shorten_cuts_at_a_word_and_keeps_short_text_whole():
    from paperfeed.text import shorten

    assert shorten("short", 10) == "short"
    assert shorten("one two three four five", 12) == "one two…"
    assert shorten("a" * 30, 10) == "a" * 10 + "…"  # no space near the limit: cut at it
    assert shorten("Koopman operators, and more words here", 20) == "Koopman operators…"
