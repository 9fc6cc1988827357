"""Counting calls at the push API's door: failed logins (per username and per address), each
credential's request budget and the nonces of signed requests, in process or shared through Redis.

**Failed logins.** A key that failed ``limit`` times within ``window`` seconds is refused until
its oldest failure in the window is ``window`` old; the answer is a 429 with ``Retry-After``.

**Request budgets.** A credential's grant may cap its calls per second and per 15 minutes (as
CIMcloud's apps get 2/s and 100/15 min); each answer carries ``X-RateLimit-Limit``,
``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (seconds), and a call over either cap is 429
with ``Retry-After``. The windows are fixed (they start on whole multiples of their length).

**Nonces.** A signed request's nonce is good once per credential for ``2 * TOLERANCE``
seconds (:mod:`channelhub.credentials.signing`); shared, it is one ``SET NX EX`` in Redis, so a
request replayed to another api-server process is refused too.

**Where the counts live.** With ``CHANNELHUB_REDIS_URL`` set (the compose stack points it at
its Celery Redis) every api-server process counts in the same Redis, so N processes give an
attacker no more tries than one; otherwise each process counts alone, in bounded memory
(10,000 keys). A Redis that stops answering does not stop partners: the
process counts alone until it answers again, and says so in its log.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from channelhub.credentials.signing import TOLERANCE, NonceCache

log = logging.getLogger(__name__)
REDIS_URL_ENV = "CHANNELHUB_REDIS_URL"
PREFIX = "channelhub:inbound:"


class FailureThrottle:
    """Failed logins per key, in this process."""

    def __init__(self, limit: int, window: float, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def retry_after(self, key: str) -> int | None:
        """Whole seconds until ``key`` may try again, or None when it may now."""
        with self._lock:
            now = self.clock()
            times = self._recent(key, now)
            if len(times) < self.limit:
                return None
            return max(1, math.ceil(times[-self.limit] + self.window - now))

    def failed(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            times = self._recent(key, now)
            times.append(now)
            while len(times) > self.limit:
                times.popleft()
            self._failures[key] = times
            self._failures.move_to_end(key)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class RedisFailureThrottle:
    """Failed logins per key in a Redis sorted set (scores: failure times), shared by every process."""

    def __init__(self, client: Any, name: str, limit: int, window: float, fallback: FailureThrottle):
        self.client, self.name, self.limit, self.window, self.fallback = client, name, limit, window, fallback

    def _key(self, key: str) -> str:
        return f"{PREFIX}fail:{self.name}:{key}"

    def retry_after(self, key: str) -> int | None:
        now = time.time()
        try:
            pipe = self.client.pipeline()
            pipe.zremrangebyscore(self._key(key), "-inf", now - self.window)
            pipe.zrange(self._key(key), -self.limit, -self.limit, withscores=True)
            pipe.zcard(self._key(key))
            _, oldest, count = pipe.execute()
        except Exception as exc:  # Redis is down: count in this process until it answers
            return _fallen_back(exc, lambda: self.fallback.retry_after(key))
        if count < self.limit or not oldest:
            return None
        return max(1, math.ceil(oldest[0][1] + self.window - now))

    def failed(self, key: str) -> None:
        now = time.time()
        try:
            pipe = self.client.pipeline()
            pipe.zadd(self._key(key), {f"{now:.6f}:{os.getpid()}:{threading.get_ident()}": now})
            pipe.zremrangebyrank(self._key(key), 0, -self.limit - 1)
            pipe.expire(self._key(key), math.ceil(self.window))
            pipe.execute()
        except Exception as exc:
            _fallen_back(exc, lambda: self.fallback.failed(key))

    def succeeded(self, key: str) -> None:
        try:
            self.client.delete(self._key(key))
        except Exception as exc:
            _fallen_back(exc, lambda: self.fallback.succeeded(key))


@dataclass(frozen=True)
class Spent:
    """One call counted against a budget: whether it may go on, and the answer's headers."""

    allowed: bool
    headers: dict[str, str]


def _spent(counts: list[tuple[int, int, int]]) -> Spent:
    """From (count after this call, limit, seconds until the window resets) per window."""
    over = [(reset, limit) for count, limit, reset in counts if count > limit]
    count, limit, reset = min(counts, key=lambda c: c[1] - c[0])  # the window nearest its cap
    headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(max(0, limit - count)),
               "X-RateLimit-Reset": str(reset)}
    if over:
        headers["Retry-After"] = str(max(reset for reset, _ in over))
    return Spent(not over, headers)


