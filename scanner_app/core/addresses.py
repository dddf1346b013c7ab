"""Which network addresses a webhook may reach (server-side request forgery).

A `webhooks:write` key must not turn the hub into a client of the venue LAN, the hub's own
loopback services or a cloud metadata endpoint. Only globally routable unicast addresses
are allowed unless the organiser opts in (``serve --allow-private-webhooks``).
"""

from __future__ import annotations

import ipaddress
import socket

from scanner_app.core.errors import ValidationError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class RefusedTarget(Exception):
    """A webhook target that resolves to an address the hub will not connect to."""


def _unmapped(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address):
        for inner in (address.ipv4_mapped, address.sixtofour):
            if inner is not None:
                return inner
    return address


def refusal(address: Address) -> str | None:
    """Why ``address`` is not a public unicast address (None when it is)."""
    address = _unmapped(address)
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if not address.is_global:
        return "a private or reserved address"
    return None


def literal(host: str) -> Address | None:
    """``host`` as an IP address if it is one, in any form a resolver accepts:
    ``127.0.0.1``, ``[::1]``, and the old ``2130706433`` / ``0x7f.1`` / ``127.1`` spellings."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def check_target_host(host: str, allow_private: bool) -> None:
    """At registration: refuse local names and non-public address literals (the delivery
    worker checks again what a name resolves to, every time it connects)."""
    if allow_private:
        return
    name = host.lower().rstrip(".")
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        raise ValidationError(
            "url must not point at this machine (localhost); a receiver on the venue "
            "network needs serve --allow-private-webhooks",
            field="url",
        )
    address = literal(host)
    why = refusal(address) if address is not None else None
    if why:
        raise ValidationError(
            f"url points at {why}; webhooks go to public addresses unless the hub runs "
            "with serve --allow-private-webhooks",
            field="url",
        )


def resolve_target(host: str, port: int, allow_private: bool) -> str:
    """Resolve ``host`` once and return the address to connect to (as text).

    The caller connects to exactly this address, so a name that answers a public address
    to the check and a private one to the connection (DNS rebinding) gains nothing.
    Raises RefusedTarget when no allowed address is found.
    """
    address = literal(host)
    if address is not None:
        candidates = [address]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise RefusedTarget("the host name did not resolve") from exc
        candidates = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    reasons = []
    for candidate in candidates:
        why = None if allow_private else refusal(candidate)
        if why is None:
            return str(candidate)
        reasons.append(why)
    raise RefusedTarget(f"the host resolves to {reasons[0] if reasons else 'nothing'}")
