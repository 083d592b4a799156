"""Which Host headers the site answers to: its base URL's host, loopback, and configured names."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from paperfeed.config import Settings

# A health check or a browser on the machine itself; no other site can make a browser send
# these names, so they cannot carry a DNS-rebinding attack.
LOOPBACK = ("localhost", "127.0.0.1", "::1")
_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$")
_HOST = re.compile(r"^(\[(?P<ipv6>[0-9a-f:.]+)\]|(?P<name>[^:\[\]]+))(:(?P<port>\d{1,5}))?$")


UNKNOWN_HOST = (
    "this server does not answer to that host name "
    "(PAPERFEED_BASE_URL and PAPERFEED_ALLOWED_HOSTS name those it does)"
)


class BadHost(ValueError):
    """The request names a host this site does not answer to."""


def host_name(header: str) -> str | None:
    """The host of a Host header, lowercased, without port or final dot; None if it is not a
    host name or address (`evil.example:80`, `[::1]:8000`, `Example.org.` all are)."""
    match = _HOST.match(header.strip().lower())
    if match is None:
        return None
    if match["ipv6"] is not None:
        return match["ipv6"]
    name = match["name"].rstrip(".")
    return name if _NAME.match(name) else None


def _pattern(entry: str) -> str | None:
    """One PAPERFEED_ALLOWED_HOSTS entry in the form host_allowed compares; None if unusable."""
    entry = entry.strip().lower()
    if entry == "*":
        return entry
    if entry.startswith("."):
        name = host_name(entry[1:])
        return f".{name}" if name is not None and ":" not in name else None
    if ":" in entry and not entry.startswith("["):
        entry = f"[{entry}]"  # a bare IPv6 address, as ::1
    name = host_name(entry)
    return name if name is not None and host_name(f"{entry}:80") == name else None


def _entries(value: str) -> list[str]:
    return [part for part in re.split(r"[\s,]+", value) if part]


def allowed_hosts(settings: Settings) -> tuple[str, ...]:
    """The names the site answers to: the base URL's host, loopback, PAPERFEED_ALLOWED_HOSTS."""
    own = host_name(urlsplit(settings.base_url).netloc.rpartition("@")[2]) or ""
    extra = [_pattern(entry) for entry in _entries(settings.allowed_hosts)]
    return tuple(dict.fromkeys([own, *LOOPBACK, *(e for e in extra if e)]))


def allowed_hosts_problem(value: str) -> str | None:
    """What is wrong with a PAPERFEED_ALLOWED_HOSTS value, or None when it is usable."""
    for entry in _entries(value):
        if _pattern(entry) is None:
            return f"{entry!r} is not a host name, .domain or * (no scheme, no port)"
    return None


def host_allowed(header: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether a request with this Host header is for this site. `*` allows any host;
    `.example.org` allows example.org and its subdomains. No header at all (HTTP/1.0) is
    allowed: the server then builds URLs from its own address, not from the client."""
    if "*" in allowed or header is None:
        return True
    name = host_name(header)
    if name is None:
        return False
    for pattern in allowed:
        if name == pattern or (pattern.startswith(".") and f".{name}".endswith(pattern)):
            return True
    return False
