"""Read query parameters the way paperfeed wants: clear 400 messages, never an exception leak."""

from __future__ import annotations

from datetime import date

from paperfeed.ids import BadIdentifier, parse_paper_id
from paperfeed.storage import PaperHidden, PaperNotFound, Store


class BadRequest(ValueError):
    """A request parameter is missing or out of range; the message is shown to the client."""


def int_param(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    """An integer in [low, high], `default` when absent."""
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise BadRequest(f"{name} must be a whole number, not {raw[:20]!r}") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low} and {high}")
    return value


def day_param(name: str, raw: str | None) -> date | None:
    """A YYYY-MM-DD date, None when absent or empty."""
    if raw is None or raw.strip() == "":
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise BadRequest(f"{name} must be a date like 2026-06-26, not {raw[:20]!r}") from None


def choice_param(name: str, raw: str | None, choices: tuple[str, ...], default: str) -> str:
    """One of `choices`, `default` when absent."""
    if raw is None or raw.strip() == "":
        return default
    if raw not in choices:
        raise BadRequest(f"{name} must be one of {', '.join(choices)}, not {raw[:20]!r}")
    return raw


_YES = ("1", "true", "yes", "on")
_NO = ("", "0", "false", "no", "off")


def flag_param(name: str, raw: str | None) -> bool:
    """A yes/no: 1, true, yes or on; 0, false, no, off, empty or absent."""
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise BadRequest(f"{name} must be true or false (1 or 0), not {raw[:20]!r}")


def categories_param(raw: list[str]) -> tuple[str, ...]:
    """Category filters from repeated or comma-separated values (cs.CL, cs.LG)."""
    found: list[str] = []
    for value in raw:
        for part in value.split(","):
            part = part.strip()
            if part and len(part) <= 40 and part not in found:
                found.append(part)
    return tuple(found[:20])


def paper_id_param(raw: str) -> str:
    """The paper id a path names, in any spelling (2606.27372v2, arXiv:..., an abs URL);
    PaperNotFound (a 404) when it is not one."""
    try:
        normalised, _ = parse_paper_id(raw)
    except BadIdentifier:
        raise PaperNotFound(raw[:80]) from None
    return normalised


def paper_pk(store: Store, raw: str) -> tuple[str, int]:
    """(id, pk) of the paper a path names; PaperNotFound (a 404) when it is not an id or not
    in the catalog, PaperHidden (a 404 too) when an operator hid it."""
    normalised = paper_id_param(raw)
    pk = store.pks_for_ids([normalised]).get(normalised)
    if pk is None:
        raise PaperNotFound(normalised)
    if normalised in store.hidden_keys("paper"):
        raise PaperHidden(normalised)
    return normalised, pk


def local_path(target: object, fallback: str) -> str:
    """Only a path on this site may be a redirect target (never //other.site or a URL)."""
    if (
        isinstance(target, str)
        and target.startswith("/")
        and not target.startswith("//")
        and not any(c in target for c in "\\\r\n")
    ):
        return target[:2000]
    return fallback


def form_text(value: object) -> str | None:
    """A form field's text; None for a missing field or an uploaded file."""
    return value if isinstance(value, str) else None