class RequestBudget:
    """Calls per credential in fixed windows, in this process (bounded memory)."""

    def __init__(self, max_keys: int = 10_000, clock: Callable[[], float] = time.time):
        self.max_keys, self.clock = max_keys, clock
        self._counts: OrderedDict[tuple[str, int, int], int] = OrderedDict()
        self._lock = threading.Lock()

    def spend(self, key: str, caps: list[tuple[int, int]]) -> Spent | None:
        """Counts one call of ``key`` against each (calls, seconds) cap; None when it has none."""
        if not caps:
            return None
        now = self.clock()
        counts = []
        with self._lock:
            for limit, seconds in caps:
                slot = (key, seconds, int(now // seconds))
                self._counts[slot] = self._counts.get(slot, 0) + 1
                self._counts.move_to_end(slot)
                counts.append((self._counts[slot], limit, max(1, math.ceil((slot[2] + 1) * seconds - now))))
            while len(self._counts) > self.max_keys:
                self._counts.popitem(last=False)
        return _spent(counts)


class RedisRequestBudget:
    """Calls per credential in fixed windows, counted in Redis by every process."""

    def __init__(self, client: Any, fallback: RequestBudget):
        self.client, self.fallback = client, fallback

    def spend(self, key: str, caps: list[tuple[int, int]]) -> Spent | None:
        if not caps:
            return None
        now = time.time()
        try:
            pipe = self.client.pipeline()
            slots = []
            for limit, seconds in caps:
                slot = int(now // seconds)
                name = f"{PREFIX}budget:{key}:{seconds}:{slot}"
                pipe.incr(name)
                pipe.expire(name, seconds + 1)
                slots.append((limit, max(1, math.ceil((slot + 1) * seconds - now))))
            answers = pipe.execute()
        except Exception as exc:
            return _fallen_back(exc, lambda: self.fallback.spend(key, caps))
        return _spent([(answers[2 * i], limit, reset) for i, (limit, reset) in enumerate(slots)])


class RedisNonceCache:
    """Nonces seen in the last ``2 * TOLERANCE`` seconds per credential, in Redis for every process."""

    def __init__(self, client: Any, fallback: NonceCache):
        self.client, self.fallback = client, fallback

    def first_use(self, username: str, nonce: str) -> bool:
        """True (and remembered) when the nonce is new for the credential; False for a replay."""
        try:
            return bool(self.client.set(f"{PREFIX}nonce:{username}:{nonce}", 1, nx=True, ex=2 * TOLERANCE))
        except Exception as exc:
            return _fallen_back(exc, lambda: self.fallback.first_use(username, nonce))


_warned = threading.Event()


def _fallen_back(exc: Exception, local: Callable[[], Any]) -> Any:
    if not _warned.is_set():
        _warned.set()
        log.error("The push API's shared throttles cannot reach Redis (%s); counting in this process until it "
                  "answers", exc)
    return local()


def redis_url() -> str | None:
    """``CHANNELHUB_REDIS_URL``; None: count in this process."""
    return os.environ.get(REDIS_URL_ENV) or None


@dataclass
class Throttles:
    per_username: FailureThrottle | RedisFailureThrottle
    per_address: FailureThrottle | RedisFailureThrottle
    budget: RequestBudget | RedisRequestBudget
    nonces: NonceCache | RedisNonceCache
    shared: bool


def throttles(url: str | None = None) -> Throttles:
    """The door's counters: in Redis at ``url`` (default :func:`redis_url`) when there is one."""
    local = Throttles(FailureThrottle(limit=10, window=300), FailureThrottle(limit=30, window=300), RequestBudget(),
                      NonceCache(), False)
    url = url or redis_url()
    if url is None:
        return local
    import redis

    client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return Throttles(RedisFailureThrottle(client, "username", 10, 300, local.per_username),  # type: ignore[arg-type]
                     RedisFailureThrottle(client, "address", 30, 300, local.per_address),  # type: ignore[arg-type]
                     RedisRequestBudget(client, local.budget), RedisNonceCache(client, local.nonces),  # type: ignore[arg-type]
                     True)
