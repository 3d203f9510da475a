"""Failed log-ins limited per username and address, on every page that checks a password.

Django's ``authenticate()`` is the one door every password goes through (Parley's log-in page,
the admin's, ``Client.login`` in tests, any host view), so the throttle sits there, as
django-axes does. Three windows hold failures:

- one username from one client address: ``PARLEY_LOGIN_FAILURES`` (default 5 in 300 seconds), the
  tight one, so that failures from elsewhere do not lock the account's owner out;
- one username from anywhere: ``PARLEY_LOGIN_USERNAME_FAILURES`` (default 100 in 3600 seconds),
  against guessing from many addresses;
- one client address, whatever the usernames: ``PARLEY_LOGIN_ADDRESS_FAILURES`` (default 20 in
  300 seconds).

``LoginThrottleBackend``, first in ``AUTHENTICATION_BACKENDS``, takes a slot in each window,
atomically for all three, before any other backend checks the password; while one of them is full
it refuses the attempt, the right password included, and the log-in forms (``LoginForm``,
``AdminLoginForm``) say how long to wait. Taking the slot first is what bounds attempts sent in
parallel: the sixth of six concurrent guesses finds five slots taken even though no password has
been checked yet. A taken slot then ends one of three ways:

- a wrong password (``user_login_failed``) makes it a failure, kept for the window's length;
- a log-in (``user_logged_in``) gives it back: successes never count;
- otherwise (``authenticate()`` succeeded but nobody logged in) it lapses after ``PENDING_LEASE``.

A refused attempt takes no slot: the limit is exactly N failures per window, and an attacker who
keeps trying does not push the window forward for the account's owner.

The windows live in this process, or in Redis when ``PARLEY["REDIS_URL"]`` is set, so every server process
shares them. While Redis does not answer, this process's own windows stand in (logged once), as
for the sockets' rate limits.
"""

from __future__ import annotations

import contextvars
import hashlib
import ipaddress
import logging
import math
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

import redis
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

from parley import redis_urls
from parley.accounts.identity import forwarded_client_address
from parley.conf import parley_settings

logger = logging.getLogger(__name__)

THROTTLED_MESSAGE = "Too many failed log-ins for this account or address. Try again in {wait}."
# Set on a request whose log-in was refused by the throttle: the seconds to wait.
WAIT_ATTRIBUTE = "parley_login_wait"
# Set on a request whose attempt holds slots while its password is checked.
ATTEMPT_ATTRIBUTE = "parley_login_attempt"
# Seconds a slot is held by an attempt whose outcome nobody reported (a password check takes well
# under one second; this only frees slots of ``authenticate()`` calls not followed by ``login()``).
PENDING_LEASE = 30.0
# While Redis does not answer, this process's windows are used; Redis is tried again after this.
REDIS_RETRY_AFTER = 5.0
REDIS_TIMEOUT = 0.5


@dataclass(frozen=True)
class Window:
    """One key's window: at most ``failures`` within ``seconds``."""

    kind: str
    key: str
    failures: int
    seconds: int


@dataclass(frozen=True)
class Attempt:
    """The slots one password check holds, under ``token``, until its outcome is known."""

    token: str
    windows: tuple[Window, ...]


class LocalSlots:
    """Windows in this process: per key, each slot's token and the time it lapses."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, dict[str, float]] = {}

    def take(self, windows: tuple[Window, ...], token: str, lease: float) -> float:
        """Take a slot in every window, or in none: then the seconds until all have room."""
        now = time.time()
        with self._lock:
            wait = max((self._wait(window, now) for window in windows), default=0.0)
            if wait > 0:
                return wait
            for window in windows:
                self._slots.setdefault(_store_key(window), {})[token] = now + lease
            return 0.0

    def _wait(self, window: Window, now: float) -> float:
        key = _store_key(window)
        live = {token: ends for token, ends in self._slots.get(key, {}).items() if ends > now}
        self._slots[key] = live
        if len(live) < window.failures:
            return 0.0
        ends = sorted(live.values())
        return ends[len(ends) - window.failures] - now

    def settle(self, attempt: Attempt) -> None:
        """Keep ``attempt``'s slots as failures, each for its window's length."""
        now = time.time()
        with self._lock:
            for window in attempt.windows:
                slots = self._slots.get(_store_key(window), {})
                if attempt.token in slots:
                    slots[attempt.token] = now + window.seconds

    def give_back(self, attempt: Attempt) -> None:
        """Free ``attempt``'s slots."""
        with self._lock:
            for window in attempt.windows:
                self._slots.get(_store_key(window), {}).pop(attempt.token, None)


