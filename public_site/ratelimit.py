"""A small per-client rate limit for search and the API: a fixed-window counter in memory.

Cheap enough for the hottest routes (a dict look-up per request); limits are per process,
which with a few workers is a few times the configured rate — still far from a scrape.
"""

from __future__ import annotations

import time
from typing import Any


class Limiter:
    def __init__(self, limit: int, window: float, message: str = "") -> None:
        self.limit, self.window, self.message = limit, window, message
        self.counts: dict[str, tuple[float, int]] = {}  # client → (window start, count)

    def allow(self, client: str) -> bool:
        """A window opens at a client's first request and lasts ``window`` seconds."""
        now = time.monotonic()
        started, count = self.counts.get(client, (now, 0))
        if now - started >= self.window:
            started, count = now, 0
            if len(self.counts) > 100_000:
                self.counts.clear()
        if count >= self.limit:
            return False
        self.counts[client] = (started, count + 1)
        return True


def throttled(state: Any, client: str, name: str, limit: int, window: float) -> bool:
    """True when ``client`` is over the limit (one limiter per app, kept in its state).

    Called inside the handler: a Litestar guard costs more than the check itself."""
    limiter: Limiter | None = state.get(name)
    if limiter is None:
        limiter = state[name] = Limiter(limit, window, "")
    return not limiter.allow(client)
