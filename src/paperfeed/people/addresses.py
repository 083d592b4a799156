"""Check and normalise email addresses; anything that could smuggle a header is refused."""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

MAX_ADDRESS_CHARS = 254  # RFC 5321's limit on a forward path


class BadAddress(ValueError):
    """Not an email address paperfeed will write to; the message says why, for the user."""


# Direction overrides and isolates (U+202A-202E, U+2066-2069) and other invisible formatting.
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn"}


def shown_address(raw: object) -> str:
    """What a form shows back of a refused address: the typed text without control, direction
    or other invisible characters, cut to the longest address there can be."""
    if not isinstance(raw, str):
        return ""
    visible = "".join(ch for ch in raw if unicodedata.category(ch) not in _INVISIBLE)
    return visible.strip()[:MAX_ADDRESS_CHARS]


def normalise_address(raw: object) -> str:
    """The address in canonical form (domain lowercased, IDNA, Unicode NFC); BadAddress if not
    a single plain address. No DNS lookup: delivery is what tells."""
    if not isinstance(raw, str):
        raise BadAddress("please give an email address")
    text = raw.strip()
    if not text:
        raise BadAddress("please give an email address")
    if len(text) > MAX_ADDRESS_CHARS:
        raise BadAddress("that email address is too long")
    # CR, LF and other control characters could inject headers ("a@b.c\r\nBcc: x@y.z");
    # commas, angle brackets and spaces would make it a list or a display name.
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text) or any(ch in text for ch in ",;<> "):
        raise BadAddress("that is not a single email address")
    if "=?" in text:  # an RFC 2047 encoded-word, which a mail client might show decoded
        raise BadAddress("that is not a plain email address")
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise BadAddress(f"that is not a valid email address ({exc})") from None
    return str(checked.normalized)


def wire_address(email: str) -> str:
    """The address as mail carries it: the domain in its ASCII form (`user@xn--bcher-kva.de`
    for `user@bücher.de`), so any server takes it; a non-ASCII local part (`ü@example.com`)
    stays as it is and needs a server that speaks SMTPUTF8."""
    if email.isascii():
        return email
    try:
        checked = validate_email(email, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise BadAddress(f"that is not a valid email address ({exc})") from None
    return f"{checked.local_part}@{checked.ascii_domain}"
