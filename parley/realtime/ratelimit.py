"""Rate limits: every client frame per identity and per socket (sends, subscribes, history and
the cheap rest), API calls per caller, handshakes per client address.

Every limit is a token bucket of a rate and a burst: ``PARLEY_SEND_RATE="10/20"`` lets an identity
send 20 frames at once and 10 a second on average after that; ``"0"`` turns a limit off. Over the
limit, a frame is refused (nothing is carried out, nothing stored) with a ``rate_limited`` error that
says after how many seconds a retry can succeed; a socket refused ``PARLEY_ABUSE_REFUSALS`` times
within ``PARLEY_ABUSE_WINDOW`` seconds is closed with 4429.

Where the buckets live:

- A socket's own buckets are attributes of its ``SocketLimits``: checking one is a little
  arithmetic, with no storage and no await, and a socket flooding frames is refused before its
  identity's shared bucket (in Redis, maybe) is ever asked.
- An identity's buckets (shared by all its sockets), an API caller's and a client address's live in
  this process; with ``REDIS_URL`` set they live in Redis, so the limits hold across processes.

In Redis the buckets are the ``limits`` package's moving windows: ``burst`` hits in any
``ceil(burst / rate)`` seconds. That never admits more than the token bucket would (in any span of
t seconds, at most burst + rate * t), and a client that keeps to the rate is never refused; where
it differs, it is stricter: once the burst is spent, room comes back when the oldest hits leave the
window (``retry_after`` says when) rather than one token every 1/rate seconds. The long-run rate is
``burst / ceil(burst / rate)``, exactly the rate when ``burst / rate`` is whole (the defaults are).

In this process the buckets are written out here rather than taken from ``limits``, because its
in-memory storages were measured too slow for the socket path: a check costs 3 to 5 µs, but their
background expiry (a pass over every key, with a thread hop per key in the asyncio storage, a
timer thread every 10 ms in the other) took 70 to 95 % (asyncio) and 7 to 20 % (threaded) of a core
at 1,000 checks a second over 100 to 10,000 keys. These buckets cost about a microsecond and are
forgotten once full again, which is the same as never having been used.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import weakref
from collections import deque
from dataclasses import dataclass
from typing import Literal

from limits import RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from parley import redis_urls
from parley.accounts.identity import Identity
from parley.conf import parley_settings
from parley.monitoring.outages import Outage
from parley.wire import errors

logger = logging.getLogger(__name__)

Kind = Literal["send", "subscribe", "history", "frame", "api", "handshake"]
RATE_SETTINGS: dict[Kind, str] = {
    "send": "SEND_RATE",
    "subscribe": "SUBSCRIBE_RATE",
    "history": "HISTORY_RATE",
    "frame": "FRAME_RATE",
    "api": "API_RATE",
    "handshake": "HANDSHAKE_RATE",
}
# The limit each protocol v1 frame counts against: every frame has one, so none can be sent
# without bound (tests check that every client frame type is here).
FRAME_KINDS: dict[str, Kind] = {"send": "send", "subscribe": "subscribe", "history": "history"}
# Edits, deletes and reactions write and fan out like a message does, so they share its limit.
FRAME_KINDS.update(edit="send", delete="send", react="send")
# A read is a small write plus a frame to the user's own sockets; clients send at most one a second,
# so the history limit (10 a second) leaves them room and still stops a flood. Marking notifications
# read is the same kind of write, and asking for missed notifications a replay like history's.
FRAME_KINDS.update(read="history", notification_read="history", notifications="history")
# Cheap frames (no database, at most a frame to the room) share one generous limit of their own,
# so that flooding them costs the flooder and not the server; typing is also thinned per room.
FRAME_KINDS.update(ping="frame", unsubscribe="frame", typing="frame")

# While Redis does not answer, checks use this process's buckets; Redis is tried again after this.
REDIS_RETRY_AFTER = 5.0
# redis-py waits this long for Redis before a check falls back to this process's buckets.
REDIS_TIMEOUT = 0.5
REDIS = Outage("Redis (rate limits)", "each process keeps its own rate limits until it is back")


@dataclass(frozen=True, slots=True)
class Rate:
    """A token bucket's refill rate (per second) and size (the burst)."""

    per_second: float
    burst: int

    @property
    def window(self) -> int:
        """The moving window, in whole seconds, that stands for this bucket in Redis."""
        return max(1, math.ceil(self.burst / self.per_second))


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Whether a call may go ahead; if not, after how many seconds a retry can succeed."""

    allowed: bool
    retry_after: float = 0.0


ALLOWED = RateDecision(allowed=True)


def configured_rates() -> dict[Kind, Rate | None]:
    """Each limit as the settings give it (``parley.conf``); None where it is off."""
    rates: dict[Kind, Rate | None] = {}
    for kind, name in RATE_SETTINGS.items():
        value: tuple[float, int] | None = getattr(parley_settings, name)
        rates[kind] = None if value is None else Rate(per_second=float(value[0]), burst=int(value[1]))
    return rates


def refused(wait: float) -> RateDecision:
    """A refusal whose ``retry_after`` is ``wait`` rounded up to the millisecond."""
    return RateDecision(allowed=False, retry_after=max(math.ceil(wait * 1000) / 1000, 0.001))


class TokenBucket:
    """A token bucket kept in this process: ``burst`` tokens, refilled at ``per_second``."""

    __slots__ = ("stamp", "tokens")

    def __init__(self, rate: Rate, now: float) -> None:
        self.tokens = float(rate.burst)
        self.stamp = now

    def take(self, rate: Rate, now: float) -> float:
        """Take a token: 0.0 if there was one, otherwise the seconds until there will be."""
        self.tokens = min(float(rate.burst), self.tokens + (now - self.stamp) * rate.per_second)
        self.stamp = now
        # A client that waited exactly the time it was told must not miss by a rounding error.
        if self.tokens >= 1.0 - 1e-9:
            self.tokens = max(self.tokens - 1.0, 0.0)
            return 0.0
        return (1.0 - self.tokens) / rate.per_second

    def give_back(self, rate: Rate) -> None:
        """Return a token taken for a call that was refused elsewhere."""
        self.tokens = min(float(rate.burst), self.tokens + 1.0)

    def full(self, rate: Rate, now: float) -> bool:
        return self.tokens + (now - self.stamp) * rate.per_second >= rate.burst


class LocalBuckets:
    """Buckets by key in this process. A full bucket is the same as none, so full ones are dropped
    whenever the table has doubled since it was last pruned: memory follows the active keys."""

    PRUNE_FLOOR = 1024

    def __init__(self) -> None:
        self._buckets: dict[tuple[Kind, str], TokenBucket] = {}
        self._rates: dict[Kind, Rate] = {}
        self._prune_at = self.PRUNE_FLOOR

    def hit(self, kind: Kind, rate: Rate, key: str) -> RateDecision:
        now = time.monotonic()
        bucket = self._buckets.get((kind, key))
        if bucket is None:
            bucket = self._buckets[(kind, key)] = TokenBucket(rate, now)
            self._rates[kind] = rate
            if len(self._buckets) > self._prune_at:
                self._prune(now)
        wait = bucket.take(rate, now)
        return ALLOWED if wait == 0.0 else refused(wait)

    def _prune(self, now: float) -> None:
        for (kind, key), bucket in list(self._buckets.items()):
            if bucket.full(self._rates[kind], now):
                del self._buckets[(kind, key)]
        self._prune_at = max(self.PRUNE_FLOOR, 2 * len(self._buckets))


class RedisBuckets:
    """Buckets shared by every process through Redis: ``limits``' moving windows (see the module
    docstring for how they stand for token buckets). While Redis does not answer, this process's
    own buckets stand in, and the outage is logged once."""

    def __init__(self, url: str) -> None:
        storage = RedisStorage(
            "async+redis://",  # the pool below says where; a sentinel URL included
            implementation="redispy",
            key_prefix=f"{parley_settings.KEY_PREFIX}.limits",
            wrap_exceptions=True,
            connection_pool=redis_urls.async_pool(url, timeout=REDIS_TIMEOUT),  # type: ignore[arg-type]
        )
        self._windows = MovingWindowRateLimiter(storage)
        self._fallback = LocalBuckets()
        self._retry_redis_at = 0.0

    async def hit(self, kind: Kind, rate: Rate, key: str) -> RateDecision:
        if time.monotonic() < self._retry_redis_at:
            return self._fallback.hit(kind, rate, key)
        item = RateLimitItemPerSecond(rate.burst, rate.window)
        try:
            if await self._windows.hit(item, kind, key):
                REDIS.recovered()
                return ALLOWED
            stats = await self._windows.get_window_stats(item, kind, key)
        except (StorageError, OSError):
            REDIS.failed()
            self._retry_redis_at = time.monotonic() + REDIS_RETRY_AFTER
            return self._fallback.hit(kind, rate, key)
        REDIS.recovered()
        return refused(stats.reset_time - time.time())


class Limiter:
    """This process's shared buckets (identities, API callers, client addresses) and the limits
    as configured when it was made."""

    def __init__(self) -> None:
        self.rates = configured_rates()
        self._store: LocalBuckets | RedisBuckets = (
            RedisBuckets(parley_settings.REDIS_URL) if parley_settings.REDIS_URL else LocalBuckets()
        )

    async def hit(self, kind: Kind, key: str) -> RateDecision:
        """Count a call of ``kind`` by ``key`` against its shared bucket."""
        rate = self.rates[kind]
        if rate is None:
            return ALLOWED
        if isinstance(self._store, LocalBuckets):
            return self._store.hit(kind, rate, key)
        return await self._store.hit(kind, rate, key)


_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Limiter] = weakref.WeakKeyDictionary()


def get_limiter() -> Limiter:
    """This process's limiter (one per event loop, as Redis clients belong to one loop)."""
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = Limiter()
    return limiter


