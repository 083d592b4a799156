import pytest

from paperfeed.search.names import author_key, initials_keys


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


def test_initials_keys():
    assert initials_keys("tailin wu") == ("t wu", "wu t")
    assert initials_keys("zhi ming ma") == ("z ma", "ma z", "z m ma", "ma z m")
    assert initials_keys("t wu") == ("wu t",)
    assert initials_keys("wu") == ()
    assert initials_keys("") == ()
