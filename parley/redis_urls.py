"""Redis clients from URLs: the one place where Parley turns a Redis address into a client.

Two forms of URL name a Redis:

- ``redis://[:password@]host:6379/0`` (or ``rediss://`` with TLS, ``unix:///path?db=0``): one server,
  as redis-py reads it.
- ``redis+sentinel://[:password@]s1:26379,s2:26379,s3:26379/mymaster/0`` (or ``rediss+sentinel://``):
  the master that Redis Sentinel names ``mymaster``, database 0. The sentinels are asked where the
  master is whenever a connection is made, so after a failover new connections go to the promoted
  replica. The password is the master's (and its replicas'); sentinels that require one of their
  own are given it as ``?sentinel_password=…`` (percent-encoded).

The channel layer may also be spread over several Redis servers (channels_redis shards channels and
groups over its hosts by consistent hashing): its URL is then a list of the URLs above, separated
by spaces or commas (``layer_hosts``). Parley's own state (``PARLEY["REDIS_URL"]``) names one Redis,
plain or through Sentinel: it is small (a key per room, user and limit) and the log-in limits change
several keys in one script, which must then live on one server.

Every client made here draws on a pool of at most ``PARLEY["REDIS_CONNECTIONS"]`` connections that
waits for a free connection rather than failing: a burst of work (a thousand sockets closing at
once) queues for Redis instead of failing with "Too many connections".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import redis
import redis.asyncio as aredis
import redis.asyncio.sentinel as asentinel
import redis.sentinel as sentinel
from django.core.exceptions import ImproperlyConfigured

from parley.conf import parley_settings

SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
PLAIN_SCHEMES = ("redis", "rediss", "unix")
# How long a command waits for one of the pool's connections before it fails: far longer than a
# burst takes to drain (a thousand presence releases take well under a second), shorter than a
# client's patience.
POOL_WAIT = 10.0
# A sentinel that does not answer within this is passed over for the next one.
SENTINEL_TIMEOUT = 1.0
DEFAULT_SENTINEL_PORT = 26379
# A new URL starts wherever a scheme does: commas inside a sentinel URL's host list do not split it.
_URL_START = re.compile(r"[\s,]+(?=[a-z][a-z0-9+.-]*://)", re.IGNORECASE)


@dataclass(frozen=True)
class SentinelAddress:
    """A master named by Redis Sentinel: where to ask, the name, and how to talk to the master."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int
    redis_user: str | None  # Redis ACL user (not a Django user)
    password: str | None
    tls: bool
    sentinel_password: str | None = None

    def sentinel_options(self) -> dict[str, Any]:
        """Keyword arguments for connections to the sentinels."""
        options: dict[str, Any] = {"socket_timeout": SENTINEL_TIMEOUT, "socket_connect_timeout": SENTINEL_TIMEOUT}
        if self.sentinel_password:
            options["password"] = self.sentinel_password
        return options

    def connection_options(self) -> dict[str, Any]:
        """Keyword arguments for connections to the master."""
        options: dict[str, Any] = {"db": self.db}
        if self.redis_user:
            options["username"] = self.redis_user
        if self.password:
            options["password"] = self.password
        if self.tls:
            options["ssl"] = True
        return options


def split_urls(value: str) -> list[str]:
    """The URLs of a list written as one string, separated by spaces or commas."""
    return [url for url in _URL_START.split(value.strip()) if url]


def sentinel_address(url: str) -> SentinelAddress | None:
    """What a ``redis+sentinel://`` URL names; None for any other URL. Raises ``ImproperlyConfigured``
    when a sentinel URL is malformed."""
    scheme, _, rest = url.partition("://")
    if scheme.lower() not in SENTINEL_SCHEMES:
        return None
    netloc, _, path = rest.partition("/")
    path, _, query = path.partition("?")
    userinfo, _, hosts = netloc.rpartition("@")
    redis_user, _, password = userinfo.partition(":")
    parts = [part for part in path.split("/") if part]
    if not hosts or not parts or len(parts) > 2 or (len(parts) == 2 and not parts[1].isdigit()):
        raise ImproperlyConfigured(
            f"{_redacted(url)} is not a Sentinel URL: write redis+sentinel://host:26379,host:26379/master-name/db"
        )
    options = parse_qs(query)
    db = int(parts[1]) if len(parts) == 2 else int(options.get("db", ["0"])[0])
    return SentinelAddress(
        sentinels=tuple(_host_port(host, url) for host in hosts.split(",") if host),
        service=unquote(parts[0]),
        db=db,
        redis_user=unquote(redis_user) or None,
        password=unquote(password) or None,
        tls=scheme.lower() == "rediss+sentinel",
        sentinel_password=options.get("sentinel_password", [""])[0] or None,
    )