def identity_key(identity: Identity) -> str:
    """The key of an identity's shared buckets: a user (whatever token or session they use) or a guest."""
    return identity.key


async def api_call_allowed(key: str) -> RateDecision:
    """Count one HTTP API call by ``key`` against ``PARLEY_API_RATE``, shared by all processes when
    REDIS_URL is set.

    ``key`` names the caller: ``identity_key(identity)`` for a signed-in caller or a guest, the client
    address for anonymous ones. When ``allowed`` is false nothing should be carried out: answer 429
    with the code ``rate_limited``, a sentence, and ``Retry-After`` from ``retry_after`` (seconds,
    rounded up for the header). From a sync view: ``async_to_sync(api_call_allowed)(key)``.
    """
    return await get_limiter().hit("api", key)


async def handshake_allowed(address: str) -> RateDecision:
    """Count one WebSocket handshake from a client address against ``PARLEY_HANDSHAKE_RATE``."""
    return await get_limiter().hit("handshake", address)


class RateLimited(errors.ParleyError):
    """A frame refused by a rate limit; its ``error`` frame carries ``retry_after``."""

    def __init__(self, decision: RateDecision, detail: str | None = None, ref: str | int | None = None) -> None:
        wait = f"{decision.retry_after:.3g}"
        detail = detail or f"Too many requests; nothing was done. Retry in {wait} s."
        super().__init__("rate_limited", detail, ref=ref, retry_after=decision.retry_after)


