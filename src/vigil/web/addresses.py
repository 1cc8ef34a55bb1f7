"""The client's address: the peer's, unless the peer is a proxy named in `trusted_proxies`; then
the nearest address in X-Forwarded-For that is not one of those proxies. Anyone can send the
header, so from anyone else it is ignored (the login backoff and the audit log rely on it)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from vigil.core.errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(values: Iterable[str]) -> tuple[Network, ...]:
    """The `trusted_proxies` setting as networks; a single address is a network of one."""
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError as e:
            raise ConfigError(f"trusted_proxies: {value!r} is not an address or network") from e
    return tuple(networks)


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(
    peer: str | None, forwarded: str | None, proxies: Sequence[Network]
) -> str | None:
    """Walk X-Forwarded-For from the right while the hops are trusted proxies; the first other
    hop is the client. A hop that is not an address ends the walk at the last trusted one."""
    if peer is None or not forwarded or not _trusted(peer, proxies):
        return peer
    client = peer
    for hop in reversed([h.strip() for h in forwarded.split(",")]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return client
        client = hop
        if not _trusted(hop, proxies):
            return hop
    return client
