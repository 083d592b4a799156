import pytest

from paperfeed.people.addresses import BadAddress, normalise_address


def test_addresses_are_normalised():
    assert normalise_address("  Ada@Example.ORG ") == "Ada@example.org"
    assert normalise_address("ünï@bücher.example") == "ünï@bücher.example"


@pytest.mark.parametrize(
    "raw",
    [
        "a@b.c\r\nBcc: x@y.z",
        "a@b.org\nSubject: hi",
        "a@b.org, c@d.org",
        "Ada <a@b.org>",
        "a@b.org; c@d.org",
        "not an address",
        "a@",
        "@b.org",
        "a@b",
        "",
        None,
        42,
        "a" * 250 + "@b.org",
        "a@b.org\x00",
    ],
)
def test_anything_but_one_plain_address_is_refused(raw):
    with pytest.raises(BadAddress):
        normalise_address(raw)
