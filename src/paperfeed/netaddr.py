"""Client network addresses: which are loopback, and which rate-limit bucket an address is in."""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
UNKNOWN_BUCKET = "unknown"
IPV6_PREFIX = 64  # one customer usually gets a whole /64: limit it as one address


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = address.strip().strip("[]")
    if "%" in text:  # an IPv6 zone (fe80::1%eth0)
        text = text.split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or a name) can only be reached from this machine."""
    if host.strip().lower().rstrip(".") in LOOPBACK_NAMES:
        return True
    parsed = _parse(host)
    if parsed is None:
        return False
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped.is_loopback
    return parsed.is_loopback


def rate_bucket(address: str | None) -> str:
    """The key one client's requests are counted under: an IPv4 address, an IPv6 /64, or one
    shared bucket for every client whose address is unknown (never unlimited)."""
    parsed = _parse(address) if address else None
    if parsed is None:
        return UNKNOWN_BUCKET
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        network = ipaddress.IPv6Network((parsed, IPV6_PREFIX), strict=False)
        return str(network)
    return str(parsed)
