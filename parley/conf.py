"""Parley's settings: one object over the host's ``settings.PARLEY`` dict (DRF's ``api_settings`` idea).

Every key is optional and has a default here; a host writes only what it changes::

    PARLEY = {"GUESTS": True, "SEND_RATE": "10/20"}

Values are parsed and checked on first use (``"10/20"`` becomes a rate of 10 a second with
bursts of 20); a wrong one raises ``ImproperlyConfigured`` naming the key and the form expected,
and ``manage.py check`` reports it before anything is served (``parley/checks.py``). The object
forgets what it read whenever ``PARLEY`` changes (``setting_changed``: pytest-django's
``settings`` fixture, ``override_settings``).

    from parley.conf import parley_settings
    parley_settings.MAX_BODY            # 4000 unless the host says otherwise

Adding a key: one ``Key`` line in ``KEYS`` below (default, parser, the sentence for a bad value),
and a row in the README's configuration table.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

Rate = tuple[float, int]


class BadValue(ValueError):
    """A value of the wrong form; the message says what the right one is."""


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise BadValue("use True or False")


def _number(kind: type[int] | type[float], minimum: float, what: str) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and isinstance(value, float)):
            raise BadValue(f"use {what}")
        if not math.isfinite(value) or value < minimum:
            raise BadValue(f"use {what}")
        return kind(value)

    return parse


def _choice(*choices: str | None) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if value not in choices:
            raise BadValue("use one of " + ", ".join(repr(choice) for choice in choices))
        return value

    return parse


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise BadValue("use a string")
    return value


def _link(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise BadValue('use a URL name such as "parley_accounts:signup", a path such as "/accounts/signup/", or None')
    return value


def _site_url(value: Any) -> str:
    if not isinstance(value, str) or (value and not re.match(r"^https?://[^/\s]+", value)):
        raise BadValue('use the site\'s address, such as "https://chat.example.com", or "" for no links')
    return value.rstrip("/")


def _search_config(value: Any) -> str:
    # Written into SQL (the index and the queries): a plain name only.
    if not isinstance(value, str) or not re.match(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$", value):
        raise BadValue("use the name of a PostgreSQL text search configuration, such as 'simple' or 'english'")
    return value


def _websocket_path(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.match(r"^/([^/\s?#]+/)*$", value):
        raise BadValue('use a path from the site\'s root ending in "/", such as "/ws/" or "/chat/ws/"')
    return value


RATE_FORM = 'write "rate/burst" (e.g. "10/20": 10 a second, 20 at once), or "0" (or None) for no limit'


def parse_rate(value: Any) -> Rate | None:
    """A rate limit: ``"R/B"`` (R a second on average, B at once), ``(R, B)``, or ``"0"``/``None`` for off."""
    if value is None or value == 0:
        return None
    if isinstance(value, tuple | list) and len(value) == 2:
        rate, burst = value
    elif isinstance(value, str):
        text = value.strip()
        if text == "0":
            return None
        rate, _, burst = text.partition("/")
    else:
        raise BadValue(RATE_FORM)
    try:
        per_second = float(rate)
        at_once = int(burst)
    except (TypeError, ValueError):
        raise BadValue(RATE_FORM) from None
    if isinstance(burst, float) and burst != at_once:
        raise BadValue(RATE_FORM)
    if not (0 < per_second < float("inf")) or at_once < 1:
        raise BadValue(RATE_FORM)
    return per_second, at_once


def _content_types(value: Any) -> list[str]:
    """Media types such as ``"image/png"``: a list, or one comma-separated string."""
    entries = value.split(",") if isinstance(value, str) else value
    if not isinstance(entries, list | tuple) or not all(isinstance(entry, str) for entry in entries):
        raise BadValue('use a list of media types, such as ["image/png", "application/pdf"]')
    types = [entry.strip().lower() for entry in entries if entry.strip()]
    for media_type in types:
        if not re.match(r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$", media_type):
            raise BadValue(f"{media_type!r} is not a media type; write each like image/png")
    return types


def _networks(value: Any) -> list[str]:
    """Addresses and networks (CIDRs): a list, or one comma-separated string."""
    entries = value.split(",") if isinstance(value, str) else value
    if not isinstance(entries, list | tuple) or not all(isinstance(entry, str) for entry in entries):
        raise BadValue('use a list of networks, such as ["10.0.0.0/8", "192.0.2.7"]')
    networks = [entry.strip() for entry in entries if entry.strip()]
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise BadValue(
                f"{network!r} is not an address or network; write each like 10.0.0.0/8 or 192.0.2.7"
            ) from None
    return networks


def _origins(value: Any) -> list[str]:
    """Origins ``scheme://host[:port]``: a list, or one comma-separated string."""
    entries = value.split(",") if isinstance(value, str) else value
    if not isinstance(entries, list | tuple) or not all(isinstance(entry, str) for entry in entries):
        raise BadValue('use a list of origins, such as ["https://shop.example.com"]')
    origins = [entry.strip() for entry in entries if entry.strip()]
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/") or "@" in parts.netloc:
            raise BadValue(
                f"{origin!r} is not an origin; write each as scheme://host[:port], such as https://shop.example.com"
            )
    return origins