# Every window of one attempt at once, so that two attempts can never both take the last slot.
# KEYS: the windows; ARGV: now, token, lease, then each window's failures and seconds.
_TAKE = """
local now, token, lease = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local failures = tonumber(ARGV[2 + 2 * i])
  local count = redis.call('ZCARD', key)
  if count >= failures then
    local lapse = redis.call('ZRANGE', key, count - failures, count - failures, 'WITHSCORES')
    wait = math.max(wait, tonumber(lapse[2]) - now)
  end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + lease, token)
  redis.call('EXPIRE', key, math.ceil(math.max(lease, tonumber(ARGV[3 + 2 * i]))))
end
return '0'
"""
# KEYS: the windows; ARGV: now, token, then each window's seconds.
_SETTLE = """
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', tonumber(ARGV[1]) + tonumber(ARGV[2 + i]), ARGV[2])
  redis.call('EXPIRE', key, math.ceil(tonumber(ARGV[2 + i])))
end
"""


class SharedSlots:
    """Windows in Redis (sorted sets: each slot's token, scored with the time it lapses)."""

    def __init__(self, redis_url: str) -> None:
        client = redis_urls.sync_client(redis_url, timeout=REDIS_TIMEOUT)
        self._client = client
        self._take = client.register_script(_TAKE)
        self._settle = client.register_script(_SETTLE)
        self._prefix = f"{parley_settings.KEY_PREFIX}.login"

    def _keys(self, windows: tuple[Window, ...]) -> list[str]:
        return [f"{self._prefix}:{_store_key(window)}" for window in windows]

    def take(self, windows: tuple[Window, ...], token: str, lease: float) -> float:
        """As ``LocalSlots.take``, in one script."""
        sizes = [str(number) for window in windows for number in (window.failures, window.seconds)]
        answer = self._take(keys=self._keys(windows), args=[repr(time.time()), token, repr(lease), *sizes])
        return float(answer)

    def settle(self, attempt: Attempt) -> None:
        """As ``LocalSlots.settle``."""
        seconds = [str(window.seconds) for window in attempt.windows]
        self._settle(keys=self._keys(attempt.windows), args=[repr(time.time()), attempt.token, *seconds])

    def give_back(self, attempt: Attempt) -> None:
        """As ``LocalSlots.give_back``."""
        with self._client.pipeline() as pipe:
            for key in self._keys(attempt.windows):
                pipe.zrem(key, attempt.token)
            pipe.execute()


def _store_key(window: Window) -> str:
    return f"{window.kind}:{window.key}"


