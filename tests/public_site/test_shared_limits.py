"""Rate limits shared by every worker and process when ``REDIS_URL`` is set (README
"Security"): tested against the real Redis this machine kind runs, and with real
``portal serve`` processes; without Redis each process counts alone."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.settings import Settings, SettingsError
from public_site.limits import Limits, SharedLimits, make_limits
from tests.portal.conftest import SECRET

PORTAL = Path(sys.executable).with_name("portal")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
LIMITS = {"badges": (10, 60.0), "api": (50, 60.0), "api_burst": (3, 1.0)}


def _redis_answers() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


needs_redis = pytest.mark.skipif(not _redis_answers(), reason=f"no Redis at {REDIS_URL}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_per_process_limits_count_all_groups_or_none() -> None:
    limits = make_limits(LIMITS)
    assert type(limits) is Limits and not limits.shared
    for _ in range(3):
        assert limits.take(("api_burst", "api"), "10.0.0.1", 1) is None
    refused = limits.take(("api_burst", "api"), "10.0.0.1", 1)
    assert refused is not None and refused.retry_after == 1
    # the refused request counted against neither window
    assert limits.local["api"].counts["10.0.0.1"][1] == 3
    assert limits.take(("api_burst", "api"), "10.0.0.2", 1) is None  # another client


def test_a_redis_url_of_another_kind_is_refused_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="REDIS_URL"):
        Settings.from_env({"PORTAL_SECRET": SECRET, "REDIS_URL": "http://127.0.0.1:6379"})
    port = _free_port()  # nothing listens there
    with pytest.raises(SettingsError, match="REDIS_URL: Redis does not answer"):
        make_limits(LIMITS, f"redis://127.0.0.1:{port}/0", "sqlite:///x.db")


@needs_redis
def test_two_processes_share_one_window_and_two_portals_never_mix(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'a.db'}"
    one = make_limits(LIMITS, REDIS_URL, database)
    two = make_limits(LIMITS, REDIS_URL, database)  # as a second worker makes its own
    other = make_limits(LIMITS, REDIS_URL, f"sqlite:///{tmp_path / 'b.db'}")
    assert isinstance(one, SharedLimits) and one.shared
    allowed = [(one if i % 2 else two).take(("badges",), "10.0.0.1", 1) is None for i in range(14)]
    assert allowed.count(True) == 10 and allowed[10:] == [False] * 4
    refused = one.take(("badges",), "10.0.0.1", 1)
    assert refused is not None and 55 <= refused.retry_after <= 60  # the shared window's end
    assert other.take(("badges",), "10.0.0.1", 1) is None  # another portal's own windows
    assert one.take(("badges",), "10.0.0.9", 1) is None  # another client
    # a batch costs its weight in every API window, or nothing when one is full
    assert one.take(("api_burst", "api"), "10.0.0.1", 3) is None
    assert two.take(("api_burst", "api"), "10.0.0.1", 1) is not None
    assert int(one.redis.get(f"{one.prefix}:api:10.0.0.1") or 0) == 3


@needs_redis
async def test_the_event_loop_awaits_the_same_windows(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'a.db'}"
    loop = make_limits(LIMITS, REDIS_URL, database)
    thread = make_limits(LIMITS, REDIS_URL, database)
    allowed = [await loop.take_async(("badges",), "10.0.0.1", 1) is None for _ in range(6)]
    allowed += [thread.take(("badges",), "10.0.0.1", 1) is None for _ in range(6)]
    assert allowed.count(True) == 10 and allowed[-2:] == [False, False]


@needs_redis
def test_a_window_that_lost_its_expiry_gets_one_again(tmp_path: Path) -> None:
    """A key left without a TTL (PERSIST, a restore) must not shut a client out for good;
    one that is not a number is reset, not an error for everyone."""
    limits = make_limits(LIMITS, REDIS_URL, f"sqlite:///{tmp_path / 'a.db'}")
    assert isinstance(limits, SharedLimits)
    key = f"{limits.prefix}:badges:10.0.0.1"
    limits.redis.set(key, 10)  # full, and no expiry
    refused = limits.take(("badges",), "10.0.0.1", 1)
    assert refused is not None and 0 < int(limits.redis.pttl(key)) <= 60_000
    limits.redis.set(f"{limits.prefix}:badges:10.0.0.2", "garbage")
    assert limits.take(("badges",), "10.0.0.2", 1) is None
    assert limits.down_until == 0.0  # Redis was never taken for away


@needs_redis
def test_when_redis_stops_answering_each_process_counts_alone_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import redis

    limits = make_limits(LIMITS, REDIS_URL, f"sqlite:///{tmp_path / 'a.db'}")
    assert isinstance(limits, SharedLimits)
    gone = redis.Redis(port=_free_port(), socket_connect_timeout=0.2)  # a Redis gone away
    limits.script = gone.register_script("return {0, 0}")
    with caplog.at_level(logging.WARNING, logger="portal.limits"):
        allowed = [limits.take(("badges",), "10.0.0.1", 1) is None for _ in range(12)]
    assert allowed.count(True) == 10  # still limited, in this process
    assert "did not answer" in caplog.text
    assert caplog.text.count("did not answer") == 1  # tried again only after a pause


def _serve(port: int, database: str, workers: int, redis_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PORTAL_SECRET": SECRET,
        "DATABASE_URL": database,
        "PORTAL_WORKERS": str(workers),
        "PORTAL_BADGES_PER_MINUTE": "10",
        "REDIS_URL": redis_url,
    }
    return subprocess.Popen(
        [str(PORTAL), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _up(url: str) -> None:
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not start")


def _badge(url: str) -> int:
    try:
        with urllib.request.urlopen(url + "/badge/D43000000000.svg", timeout=5) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[list[str]]:
    database = f"sqlite:///{tmp_path / 'served.db'}"
    ports = [_free_port(), _free_port()]
    first = _serve(ports[0], database, 2, REDIS_URL)  # two workers
    procs = [first]
    try:
        _up(f"http://127.0.0.1:{ports[0]}")  # it migrated the database
        procs.append(_serve(ports[1], database, 1, REDIS_URL))  # and a second process
        _up(f"http://127.0.0.1:{ports[1]}")
        yield [f"http://127.0.0.1:{p}" for p in ports]
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=15)


@needs_redis
def test_two_workers_and_another_process_share_the_badge_limit(two_servers: list[str]) -> None:
    """10 badges a minute per client: eight asked of the two-worker server (each on a new
    connection, so both workers take some) and eight of the other process, 10 answered."""
    answers = [_badge(two_servers[i % 2]) for i in range(16)]
    assert answers.count(429) == 6
    assert all(a != 429 for a in answers[:10])