def url_problem(url: str, *, several: bool = False) -> str | None:
    """What is wrong with a Redis URL (a list of them when ``several``), as a sentence; None if nothing."""
    urls = split_urls(url)
    if len(urls) > 1 and not several:
        return (
            f"{_redacted(url)} names {len(urls)} Redis servers; Parley's state lives on one "
            "(redis://host:6379/0, or redis+sentinel://s1:26379,s2:26379/master-name/0 for failover)"
        )
    for one in urls:
        scheme = urlsplit(one).scheme.lower() if "://" in one else ""
        if scheme not in (*PLAIN_SCHEMES, *SENTINEL_SCHEMES):
            return f"{_redacted(one)} is not a Redis URL: use redis://, rediss://, unix:// or redis+sentinel://"
        try:
            sentinel_address(one)
        except ImproperlyConfigured as error:
            return str(error)
    return None


def async_pool(url: str, *, timeout: float) -> aredis.ConnectionPool:
    """A bounded, waiting asyncio pool for ``url``; ``timeout`` bounds each connect and reply."""
    address = sentinel_address(url)
    options = _pool_options(timeout)
    if address is None:
        return aredis.BlockingConnectionPool.from_url(url, **options)
    manager = asentinel.Sentinel(list(address.sentinels), sentinel_kwargs=address.sentinel_options())
    pool = _AsyncBlockingSentinelPool(address.service, manager, **options, **address.connection_options())  # type: ignore[no-untyped-call]
    return pool


def async_client(url: str, *, timeout: float) -> aredis.Redis:
    """An asyncio client for ``url`` (one event loop's) on a pool of its own, bounded and waiting."""
    return aredis.Redis.from_pool(async_pool(url, timeout=timeout))


def sync_client(url: str, *, timeout: float) -> redis.Redis:
    """A blocking client for ``url``, safe to share between threads, on a bounded, waiting pool."""
    address = sentinel_address(url)
    options = _pool_options(timeout)
    if address is None:
        return redis.Redis(connection_pool=redis.BlockingConnectionPool.from_url(url, **options))
    manager = sentinel.Sentinel(list(address.sentinels), sentinel_kwargs=address.sentinel_options())
    pool = _SyncBlockingSentinelPool(address.service, manager, **options, **address.connection_options())  # type: ignore[no-untyped-call]
    return redis.Redis(connection_pool=pool)


def layer_hosts(url: str, *, socket_timeout: float, connect_timeout: float) -> list[dict[str, Any]]:
    """channels_redis ``hosts`` for a URL or a list of them: one shard per URL, each a plain Redis
    or a master named by Sentinel."""
    problem = url_problem(url, several=True)
    if problem:
        raise ImproperlyConfigured(problem)
    hosts: list[dict[str, Any]] = []
    for one in split_urls(url):
        timeouts = {"socket_timeout": socket_timeout, "socket_connect_timeout": connect_timeout}
        address = sentinel_address(one)
        if address is None:
            hosts.append({"address": one, **timeouts})
            continue
        hosts.append(
            {
                "sentinels": list(address.sentinels),
                "master_name": address.service,
                "sentinel_kwargs": address.sentinel_options(),
                **address.connection_options(),
                **timeouts,
            }
        )
    return hosts


def _pool_options(timeout: float) -> dict[str, Any]:
    return {
        "max_connections": parley_settings.REDIS_CONNECTIONS,
        "timeout": POOL_WAIT,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
    }


def _host_port(text: str, url: str) -> tuple[str, int]:
    match = re.fullmatch(r"\[(?P<v6>[^\]]+)\](?::(?P<port6>\d+))?|(?P<host>[^:\[\]]+)(?::(?P<port>\d+))?", text)
    if match is None:
        raise ImproperlyConfigured(f"{_redacted(url)}: {text!r} is not host:port")
    host = match["v6"] or match["host"]
    port = match["port6"] or match["port"]
    return host, int(port) if port else DEFAULT_SENTINEL_PORT


def _redacted(url: str) -> str:
    """The URL without its password, for messages that may reach a log."""
    url = re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)
    return re.sub(r"(sentinel_password=)[^&]*", r"\1***", url)


# redis-py's Sentinel pools make connections to whichever server the sentinels name, but raise
# once max_connections are in use; its blocking pools wait, but know only one address. A class
# with both parents has both behaviours: each parent overrides different methods of ConnectionPool.
class _AsyncBlockingSentinelPool(asentinel.SentinelConnectionPool, aredis.BlockingConnectionPool):
    pass


class _SyncBlockingSentinelPool(sentinel.SentinelConnectionPool, redis.BlockingConnectionPool):
    pass