class LoginCounts:
    """Log-in windows: in Redis when a URL is given, else (and while Redis is down) in this process."""

    def __init__(self, redis_url: str) -> None:
        self._local = LocalSlots()
        self._shared = SharedSlots(redis_url) if redis_url else None
        self._retry_redis_at = 0.0
        self._redis_down = False

    def _slots(self) -> LocalSlots | SharedSlots:
        if self._shared is None or time.monotonic() < self._retry_redis_at:
            return self._local
        return self._shared

    def _redis_failed(self) -> None:
        self._retry_redis_at = time.monotonic() + REDIS_RETRY_AFTER
        if not self._redis_down:
            self._redis_down = True
            logger.error(
                "Redis (log-in limits) is unreachable: each process counts failed log-ins on its own until it is back",
                exc_info=True,
                extra={"dependency": "Redis (log-in limits)"},
            )

    def _redis_answered(self, slots: LocalSlots | SharedSlots) -> None:
        if slots is self._shared and self._redis_down:
            self._redis_down = False
            logger.warning("Redis (log-in limits) answers again", extra={"dependency": "Redis (log-in limits)"})

    def take(self, windows: tuple[Window, ...], token: str, lease: float = PENDING_LEASE) -> float:
        """Take a slot under ``token`` in every window (0.0), or in none: the seconds to wait."""
        slots = self._slots()
        try:
            wait = slots.take(windows, token, lease)
        except (redis.RedisError, OSError):
            self._redis_failed()
            return self._local.take(windows, token, lease)
        self._redis_answered(slots)
        return wait

    def settle(self, attempt: Attempt) -> None:
        """The attempt failed: its slots are failures now, for each window's length."""
        self._finish(attempt, give_back=False)

    def give_back(self, attempt: Attempt) -> None:
        """The attempt succeeded: its slots are free again."""
        self._finish(attempt, give_back=True)

    def _finish(self, attempt: Attempt, *, give_back: bool) -> None:
        # Whichever store took the slots: the local one also holds what was taken while Redis was down.
        for slots in (self._shared, self._local):
            if slots is None or (slots is self._shared and time.monotonic() < self._retry_redis_at):
                continue
            try:
                if give_back:
                    slots.give_back(attempt)
                else:
                    slots.settle(attempt)
            except (redis.RedisError, OSError):
                self._redis_failed()

    def count(self, windows: tuple[Window, ...]) -> None:
        """Count one failure in every window that has room (an attempt no backend took slots for)."""
        attempt = Attempt(secrets.token_hex(8), windows)
        if self.take(windows, attempt.token) == 0.0:
            self.settle(attempt)

    def wait(self, windows: tuple[Window, ...]) -> float:
        """Seconds until every window has room again; 0.0 while they do (the slot it takes lapses at once)."""
        return self.take(windows, secrets.token_hex(8), lease=0.0)


_counts: dict[str, LoginCounts] = {}


def login_counts() -> LoginCounts:
    """This process's counts, for the configured ``PARLEY["REDIS_URL"]``."""
    url: str = parley_settings.REDIS_URL
    counts = _counts.get(url)
    if counts is None:
        counts = _counts[url] = LoginCounts(url)
    return counts


def login_counts_forget() -> None:
    """Forget every count kept in this process (tests start from none)."""
    _counts.clear()


def configured_limits() -> dict[str, tuple[int, int] | None]:
    """The limits as (failures, seconds), None where off: per username from one address ("pair"),
    per username from anywhere, per address."""
    return {
        "pair": parley_settings.LOGIN_FAILURES,
        "username": parley_settings.LOGIN_USERNAME_FAILURES,
        "address": parley_settings.LOGIN_ADDRESS_FAILURES,
    }


def username_key(username: str) -> str:
    """One key per account whatever the case or Unicode form it is typed in, hashed: the limit
    store never holds what people typed (a password typed into the username box, say)."""
    folded = unicodedata.normalize("NFKC", username).casefold()
    return hashlib.sha256(folded.encode()).hexdigest()


def request_client_address(request: HttpRequest | None) -> str | None:
    """The client's address, read as for WebSocket handshakes (``PARLEY_TRUSTED_PROXIES``)."""
    if request is None:
        return None
    return forwarded_client_address(
        forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR"), peer=request.META.get("REMOTE_ADDR") or None
    )


def throttled_message(wait: float) -> str:
    """What a refused log-in says: the wait in whole seconds, rounded up."""
    seconds = max(math.ceil(wait), 1)
    return THROTTLED_MESSAGE.format(wait=f"{seconds} second" if seconds == 1 else f"{seconds} seconds")


def login_windows(*, request: HttpRequest | None, username: str | None) -> tuple[Window, ...]:
    """The windows one attempt counts in: the username from this address (from nowhere when the
    request is unknown), the username from anywhere, and the address."""
    keys = {}
    address = request_client_address(request)
    if username:
        name = username_key(username)
        keys["pair"] = hashlib.sha256(f"{name} {address or ''}".encode()).hexdigest()
        keys["username"] = name
    if address:
        keys["address"] = address
    limits = configured_limits()
    return tuple(Window(kind, key, *limit) for kind, key in keys.items() if (limit := limits[kind]) is not None)


