import pytest

from paperfeed.search.names import author_key


@pytest.mark.parametrize(
    "name, key",
    [
        ("Tailin Wu", "tailin wu"),
        ("  Tailin   WU ", "tailin wu"),
        ("Jürgen Schmidhuber", "jurgen schmidhuber"),
        ("Zhi-Ming Ma", "zhi ming ma"),
        ("Wu, T.", "wu t"),
        ("J. R. R. Tolkien", "j r r tolkien"),
        ("Søren Kierkegaard", "soren kierkegaard"),
        ("Aleksander Mądry", "aleksander madry"),
        ("Paweł Łukasz", "pawel lukasz"),
        ("Agustín Martínez-Suñé", "agustin martinez sune"),
        ("Conan O'Brien", "conan o brien"),
        ("Ｔａｉｌｉｎ Ｗｕ", "tailin wu"),  # full-width
        ("李飞飞", "李飞飞"),
        ("...", ""),
        ("", ""),
    ],
)
def test_author_key(name, key):
    assert author_key(name) == key
