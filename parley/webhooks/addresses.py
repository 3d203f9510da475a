"""Where a webhook may be POSTed: to public addresses, and to the networks the operator allows.

Anyone who owns a room registers receivers, so a receiver URL is a request the server makes on a
stranger's behalf. It must not reach the server's own network: loopback, private and link-local
ranges (where cloud metadata answers), carrier-grade NAT, unique-local IPv6, multicast and the
reserved ranges, nor an IPv6 address that embeds one of those (IPv4-mapped, 6to4, NAT64).
``PARLEY_WEBHOOK_ALLOWED_NETWORKS`` lists the networks an operator opens on purpose.

The URL is checked when registered (``check_receiver_url``: a clear refusal early), and the
addresses its host resolves to are checked again at every connection, by ``PublicOnlyBackend``,
which then connects to exactly the address it checked. A name that resolved to a public address
when registered and resolves to an internal one later (DNS rebinding) reaches nothing inside.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from parley.conf import parley_settings
from parley.wire.errors import ParleyError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

CARRIER_GRADE_NAT = ipaddress.IPv4Network("100.64.0.0/10")
# Special-purpose ranges that older Pythons' ``is_private``/``is_global`` tables miss (CPython fixed
# them in 3.11.10 and 3.12.4, CVE-2024-4032), and IPv6 site-local, which neither flag covers: named
# here so the rule does not depend on the patch level of the interpreter.
SPECIAL_PURPOSE = (
    ipaddress.IPv4Network("192.0.0.0/24"),
    ipaddress.IPv4Network("198.18.0.0/15"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("2001::/23"),
    ipaddress.IPv6Network("fec0::/10"),
)
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# A host whose last label is a number is an IPv4 address to URL parsers and to getaddrinfo, in any
# of its forms (2130706433, 0x7f000001, 127.1, 0177.0.0.1); no DNS name ends in a number.
NUMERIC_LABEL = re.compile(r"^(?:\d+|0x[0-9a-f]*)$", re.IGNORECASE)

_lookups = ThreadPoolExecutor(max_workers=2, thread_name_prefix="webhook-dns")


class AddressRefused(ParleyError):
    """A receiver Parley will not connect to (``invalid``): ``detail`` is a sentence saying why and
    what to do, ``reason`` the why alone ("127.0.0.1 is a loopback address")."""

    def __init__(self, sentence: str, *, reason: str = "") -> None:
        super().__init__("invalid", sentence)
        self.reason = reason or sentence


def allowed_networks() -> list[IPNetwork]:
    """The networks ``PARLEY_WEBHOOK_ALLOWED_NETWORKS`` opens to webhooks on purpose (none by default)."""
    entries: Iterable[str] = parley_settings.WEBHOOK_ALLOWED_NETWORKS
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip()]


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address leads to, if it embeds one (6to4 or NAT64)."""
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _kind(address: IPAddress) -> str | None:
    """What makes ``address`` unfit for a webhook ("a loopback address"), or None if it is public."""
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (where cloud metadata services answer)"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address in CARRIER_GRADE_NAT:
        return "a carrier-grade NAT address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global or any(address in network for network in SPECIAL_PURPOSE):
        return "a special-purpose address"
    return None


def address_refusal(address: IPAddress) -> str | None:
    """Why a webhook may not connect to ``address`` ("10.0.0.1 is a private address"), or None if it may."""
    # ::ffff:127.0.0.1 is 127.0.0.1 on a dual-stack socket: it is judged, and allowed, as that.
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    if any((mapped or address) in network for network in allowed_networks()):
        return None
    embedded = _embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else None
    if embedded is not None:
        # 6to4 and NAT64 addresses are as good as the IPv4 address they lead to (a DNS64 resolver
        # answers 64:ff9b::<address> for every IPv4-only name).
        embedded_kind = _kind(embedded)
        return None if embedded_kind is None else f"{address} leads to {embedded}, {embedded_kind}"
    kind = _kind(mapped or address)
    if kind is not None:
        return f"{address} is {kind}" if mapped is None else f"{address} is {mapped}, {kind}"
    return None


