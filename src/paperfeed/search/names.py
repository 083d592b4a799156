"""Normalise author names into the keys the keyword index matches them by (pure)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Letters that NFKD leaves whole but readers type without the stroke or ligature.
_FOLD = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ð": "d", "ı": "i", "ß": "ss", "æ": "ae", "œ": "oe", "þ": "th"}
)
_SEPARATORS = re.compile(r"[^\w]+|_+")


@lru_cache(maxsize=100_000)
def author_key(name: str) -> str:
    """The name lowercased, without accents, its punctuation and spaces collapsed to single
    spaces: "Jürgen Schmidhuber" -> "jurgen schmidhuber", "Zhi-Ming Ma" -> "zhi ming ma"."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_SEPARATORS.sub(" ", bare.lower().translate(_FOLD)).split())


def initials_keys(key: str) -> tuple[str, ...]:
    """The ways a key is cited with initials, surname last or first: "tailin wu" ->
    ("t wu", "wu t"), "zhi ming ma" -> ("z ma", "ma z", "z m ma", "ma z m")."""
    *given, surname = key.split() or [""]
    if not given:
        return ()
    first = given[0][0]
    every = " ".join(name[0] for name in given)
    keys = (f"{first} {surname}", f"{surname} {first}", f"{every} {surname}", f"{surname} {every}")
    return tuple(k for k in dict.fromkeys(keys) if k != key)
