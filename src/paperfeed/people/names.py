"""A reader's public name: what others see beside what they submit or write (pure checks).

Readers are addresses, and an address is never shown to anyone else; a reader who submits a
paper or joins a discussion first picks a public name, as on Hugging Face (`submittedBy.name`).
Names are ASCII letters, digits and `-` `_` `.`, so they cannot imitate one another with
look-alike characters, and compare case-insensitively (`Ada` and `ada` are one name).
"""

from __future__ import annotations

import re

MIN_NAME_CHARS = 2
MAX_NAME_CHARS = 32
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
# Names that would read as the site speaking, or as a link to one of its pages.
RESERVED = frozenset(
    {
        "admin",
        "administrator",
        "anonymous",
        "api",
        "deleted",
        "hidden",
        "moderator",
        "mod",
        "operator",
        "paperfeed",
        "root",
        "staff",
        "support",
        "system",
    }
)


class BadName(ValueError):
    """A public name that cannot be used; the message says why."""


def public_name(text: str) -> str:
    """`text` trimmed, as a public name is kept; BadName when it cannot be one."""
    name = text.strip()
    if len(name) < MIN_NAME_CHARS or len(name) > MAX_NAME_CHARS:
        raise BadName(
            f"a public name has {MIN_NAME_CHARS} to {MAX_NAME_CHARS} characters "
            f"(this one has {len(name)})"
        )
    if not _NAME.match(name):
        raise BadName(
            "a public name is made of letters a-z, digits and - _ . "
            "and starts with a letter or a digit"
        )
    if name_key(name).strip(".-_") in RESERVED:
        raise BadName(f"{name!r} is reserved; pick another name")
    return name


def name_key(name: str) -> str:
    """What makes two public names one."""
    return name.strip().lower()
