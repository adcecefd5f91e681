"""Rate limits on the public routes: a fixed window per client address and group of routes,
opened at the client's first request (spec/DESIGN.md "Pinned details"; README "Security").

Per process by default. With ``REDIS_URL`` set, every worker and process of one portal
counts in the same Redis windows (keys under a prefix named after the database, so two
portals on one Redis never mix), in one round trip per request. Should Redis stop
answering, each process counts on its own until it answers again (logged; checked again
every few seconds), so the public site never goes down with its limiter.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from litestar import Request

from portal.settings import SettingsError
from public_site.common import client_of

log = logging.getLogger("portal.limits")

LIMIT_MESSAGES = {
    "search": "查询过于频繁，请稍后再试",
    "pages": "访问过于频繁，请稍后再试",
    "badges": "徽标请求过于频繁，请稍后再试",
    "api": "请求过于频繁，请降低频率（批量查询每 100 个代码计 1 次）",
    "api_burst": "请求过于频繁，请降低频率（批量查询每 100 个代码计 1 次）",
    "feeds": "订阅源请求过于频繁，请稍后再试",
    "static": "请求过于频繁，请稍后再试",
    "receipts": "签发凭证过于频繁，请稍后再试（凭证用于留存核验结果，不必每次查询都签发）",
}
GROUPS_OF = {"api": ("api_burst", "api")}  # the API: a burst per second and a rate per minute


@dataclass(frozen=True)
class Limit:
    """``requests`` per ``window`` seconds per client, for one group of routes."""

    name: str
    requests: int
    window: float
    message: str


class TooMany(Exception):
    """Over a rate limit: answered 429 with Retry-After, never cacheable."""

    def __init__(self, retry_after: float, message: str) -> None:
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))
        self.message = message


class Limiter:
    """A fixed window per client, opened at its first request (in memory, per process)."""

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self.counts: dict[str, tuple[float, int]] = {}

    def wait(self, client: str, cost: int) -> float:
        """0 when ``cost`` more fits in the client's window; else the seconds until it
        reopens (for Retry-After)."""
        now = time.monotonic()
        started, count = self.counts.get(client, (now, 0))
        if now - started >= self.limit.window:
            return 0.0
        if count + cost > self.limit.requests:
            return max(0.0, started + self.limit.window - now)
        return 0.0

    def count(self, client: str, cost: int) -> None:
        now = time.monotonic()
        started, count = self.counts.get(client, (now, 0))
        if now - started >= self.limit.window:
            started, count = now, 0
            if len(self.counts) > 100_000:
                self.counts.clear()
        self.counts[client] = (started, count + cost)


class Limits:
    """Every group's limiter, in this process."""

    def __init__(self, limits: dict[str, tuple[int, float]]) -> None:
        self.local = {
            name: Limiter(Limit(name, count, window, LIMIT_MESSAGES[name]))
            for name, (count, window) in limits.items()
        }
        self.lock = threading.Lock()  # pages are served from threads, badges on the loop

    @property
    def shared(self) -> bool:
        return False

    def of(self, name: str) -> Limit:
        return self.local[name].limit

    def take(self, groups: tuple[str, ...], client: str, cost: int) -> TooMany | None:
        """Count ``cost`` against every group, or against none when one is full: then the
        refusal of the first full group."""
        with self.lock:
            for name in groups:
                wait = self.local[name].wait(client, cost)
                if wait:
                    return TooMany(wait, self.local[name].limit.message)
            for name in groups:
                self.local[name].count(client, cost)
        return None

    async def take_async(self, groups: tuple[str, ...], client: str, cost: int) -> TooMany | None:
        """``take`` for a caller on the event loop (public_site.fast)."""
        return self.take(groups, client, cost)


# KEYS: one window per group; ARGV: per key its cap, window (ms) and cost. All or nothing:
# returns 0 when counted, else the milliseconds until the first full window reopens. A key
# that lost its expiry (PERSIST, a restore) gets one again; one that is not a number is reset.
_TAKE = """
for i, key in ipairs(KEYS) do
  local cap, window = tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  local count = tonumber(redis.call('GET', key) or '0')
  if not count then redis.call('DEL', key); count = 0 end
  if count + cost > cap then
    local left = redis.call('PTTL', key)
    if left < 1 then redis.call('PEXPIRE', key, window); left = window end
    return {i, left}
  end
end
for i, key in ipairs(KEYS) do
  local cost = tonumber(ARGV[3 * i])
  if redis.call('INCRBY', key, cost) == cost or redis.call('PTTL', key) < 0 then
    redis.call('PEXPIRE', key, tonumber(ARGV[3 * i - 1]))
  end
end
return {0, 0}
"""
RETRY_REDIS_AFTER = 5.0  # seconds without Redis before it is tried again