# The attempt whose password is being checked in this context, for ``authenticate()`` without a request.
_attempt: contextvars.ContextVar[Attempt | None] = contextvars.ContextVar("parley_login_attempt", default=None)


def _attempt_take(request: HttpRequest | None) -> Attempt | None:
    attempt = getattr(request, ATTEMPT_ATTRIBUTE, None) if request is not None else None
    attempt = attempt or _attempt.get()
    _attempt.set(None)
    if request is not None:
        setattr(request, ATTEMPT_ATTRIBUTE, None)
    return attempt


_proxy_warned = False


def _warn_unread_proxy(request: HttpRequest | None) -> None:
    """Once per process: a failure counted against a loopback peer that came through a proxy while
    ``PARLEY_TRUSTED_PROXIES`` is 0 means every client shares one address, and one limit."""
    global _proxy_warned
    proxies: int = parley_settings.TRUSTED_PROXIES
    if _proxy_warned or proxies > 0 or request is None or not request.META.get("HTTP_X_FORWARDED_FOR"):
        return
    peer = request.META.get("REMOTE_ADDR") or ""
    try:
        loopback = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return
    if loopback:
        _proxy_warned = True
        logger.warning(
            "A failed log-in was counted against %s, a proxy on this machine (the request has X-Forwarded-For): "
            "every client seems to come from it and shares its limit (PARLEY_LOGIN_ADDRESS_FAILURES). "
            "Set PARLEY_TRUSTED_PROXIES=1 behind one proxy such as deploy/nginx.conf (the number of proxies in front).",
            peer,
        )


def on_login_failed(sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any) -> None:
    """``user_login_failed`` receiver: the attempt's slots become failures, unless the throttle refused it."""
    if request is not None and getattr(request, WAIT_ATTRIBUTE, None) is not None:
        return
    _warn_unread_proxy(request)
    attempt = _attempt_take(request)
    if attempt is not None:
        login_counts().settle(attempt)
        return
    username = credentials.get(get_user_model().USERNAME_FIELD, credentials.get("username"))
    windows = login_windows(request=request, username=str(username) if username is not None else None)
    login_counts().count(windows)


def on_logged_in(sender: object, request: HttpRequest | None = None, **_: Any) -> None:
    """``user_logged_in`` receiver: a successful log-in gives its slots back (it is no failure)."""
    attempt = _attempt_take(request)
    if attempt is not None:
        login_counts().give_back(attempt)


class LoginThrottleBackend:
    """First in ``AUTHENTICATION_BACKENDS``: takes the attempt's slots before any other backend
    checks the password, and refuses it while a window is full. It never signs anyone in.

    Not a ``BaseBackend``, and without ``get_user`` on purpose: Django's ``force_login`` and
    ``login`` without a backend take the first backend that has one, and a session recorded with
    this one would belong to nobody.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None, **credentials: Any) -> None:
        if username is None:
            username = credentials.get(get_user_model().USERNAME_FIELD)
        attempt = Attempt(secrets.token_hex(8), login_windows(request=request, username=username))
        wait = login_counts().take(attempt.windows, attempt.token) if attempt.windows else 0.0
        if wait > 0:
            if request is not None:
                setattr(request, WAIT_ATTRIBUTE, wait)
            raise PermissionDenied(throttled_message(wait))
        _attempt.set(attempt)
        if request is not None:
            setattr(request, ATTEMPT_ATTRIBUTE, attempt)
        return None


def throttled_error(request: HttpRequest | None) -> ValidationError | None:
    """The form error for a log-in the throttle refused, saying how long to wait; None otherwise."""
    wait = getattr(request, WAIT_ATTRIBUTE, None) if request is not None else None
    if wait is None:
        return None
    return ValidationError(throttled_message(wait), code="throttled")


class LoginForm(AuthenticationForm):
    """Django's log-in form, saying how long to wait when the throttle refused the attempt."""

    def get_invalid_login_error(self) -> ValidationError:
        return throttled_error(self.request) or super().get_invalid_login_error()


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's log-in form, likewise (``admin.site.login_form``)."""

    def get_invalid_login_error(self) -> ValidationError:
        return throttled_error(self.request) or super().get_invalid_login_error()