def check_addresses(addresses: Iterable[IPAddress], *, name: str | None = None) -> None:
    """Raise ``AddressRefused`` if any of ``addresses`` (those ``name`` resolved to, if given) is not allowed."""
    for address in addresses:
        refusal = address_refusal(address)
        if refusal is not None:
            resolved = "" if name is None else f"{name} resolves to {address}, and "
            raise AddressRefused(
                f"Webhooks are only sent to public addresses: {resolved}{refusal}. "
                "Give the receiver's public address (an operator can allow an internal network with "
                "PARLEY_WEBHOOK_ALLOWED_NETWORKS).",
                reason=f"{resolved}{refusal}",
            )


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _resolved(infos: Iterable[tuple[Any, ...]]) -> list[IPAddress]:
    # The scope of a link-local IPv6 address (fe80::1%eth0) is dropped: the range is refused anyway.
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))


def check_receiver_url(url: str) -> None:
    """Raise ``AddressRefused`` unless ``url`` is an http(s) URL of a public receiver.

    Refused outright: other schemes, a user name or password in the URL, and IPv4 addresses in any
    form but a.b.c.d. A name is resolved now and every address it has must be allowed; a name that
    does not resolve (yet) is accepted, since every connection checks its addresses anyway.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise AddressRefused(f"{url!r} is not an http:// or https:// URL; give the full address of the receiver.")
    if "@" in parts.netloc:
        raise AddressRefused(
            "A webhook URL must not hold a user name or password (user:password@host); "
            "the receiver checks the X-Parley-Signature header instead."
        )
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise AddressRefused(f"The port of {url!r} is not a number from 0 to 65535.") from None
    host = parts.hostname.rstrip(".")
    literal = _literal(host)
    if literal is None and NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
        raise AddressRefused(
            f"{parts.hostname!r} is not a host name, nor an IPv4 address written as four decimal numbers "
            "(a.b.c.d); write the receiver's address in full."
        )
    if literal is not None:
        check_addresses([literal])
        return
    lookup = _lookups.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        addresses = _resolved(lookup.result(timeout=parley_settings.WEBHOOK_LOOKUP_TIMEOUT))
    except (OSError, UnicodeError, FutureTimeout):
        return
    check_addresses(addresses, name=host)


async def vetted_addresses(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to now, each checked; raise ``AddressRefused`` if any is not allowed."""
    literal = _literal(host)
    if literal is not None:
        check_addresses([literal])
        return [str(literal)]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise httpcore.ConnectError(f"{host} does not resolve: {error}") from error
    addresses = _resolved(infos)
    check_addresses(addresses, name=host)
    return [str(address) for address in addresses]


class PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses it resolved and checked itself.

    httpcore hands it the URL's host; it resolves the host, refuses if any address is not allowed,
    and connects to a checked address. TLS is started afterwards by httpcore on the stream it
    returns, with the URL's host name, so SNI and the certificate check are the host's, and the
    Host header is the URL's as always.
    """

    def __init__(self) -> None:
        self._network = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect to the first address of ``host`` that answers, once every one of them is checked."""
        try:
            async with asyncio.timeout(timeout):
                addresses = await vetted_addresses(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"Looking up {host} took longer than {timeout} s.") from None
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._network.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None  # vetted_addresses returns at least one address or raises
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never: a webhook goes over TCP."""
        raise AddressRefused("Webhooks are sent over TCP only.")

    async def sleep(self, seconds: float) -> None:
        """Called by httpcore between retries."""
        await self._network.sleep(seconds)


class PublicOnlyTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over ``PublicOnlyBackend``, ignoring proxy settings from the environment
    (a proxy would make the connection the check never sees)."""

    def __init__(self, *, verify: ssl.SSLContext | bool = True) -> None:
        super().__init__(trust_env=False)
        # httpx builds its pool without a way to pass a network backend, so the pool is made again
        # with the same defaults and this backend.
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PublicOnlyBackend(),
        )
