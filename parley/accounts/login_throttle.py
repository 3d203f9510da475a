"""Failed log-ins limited per username and per client address, on every page that checks a password.

Django's ``authenticate()`` is the one door every password goes through (Parley's log-in page,
the admin's, ``Client.login`` in tests, any host view), so the throttle sits there, as
django-axes does, in two parts:

- ``user_login_failed`` (sent by ``authenticate()`` for every wrong password) counts the failure
  against the username and against the client's address;
- ``LoginThrottleBackend``, first in ``AUTHENTICATION_BACKENDS``, refuses every attempt, the right
  password included, while either has ``PARLEY_LOGIN_FAILURES`` (per username, default 5 in 300
  seconds) or ``PARLEY_LOGIN_ADDRESS_FAILURES`` (per address, default 20 in 300 seconds) failures
  within its window. The log-in forms (``LoginForm``, ``AdminLoginForm``) then say how long to wait
  instead of "wrong password".

A refused attempt is not counted again: the limit is exactly N failures per window, and an attacker
who keeps trying does not push the window forward for the account's owner.

The counts are ``limits``' moving windows: in this process, or in Redis when ``REDIS_URL`` is set,
so every server process shares them. While Redis does not answer, this process's own counts stand
in (logged once), as for the sockets' rate limits.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import unicodedata
from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from parley.accounts.identity import forwarded_client_address
from parley.conf import parley_settings

logger = logging.getLogger(__name__)

DEFAULT_USERNAME_FAILURES = (5, 300)
DEFAULT_ADDRESS_FAILURES = (20, 300)
THROTTLED_MESSAGE = "Too many failed log-ins for this account or address. Try again in {wait}."
# Set on a request whose log-in was refused by the throttle: the seconds to wait.
WAIT_ATTRIBUTE = "parley_login_wait"
# While Redis does not answer, this process's counts are used; Redis is tried again after this.
REDIS_RETRY_AFTER = 5.0
REDIS_TIMEOUT = 0.5


class LoginCounts:
    """Failed log-ins in moving windows: in Redis when a URL is given, else in this process."""

    def __init__(self, redis_url: str) -> None:
        self._local = MovingWindowRateLimiter(MemoryStorage())
        self._shared: MovingWindowRateLimiter | None = None
        if redis_url:
            storage: Storage = RedisStorage(
                redis_url,
                key_prefix=f"{settings.CHANNEL_LAYER_PREFIX}.login",
                wrap_exceptions=True,
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
            )
            self._shared = MovingWindowRateLimiter(storage)
        self._retry_redis_at = 0.0
        self._redis_down = False

    def _windows(self) -> MovingWindowRateLimiter:
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

    def _redis_answered(self, windows: MovingWindowRateLimiter) -> None:
        if windows is self._shared and self._redis_down:
            self._redis_down = False
            logger.warning("Redis (log-in limits) answers again", extra={"dependency": "Redis (log-in limits)"})

    def count(self, limit: tuple[int, int], kind: str, key: str) -> None:
        """Count one failure of ``key``."""
        windows = self._windows()
        try:
            windows.hit(_item(limit), kind, key)
        except (StorageError, OSError):
            self._redis_failed()
            self._local.hit(_item(limit), kind, key)
            return
        self._redis_answered(windows)

    def wait(self, limit: tuple[int, int], kind: str, key: str) -> float:
        """Seconds until ``key`` may try again; 0.0 while it has failures to spare."""
        windows = self._windows()
        item = _item(limit)
        try:
            if windows.test(item, kind, key):
                self._redis_answered(windows)
                return 0.0
            reset = windows.get_window_stats(item, kind, key).reset_time
        except (StorageError, OSError):
            self._redis_failed()
            return self.wait(limit, kind, key)
        self._redis_answered(windows)
        return max(reset - time.time(), 0.001)


def _item(limit: tuple[int, int]) -> RateLimitItemPerSecond:
    failures, seconds = limit
    return RateLimitItemPerSecond(failures, seconds)


_counts: dict[str, LoginCounts] = {}


def login_counts() -> LoginCounts:
    """This process's counts, for the configured ``REDIS_URL``."""
    url: str = getattr(settings, "REDIS_URL", "")
    counts = _counts.get(url)
    if counts is None:
        counts = _counts[url] = LoginCounts(url)
    return counts


def login_counts_forget() -> None:
    """Forget every count kept in this process (tests start from none)."""
    _counts.clear()


def configured_limits() -> dict[str, tuple[int, int] | None]:
    """The per-username and per-address limits as (failures, seconds), None where off."""
    return {
        "username": parley_settings.LOGIN_FAILURES,
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


def _keys(request: HttpRequest | None, username: str | None) -> dict[str, str]:
    keys = {}
    if username:
        keys["username"] = username_key(username)
    address = request_client_address(request)
    if address:
        keys["address"] = address
    return keys


def login_wait(*, request: HttpRequest | None, username: str | None) -> float:
    """Seconds before this username, from this client, may try a password again (0.0: now)."""
    limits = configured_limits()
    counts = login_counts()
    waits = [
        counts.wait(limit, kind, key)
        for kind, key in _keys(request, username).items()
        if (limit := limits[kind]) is not None
    ]
    return max(waits, default=0.0)


def login_failure_count(*, request: HttpRequest | None, username: str | None) -> None:
    """Count one failed log-in against the username and the client's address."""
    limits = configured_limits()
    counts = login_counts()
    for kind, key in _keys(request, username).items():
        limit = limits[kind]
        if limit is not None:
            counts.count(limit, kind, key)


def on_login_failed(sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any) -> None:
    """``user_login_failed`` receiver: count the failure, unless the throttle itself refused it."""
    if request is not None and getattr(request, WAIT_ATTRIBUTE, None) is not None:
        return
    username = credentials.get(get_user_model().USERNAME_FIELD, credentials.get("username"))
    login_failure_count(request=request, username=str(username) if username is not None else None)


class LoginThrottleBackend:
    """First in ``AUTHENTICATION_BACKENDS``: refuses a log-in while its username or address is
    throttled, before any other backend checks the password. It never signs anyone in.

    Not a ``BaseBackend``, and without ``get_user`` on purpose: Django's ``force_login`` and
    ``login`` without a backend take the first backend that has one, and a session recorded with
    this one would belong to nobody.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None, **credentials: Any) -> None:
        if username is None:
            username = credentials.get(get_user_model().USERNAME_FIELD)
        wait = login_wait(request=request, username=username)
        if wait > 0:
            if request is not None:
                setattr(request, WAIT_ATTRIBUTE, wait)
            raise PermissionDenied(throttled_message(wait))
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
