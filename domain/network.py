"""Who is the client: the address a rate limit or login throttle is keyed on.

By default the direct peer of the connection, whatever headers it sends: a client can write any
X-Forwarded-For it likes. Only when the peer is one of the configured trusted proxies
(LOTSA_TRUSTED_PROXIES: addresses or networks, comma-separated) is X-Forwarded-For read, from the
right, skipping the trusted proxies; the first address that is not a trusted proxy is the client.
Entries left of it were written by the client and are ignored. Pure logic, no Streamlit.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK = "127.0.0.1"


class BadProxySetting(ValueError):
    pass


def parse_trusted_proxies(raw: str | None) -> tuple[Network, ...]:
    """'10.0.0.0/8, 127.0.0.1, ::1' -> networks. Refuses what is not an address or network."""
    networks = []
    for part in (raw or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if part == "localhost":
            networks += [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError as error:
            raise BadProxySetting(f"LOTSA_TRUSTED_PROXIES: {part!r} is not an address or network") from error
    return tuple(networks)


def _address(value: str | None):
    value = (value or "").strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":")[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(address, networks: Iterable[Network]) -> bool:
    return address is not None and any(address in net for net in networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted: Iterable[Network]) -> str:
    """The client's address as text ('unknown' if there is none to be had).

    `peer` is the connection's remote address (Streamlit reports None for a local connection,
    taken as 127.0.0.1); `forwarded_for` the X-Forwarded-For header, possibly several joined by
    commas."""
    networks = tuple(trusted)
    entries = [e for e in (forwarded_for or "").split(",") if e.strip()]
    if peer and entries and _address(peer) is not None and _address(peer) == _address(entries[-1]):
        # Streamlit's web server (uvicorn) itself believes X-Forwarded-For from a loopback peer and
        # reports that address as the peer (seen in Chromium: 7 invented addresses, 7 "peers"). A
        # peer equal to the header's last entry is such a rewrite: the connection came from loopback.
        peer = None
    peer_address = _address(peer) if peer else ipaddress.ip_address(LOOPBACK)
    if peer_address is None:
        return "unknown"
    if not _trusted(peer_address, networks):
        return str(peer_address)
    client = peer_address
    for entry in reversed(entries):
        address = _address(entry)
        if address is None:
            break  # garbage from the client: stop at the last address a trusted proxy vouched for
        client = address
        if not _trusted(address, networks):
            break
    return str(client)
