"""The fast path (public_site.fast) gives the route's answer, header for header and byte for
byte, for every kind of status and badge request; what it does not answer the route does,
and a request it counted against the limit is not counted twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from portal.app import create_app
from portal.clock import china_today
from portal.settings import Settings
from public_site import fast
from tests.portal.conftest import SECRET
from tests.public_site.conftest import UNLIMITED

VARYING = {"x-request-id", "date"}


async def _two(demo_url: str) -> AsyncIterator[tuple[AsyncTestClient[Any], AsyncTestClient[Any]]]:
    on = create_app(Settings(database_url=demo_url, secret=SECRET), limits=UNLIMITED)
    off = create_app(Settings(database_url=demo_url, secret=SECRET), limits=UNLIMITED)
    off.fast_path = False  # type: ignore[attr-defined]
    async with AsyncTestClient(app=on) as a, AsyncTestClient(app=off) as b:
        yield a, b


@pytest.fixture
async def both(demo_url: str) -> AsyncIterator[tuple[AsyncTestClient[Any], AsyncTestClient[Any]]]:
    async for pair in _two(demo_url):
        yield pair


def _headers(response: Any) -> list[tuple[str, str]]:
    return sorted((k.lower(), v) for k, v in response.headers.items() if k.lower() not in VARYING)


async def test_every_kind_of_request_gets_the_route_s_own_answer(
    both: tuple[AsyncTestClient[Any], AsyncTestClient[Any]], codes: dict[str, str]
) -> None:
    fast_client, route_client = both
    yesterday = (china_today() - timedelta(days=1)).isoformat()
    paths: list[tuple[str, dict[str, str]]] = []
    for code in codes.values():
        paths += [
            (f"/api/v1/practitioners/{code}/status", {}),
            (f"/api/v1/practitioners/{code.lower()}/status", {}),
            (f"/api/v1/practitioners/{code}/status?on={yesterday}", {}),
            (f"/badge/{code}.svg", {}),
            (f"/badge/{code}.svg", {"Origin": "https://hospital.example"}),
        ]
    paths += [
        ("/api/v1/practitioners/D43999999999/status", {}),  # nobody: 404
        ("/api/v1/practitioners/D43%2F/status", {}),
        ("/api/v1/practitioners/D43010200001/status?on=2026-02-30", {}),  # no such day
        ("/api/v1/practitioners/D43010200001/status?on=20260101", {}),
        ("/badge/D43999999999.svg", {}),
        ("/badge/not-a-code.svg", {}),
        ("/badge/D43010200001.png", {}),
    ]
    for path, headers in paths:
        a = await fast_client.get(path, headers=headers)
        b = await route_client.get(path, headers=headers)
        assert (a.status_code, _headers(a), a.content) == (
            b.status_code,
            _headers(b),
            b.content,
        ), path
    badge = await route_client.get(f"/badge/{codes['normal']}.svg")
    two = [("If-None-Match", ""), ("If-None-Match", badge.headers["etag"])]  # the first counts
    a = await fast_client.get(f"/badge/{codes['normal']}.svg", headers=two)
    b = await route_client.get(f"/badge/{codes['normal']}.svg", headers=two)
    assert (a.status_code, _headers(a), a.content) == (b.status_code, _headers(b), b.content)
    etag = {"If-None-Match": badge.headers["etag"]}
    a = await fast_client.get(f"/badge/{codes['normal']}.svg", headers=etag)
    b = await route_client.get(f"/badge/{codes['normal']}.svg", headers=etag)
    assert a.status_code == b.status_code == 304
    assert (_headers(a), a.content) == (_headers(b), b.content)


async def test_the_fast_path_answers_plain_requests_only(
    demo_url: str, codes: dict[str, str]
) -> None:
    """It answers a plain GET itself, and leaves HEAD, Origin and odd queries to the route."""
    app = create_app(Settings(database_url=demo_url, secret=SECRET), limits=UNLIMITED)
    async with AsyncTestClient(app=app):  # started: the state is ready
        sent: list[Any] = []

        async def send(message: Any) -> None:
            sent.append(message)

        def scope(path: str, method: str = "GET", query: bytes = b"", **h: str) -> Any:
            return {
                "type": "http", "method": method, "path": path, "query_string": query,
                "headers": [(k.encode(), v.encode()) for k, v in h.items()],
                "client": ("10.0.0.1", 1), "state": {},
            }  # fmt: skip

        status = f"/api/v1/practitioners/{codes['normal']}/status"
        assert await fast.answer(app.state, scope(status), send)
        assert sent[0]["status"] == 200
        assert not await fast.answer(app.state, scope(status, "HEAD"), send)
        assert not await fast.answer(app.state, scope(status, origin="https://x.example"), send)
        assert not await fast.answer(app.state, scope(status, query=b"on=2026-1-1"), send)
        assert not await fast.answer(app.state, scope(status, query=b"x=1"), send)
        assert len(sent) == 2  # only the first was answered here


async def test_a_request_counted_here_and_answered_by_the_route_counts_once(
    demo_url: str,
) -> None:
    limits = {**UNLIMITED, "api": (3, 60.0)}
    app = create_app(Settings(database_url=demo_url, secret=SECRET), limits=limits)
    async with AsyncTestClient(app=app) as client:
        answers = [
            (await client.get("/api/v1/practitioners/D43999999999/status")).status_code
            for _ in range(5)
        ]
    assert answers == [404, 404, 404, 429, 429]  # counted by the fast path, answered by the route


async def test_a_failing_read_is_not_tried_again_by_the_route(
    demo_url: str, codes: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database failing: a 500 in the route's shape, logged, after the reads of the
    fast path alone (the loop's connection is replaced once), not those of both."""
    from sqlalchemy.exc import OperationalError

    from portal.services import public

    calls = []

    def failing(*args: Any) -> Any:
        calls.append(args)
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    app = create_app(Settings(database_url=demo_url, secret=SECRET), limits=UNLIMITED)
    async with AsyncTestClient(app=app) as client:
        monkeypatch.setattr(public, "fast_status", failing)
        answer = await client.get(f"/api/v1/practitioners/{codes['normal']}/status")
    assert answer.status_code == 500 and "request_id" in answer.json()
    assert len(calls) == 2