FAILURES_FORM = 'write "failures/seconds" (e.g. "5/300": 5 failed log-ins in 5 minutes), or "0" (or None) for no limit'


def parse_failures(value: Any) -> tuple[int, int] | None:
    """A log-in failure limit: ``"N/S"`` (at most N failures within any S seconds), ``(N, S)``, or off."""
    if value is None or value == 0 or value == "0":
        return None
    if isinstance(value, tuple | list) and len(value) == 2:
        count, seconds = value
    elif isinstance(value, str):
        count, _, seconds = value.strip().partition("/")
    else:
        raise BadValue(FAILURES_FORM)
    try:
        limit = int(count), int(seconds)
    except (TypeError, ValueError):
        raise BadValue(FAILURES_FORM) from None
    if limit[0] < 1 or limit[1] < 1:
        raise BadValue(FAILURES_FORM)
    return limit


@dataclass(frozen=True)
class Key:
    default: Any
    parse: Callable[[Any], Any]


SECONDS = _number(float, 0, "a number of seconds (0 or more)")
HOURS = _number(float, 0, "a number of hours (0 or more)")
POSITIVE = _number(int, 1, "a whole number, 1 or more")
COUNT = _number(int, 0, "a whole number, 0 or more")

KEYS: dict[str, Key] = {
    # May anonymous visitors use rooms marked guests_allowed.
    "GUESTS": Key(False, _bool),
    # Largest WebSocket text frame accepted, in bytes; a larger one closes the socket with 1009.
    "MAX_FRAME": Key(64 * 1024, POSITIVE),
    # Longest message body, in characters.
    "MAX_BODY": Key(4000, POSITIVE),
    # PostgreSQL's text search configuration for message search ('simple': no stemming, like FTS5).
    "SEARCH_CONFIG": Key("simple", _search_config),
    # Most messages a subscribe with `since` replays before it answers truncated=true.
    "REPLAY_LIMIT": Key(1000, POSITIVE),
    # Bytes a socket may have queued for sending before it is closed as too slow (4408).
    "SOCKET_BUFFER": Key(1024 * 1024, POSITIVE),
    # Threads that serve sockets' queries on PostgreSQL (SQLite always uses one).
    "DB_THREADS": Key(4, POSITIVE),
    # With REDIS_URL, how long a process's claim that someone is in a room lasts unrenewed.
    "PRESENCE_TTL": Key(45.0, SECONDS),
    # How long the hub waits for a missing seq before reading it from the database.
    "GAP_WAIT": Key(0.25, SECONDS),
    # How often each process checks its rooms' stored heads.
    "SWEEP_INTERVAL": Key(1.0, SECONDS),
    # Most groups a process's publisher sends to at once on a layer that cannot take a batch whole
    # (every layer but parley.realtime.redis_layer's, which write a batch as one Redis pipeline).
    "PUBLISH_CONCURRENCY": Key(32, POSITIVE),
    # Rate limits, per identity and socket (send, subscribe, history), per API caller and per
    # client address (handshakes).
    "SEND_RATE": Key("10/20", parse_rate),
    "SUBSCRIBE_RATE": Key("5/30", parse_rate),
    "HISTORY_RATE": Key("10/30", parse_rate),
    "API_RATE": Key("10/30", parse_rate),
    "HANDSHAKE_RATE": Key("10/100", parse_rate),
    # A socket refused this many times within ABUSE_WINDOW seconds is closed with 4429 (0: never).
    "ABUSE_REFUSALS": Key(50, COUNT),
    "ABUSE_WINDOW": Key(10.0, SECONDS),
    # How many reverse proxies in front append to X-Forwarded-For (0: the header is ignored).
    "TRUSTED_PROXIES": Key(0, COUNT),
    # Where background work runs: "inline" (in every server process) or "worker"
    # (`manage.py runworker parley.tasks`); None: worker with a Redis channel layer, else inline.
    "TASKS": Key(None, _choice(None, "inline", "worker")),
    "TASKS_SWEEP_INTERVAL": Key(5.0, SECONDS),
    "TASKS_CONCURRENCY": Key(20, POSITIVE),
    # Webhooks: seconds per POST, attempts before a delivery fails, back-off (first delay, cap).
    "WEBHOOK_TIMEOUT": Key(10.0, SECONDS),
    "WEBHOOK_MAX_ATTEMPTS": Key(8, POSITIVE),
    "WEBHOOK_RETRY_DELAY": Key(1.0, SECONDS),
    "WEBHOOK_RETRY_MAX_DELAY": Key(600.0, SECONDS),
    # Seconds registering a webhook waits for DNS: a name that does not answer in time is accepted
    # and checked when a delivery connects, rather than holding the request's thread.
    "WEBHOOK_LOOKUP_TIMEOUT": Key(3.0, SECONDS),
    # Seconds after an @mention before a user who is not connected gets one e-mail.
    "MENTION_EMAIL_DELAY": Key(300.0, SECONDS),
    # Where links in e-mails point, e.g. https://chat.example.com (no links when empty).
    "SITE_URL": Key("", _site_url),
    # Redis for presence shared between processes, who is online, and shared rate limits ("": none):
    # redis://host:6379/0, or redis+sentinel://s1:26379,s2:26379/master-name/0 (parley.redis_urls).
    "REDIS_URL": Key("", _text),
    # Most connections each of Parley's Redis clients opens; a command finding all in use waits
    # for one (redis-py's default pool raises "Too many connections" instead).
    "REDIS_CONNECTIONS": Key(50, POSITIVE),
    # Names Parley gives its keys in Redis start with this (several deployments can share one).
    "KEY_PREFIX": Key("parley", _text),
    # Security (README "Security"). Frames that cost next to nothing (ping, unsubscribe, typing)
    # share one limit; a socket follows at most MAX_SUBSCRIPTIONS rooms.
    "FRAME_RATE": Key("10/60", parse_rate),
    "MAX_SUBSCRIPTIONS": Key(100, POSITIVE),
    # Failed log-ins before every attempt is refused: per username from one address, per username
    # from anywhere, and per address.
    "LOGIN_FAILURES": Key("5/300", parse_failures),
    "LOGIN_USERNAME_FAILURES": Key("100/3600", parse_failures),
    "LOGIN_ADDRESS_FAILURES": Key("20/300", parse_failures),
    # Where Parley's pages link to sign up and sign out (a URL name or a path), None for no link.
    # Signing in follows the host's LOGIN_URL.
    "SIGNUP_URL": Key(None, _link),
    "LOGOUT_URL": Key(None, _link),
    # Seconds a request header may take under Parley's Uvicorn protocol (slow-loris); 0: no limit.
    "HEADER_TIMEOUT": Key(10.0, SECONDS),
    # Who may read /metrics: these addresses, and anyone with "Authorization: Bearer <METRICS_TOKEN>".
    "METRICS_ALLOWED_IPS": Key(["127.0.0.0/8", "::1/128"], _networks),
    "METRICS_TOKEN": Key("", _text),
    # Networks webhooks may reach although they are not public; the most webhooks a room may have.
    "WEBHOOK_ALLOWED_NETWORKS": Key([], _networks),
    "WEBHOOKS_PER_ROOM": Key(10, POSITIVE),
    # Origins besides this site that a notification's data.url may link to.
    "NOTIFICATION_URL_ORIGINS": Key([], _origins),
    # The path of Parley's WebSocket, as the host's ASGI router serves it (the pages' scripts connect
    # there); None: "ws/" under the prefix of Parley's pages, where parley.routing mounted beside them puts it.
    "WEBSOCKET_PATH": Key(None, _websocket_path),
    # Permissions (parley.accounts.permissions): do staff hold all of Parley's without a grant; may
    # every signed-in user create rooms ("everyone") or only holders of parley.add_room ("permitted").
    "STAFF_PERMISSIONS": Key(True, _bool),
    "ROOM_CREATION": Key("everyone", _choice("everyone", "permitted")),
    # Attachments (parley.rooms.attachments): the STORAGES alias files are kept in; the largest file
    # and the most bytes and files one message may carry; the types accepted, read from each file's
    # content (never its name); hours an upload may wait for its message before it is deleted.
    "ATTACHMENT_STORAGE": Key("default", _text),
    "ATTACHMENT_MAX_SIZE": Key(10 * 1024 * 1024, POSITIVE),
    "ATTACHMENT_MAX_MESSAGE_SIZE": Key(25 * 1024 * 1024, POSITIVE),
    "ATTACHMENT_MAX_COUNT": Key(10, POSITIVE),
    "ATTACHMENT_TYPES": Key(
        ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "application/zip"],
        _content_types,
    ),
    "ATTACHMENT_ORPHAN_HOURS": Key(24.0, HOURS),
}