class SocketLimits:
    """One socket's limits: its own buckets, its identity's shared ones, and its recent refusals.

    Every socket has one, most never use it: buckets and the refusal log are made on first use
    (an empty deque of 50 alone is half a kilobyte, of an idle socket's thirty).
    """

    __slots__ = ("_abuse_refusals", "_abuse_window", "_identity_key", "_limiter", "_own", "_refusals")

    def __init__(self, identity: Identity) -> None:
        self._limiter = get_limiter()
        self._identity_key = identity_key(identity)
        self._own: dict[Kind, TokenBucket] | None = None
        self._abuse_refusals: int = parley_settings.ABUSE_REFUSALS
        self._abuse_window: float = parley_settings.ABUSE_WINDOW
        self._refusals: deque[float] | None = None

    async def check(self, kind: Kind) -> RateDecision:
        """Count a frame of ``kind``: against this socket's bucket first, then its identity's."""
        rate = self._limiter.rates[kind]
        if rate is None:
            return ALLOWED
        now = time.monotonic()
        if self._own is None:
            self._own = {}
        bucket = self._own.get(kind)
        if bucket is None:
            bucket = self._own[kind] = TokenBucket(rate, now)
        wait = bucket.take(rate, now)
        if wait:
            return self._refused(refused(wait), now)
        decision = await self._limiter.hit(kind, self._identity_key)
        if decision.allowed:
            return decision
        # The identity's bucket refused: the frame was not carried out, so this socket did not use it.
        bucket.give_back(rate)
        return self._refused(decision, now)

    def _refused(self, decision: RateDecision, now: float) -> RateDecision:
        if self._refusals is None:
            self._refusals = deque(maxlen=max(self._abuse_refusals, 1))
        self._refusals.append(now)
        return decision

    @property
    def abusive(self) -> bool:
        """Whether ``PARLEY_ABUSE_REFUSALS`` refusals fell within ``PARLEY_ABUSE_WINDOW`` seconds."""
        refusals = self._refusals
        if self._abuse_refusals <= 0 or refusals is None or len(refusals) < self._abuse_refusals:
            return False
        return refusals[-1] - refusals[0] <= self._abuse_window