class SharedLimits(Limits):
    """The same windows kept in Redis for every worker and process of the portal."""

    def __init__(
        self, limits: dict[str, tuple[int, float]], redis_url: str, database_url: str
    ) -> None:
        import redis
        import redis.asyncio

        super().__init__(limits)
        self.prefix = "portal:" + hashlib.sha256(database_url.encode()).hexdigest()[:16]
        self.redis = redis.Redis.from_url(
            redis_url, socket_timeout=0.25, socket_connect_timeout=0.5, health_check_interval=30
        )
        self.script = self.redis.register_script(_TAKE)
        # The event loop's own client: the hot routes await their round trip instead of
        # holding up every other request while Redis answers (threads use the one above).
        self.loop_redis = redis.asyncio.Redis.from_url(
            redis_url, socket_timeout=0.25, socket_connect_timeout=0.5, health_check_interval=30
        )
        self.loop_script = self.loop_redis.register_script(_TAKE)
        self.errors = (redis.RedisError, OSError)
        self.down_until = 0.0
        try:  # a wrong REDIS_URL fails at start, not at the first request
            self.redis.ping()
        except self.errors as exc:
            raise SettingsError(f"REDIS_URL: Redis does not answer there ({exc})") from exc

    @property
    def shared(self) -> bool:
        return True

    def _keys_args(
        self, groups: tuple[str, ...], client: str, cost: int
    ) -> tuple[list[str], list[int]]:
        keys = [f"{self.prefix}:{name}:{client}" for name in groups]
        args: list[int] = []
        for name in groups:
            limit = self.local[name].limit
            args += [limit.requests, max(1, round(limit.window * 1000)), cost]
        return keys, args

    def _answer(self, groups: tuple[str, ...], full: Any, left_ms: Any) -> TooMany | None:
        if full:
            limit = self.local[groups[int(full) - 1]].limit
            return TooMany(int(left_ms) / 1000, limit.message)
        return None

    def _away(self, exc: BaseException) -> None:
        self.down_until = time.monotonic() + RETRY_REDIS_AFTER
        log.warning("Redis at REDIS_URL did not answer (%s): limits per process for now", exc)

    def take(self, groups: tuple[str, ...], client: str, cost: int) -> TooMany | None:
        if time.monotonic() < self.down_until:
            return super().take(groups, client, cost)
        keys, args = self._keys_args(groups, client, cost)
        try:
            full, left_ms = self.script(keys=keys, args=args)
        except self.errors as exc:
            self._away(exc)
            return super().take(groups, client, cost)
        return self._answer(groups, full, left_ms)

    async def take_async(self, groups: tuple[str, ...], client: str, cost: int) -> TooMany | None:
        if time.monotonic() < self.down_until:
            return Limits.take(self, groups, client, cost)
        keys, args = self._keys_args(groups, client, cost)
        try:
            full, left_ms = await self.loop_script(keys=keys, args=args)
        except self.errors as exc:
            self._away(exc)
            return Limits.take(self, groups, client, cost)
        return self._answer(groups, full, left_ms)


def make_limits(
    limits: dict[str, tuple[int, float]], redis_url: str = "", database_url: str = ""
) -> Limits:
    if redis_url:
        return SharedLimits(limits, redis_url, database_url)
    return Limits(limits)


TAKEN = "limit_taken"  # scope state: (group, refusal or None) counted by public_site.fast
FAST_FAILED = "fast_path_failed"  # scope state: the fast path's read raised this


def limit(request: Request[Any, Any, Any], name: str, cost: int = 1) -> None:
    """Count a request of the group ``name`` (``cost`` units); raise TooMany when over.
    A request the fast path counted already (and handed on) is not counted again."""
    state = request.scope.get("state")
    if state and TAKEN in state:
        group, refused = state.pop(TAKEN)
        if group == name:
            if refused is not None:
                raise refused
            return
    limits: Limits = request.app.state.limiters
    refused = limits.take(GROUPS_OF.get(name, (name,)), client_of(request), cost)
    if refused is not None:
        raise refused


async def static_gate(request: Request[Any, Any, Any]) -> None:
    """The style sheets and scripts are limited too (they are cached for a day)."""
    limit(request, "static")