def _layer_tasks_mode() -> str:
    """The default of TASKS: a worker reads the tasks channel only on a Redis layer."""
    backend = str(getattr(settings, "CHANNEL_LAYERS", {}).get("default", {}).get("BACKEND", ""))
    redis = backend.startswith(("channels_redis.", "parley.realtime.redis_layer."))
    return "worker" if redis else "inline"


class ParleySettings:
    """``settings.PARLEY`` with defaults, parsed: ``parley_settings.SEND_RATE`` is ``(10.0, 20)``."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    def user_settings(self) -> dict[str, Any]:
        value = getattr(settings, "PARLEY", None) or {}
        if not isinstance(value, dict):
            raise ImproperlyConfigured("PARLEY must be a dict, such as {'GUESTS': True}.")
        return value

    def value(self, name: str) -> Any:
        """One key, parsed; ``ImproperlyConfigured`` naming the key when its value is wrong."""
        key = KEYS[name]
        raw = self.user_settings().get(name, key.default)
        try:
            parsed = key.parse(raw)
        except BadValue as error:
            raise ImproperlyConfigured(f'PARLEY["{name}"] is {raw!r}: {error}.') from None
        if name == "TASKS" and parsed is None:
            return _layer_tasks_mode()
        return parsed

    def __getattr__(self, name: str) -> Any:
        if name not in KEYS:
            raise AttributeError(f"Parley has no setting {name!r}")
        if name not in self._cache:
            self._cache[name] = self.value(name)
        return self._cache[name]

    def errors(self) -> list[str]:
        """Every problem with ``settings.PARLEY``, one sentence each (for ``manage.py check``)."""
        try:
            given = self.user_settings()
        except ImproperlyConfigured as error:
            return [str(error)]
        problems = [_unknown_key(name) for name in given if name not in KEYS]
        for name in KEYS:
            try:
                self.value(name)
            except ImproperlyConfigured as error:
                problems.append(str(error))
        return problems

    def reload(self) -> None:
        self._cache.clear()


def _unknown_key(name: str) -> str:
    """The sentence for a key that is not a setting, naming the likeliest one meant (a misspelt
    or singular key is the usual slip: ``GUEST`` for ``GUESTS``)."""
    close = difflib.get_close_matches(str(name).upper(), KEYS, n=1, cutoff=0.6)
    if close:
        return f'PARLEY["{name}"] is not a setting of Parley; did you mean "{close[0]}"?'
    return f'PARLEY["{name}"] is not a setting of Parley: the keys are {", ".join(KEYS)}.'


parley_settings = ParleySettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting in ("PARLEY", "CHANNEL_LAYERS"):
        parley_settings.reload()


setting_changed.connect(_reload, dispatch_uid="parley.conf.reload")
