"""The public surface as an attacker or a careless client uses it (the hardening probe).

Each class of defect is tested over every route and field of its kind: bad parameters are
a 400 naming the field (never a 500), every 500 is logged with a request id, CSV cells
cannot be formulas, batches cannot stall the site, every route is limited, forwarded
headers count only from configured proxies, links never come from the Host header, and
every response carries the security headers and exactly one Cache-Control.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from portal.app import create_app
from portal.services import public
from portal.settings import RATE_LIMITS, Settings
from public_site.common import csv_body, csv_cell
from tests.portal.conftest import SECRET
from tests.public_site.conftest import UNLIMITED

HUGE = str(2**63)
FEEDS = [
    "/feeds/blacklist.json",
    "/feeds/blacklist.csv",
    "/feeds/blacklist.atom",
    "/feeds/disclosures.json",
    "/feeds/disclosures.atom",
]


def _json_error(response: httpx.Response, status: int, field: str | None) -> None:
    assert response.status_code == status, (response.request.url, response.text[:200])
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"error", "field"} and body["field"] == field, body
    assert body["error"]


def _html_error(response: httpx.Response, status: int, field: str | None) -> None:
    assert response.status_code == status, (response.request.url, response.text[:200])
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text and "返回首页" in response.text
    if field:
        assert f"<code>{field}</code>" in response.text


# --- every parameter to its type and range ------------------------------------------------


@pytest.mark.parametrize(
    "page", [HUGE, "-5", "0", "abc", "1e3", "1000001", " 2", "١", "１", "²", "", "+1"]
)
async def test_a_bad_page_is_a_400_on_every_paged_route(
    client: AsyncTestClient[Any], page: str
) -> None:
    _json_error(await client.get("/api/v1/disclosures", params={"page": page}), 400, "page")
    _html_error(await client.get("/disclosures", params={"page": page}), 400, "page")


async def test_a_page_past_the_last_is_a_404(client: AsyncTestClient[Any]) -> None:
    _json_error(await client.get("/api/v1/disclosures", params={"page": "999999"}), 404, "page")
    _html_error(await client.get("/disclosures", params={"page": "999999"}), 404, "page")
    assert (await client.get("/disclosures", params={"page": "1"})).status_code == 200


@pytest.mark.parametrize("per_page", ["0", "501", HUGE, "x"])
async def test_per_page_is_checked(client: AsyncTestClient[Any], per_page: str) -> None:
    response = await client.get("/api/v1/disclosures", params={"per_page": per_page})
    _json_error(response, 400, "per_page")


@pytest.mark.parametrize("path", FEEDS)
@pytest.mark.parametrize("since", ["99999999999999999999", "-1", "abc", "1.5", HUGE])
async def test_since_must_be_a_cursor_the_feed_returned(
    client: AsyncTestClient[Any], path: str, since: str
) -> None:
    _json_error(await client.get(path, params={"since": since}), 400, "since")


@pytest.mark.parametrize("path", FEEDS)
async def test_feed_limits_are_checked(client: AsyncTestClient[Any], path: str) -> None:
    for bad in ("0", "1001", "many"):
        _json_error(await client.get(path, params={"limit": bad}), 400, "limit")
    assert (await client.get(path, params={"limit": "1000", "since": "0"})).status_code == 200


@pytest.mark.parametrize("on", ["20250101", "2025-W01-1", "2025-13-01", "2025-02-30", "today"])
async def test_dates_are_yyyy_mm_dd_exactly(
    client: AsyncTestClient[Any], codes: dict[str, str], on: str
) -> None:
    url = f"/api/v1/practitioners/{codes['normal']}/status"
    _json_error(await client.get(url, params={"on": on}), 400, "on")
    batch = await client.post("/api/v1/status:batch", json={"codes": [codes["normal"]], "on": on})
    _json_error(batch, 400, "on")


@pytest.mark.parametrize("on", [20250101, True, ["2025-01-01"], {"d": "2025-01-01"}, 1.5])
async def test_a_batch_date_that_is_not_text_is_a_400(
    client: AsyncTestClient[Any], codes: dict[str, str], on: Any
) -> None:
    batch = await client.post("/api/v1/status:batch", json={"codes": [codes["normal"]], "on": on})
    _json_error(batch, 400, "on")


async def test_batch_bodies_that_are_not_what_the_contract_says(
    client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    url = "/api/v1/status:batch"
    json_type = {"content-type": "application/json"}
    deep = b"[" * 1000 + b"]" * 1000
    _json_error(await client.post(url, content=deep, headers=json_type), 400, "body")
    nested = b'{"codes": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    _json_error(await client.post(url, content=nested, headers=json_type), 400, "body")
    latin = '{"codes": ["D43010200001"], "on": "é"}'.encode("latin-1")
    _json_error(await client.post(url, content=latin, headers=json_type), 400, "body")
    _json_error(await client.post(url, content=b"{not json", headers=json_type), 400, "body")
    _json_error(await client.post(url, content=b"[1, 2]", headers=json_type), 400, "body")
    body = b'{"codes": ["D43010200001"]}'
    for media in ("text/plain", "application/x-www-form-urlencoded", ""):
        response = await client.post(url, content=body, headers={"content-type": media})
        _json_error(response, 415, "content-type")
    _json_error(await client.post(url, json={"codes": [1, 2]}), 400, "codes")
    _json_error(await client.post(url, json={"codes": []}), 400, "codes")
    _json_error(await client.post(url, json={"codes": ["X"] * 1001}), 400, "codes")
    _json_error(await client.post(url, json={"codes": ["X"], "extra": 1}), 400, "extra")
    big = b'{"codes": ["' + b"D" * 70_000 + b'"]}'
    _json_error(await client.post(url, content=big, headers=json_type), 413, None)


async def test_unknown_paths_and_methods_answer_in_the_routes_own_shape(
    client: AsyncTestClient[Any],
) -> None:
    _json_error(await client.get("/api/v1/nothing-here"), 404, None)
    _html_error(await client.get("/nothing-here"), 404, None)
    wrong = await client.post("/api/v1/disclosures", json={})
    _json_error(wrong, 405, None)
    assert "GET" in wrong.headers.get("allow", "")


async def test_a_malformed_code_is_named(client: AsyncTestClient[Any]) -> None:
    _json_error(await client.get("/api/v1/practitioners/DROP%20TABLE/status"), 400, "code")
    _json_error(await client.get("/api/v1/practitioners/D43019999999/status"), 404, "code")
    bad = await client.get("/badge/nonsense.svg")
    assert bad.status_code == 400 and bad.headers["content-type"] == "image/svg+xml"
    assert "代码有误" in bad.text
    unknown = await client.get("/badge/D43019999999.svg")
    assert unknown.status_code == 404 and "未找到" in unknown.text


# --- every 500 is logged with a request id ------------------------------------------------


async def test_an_unexpected_error_is_logged_with_its_traceback_and_request_id(
    client: AsyncTestClient[Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(public, "disclosures", broken)
    caplog.set_level(logging.ERROR, logger="portal.errors")
    response = await client.get("/api/v1/disclosures")
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert response.json()["request_id"] == request_id
    assert "the disk is on fire" not in response.text  # nothing internal leaks
    record = next(r for r in caplog.records if request_id in r.getMessage())
    assert record.exc_info is not None and "the disk is on fire" in str(record.exc_info[1])
    page = await client.get("/disclosures")
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert page.headers["x-request-id"] in page.text


async def test_every_response_carries_a_request_id(client: AsyncTestClient[Any]) -> None:
    mine = await client.get("/healthz", headers={"x-request-id": "platform-req-0001"})
    assert mine.headers["x-request-id"] == "platform-req-0001"
    forged = await client.get("/healthz", headers={"x-request-id": "<script>"})
    assert forged.headers["x-request-id"] != "<script>"
    assert len((await client.get("/nothing")).headers["x-request-id"]) >= 8


# --- CSV formula injection -----------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "  =HYPERLINK(x)", "\t=1", "\r=1", " \t+1"],
)
def test_a_cell_a_spreadsheet_would_run_is_neutralised(value: str) -> None:
    assert csv_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["张伟", "D43010200001", "湘医保协〔2025〕21号", "a=b", ""])
def test_ordinary_cells_are_left_alone(value: str) -> None:
    assert csv_cell(value) == value


async def test_names_in_the_exports_cannot_run_as_formulas(
    demo_url: str, codes: dict[str, str], tmp_path: Path
) -> None:
    """A name and an institution name that are formulas, through both CSV exports."""
    copy = tmp_path / "site.db"
    shutil.copy(demo_url.removeprefix("sqlite:///"), copy)
    evil_person, evil_place = '=HYPERLINK("http://x","点我")', " +cmd|' /C calc'!A0"
    with sqlite3.connect(copy) as conn:
        conn.execute(
            "UPDATE practitioner SET name = ? WHERE national_code = ?",
            (evil_person, codes["terminated"]),
        )
        conn.execute(
            "UPDATE institution SET name = ? WHERE id IN (SELECT institution_id FROM registration"
            " r JOIN practitioner p ON p.id = r.practitioner_id WHERE p.national_code = ?)",
            (evil_place, codes["terminated"]),
        )
        # The blacklist feed publishes what each listing decision named (its events are
        # append-only): a correction naming the evil name, and an evil authority.
        conn.execute(
            "INSERT INTO blacklist_event (listing_id, type, subject_kind, code, name, status,"
            " published_on, effective_on, document_no, recorded_at) SELECT id, 'corrected',"
            " subject_kind, subject_key, ?, 'listed', listed_on, listed_on, document_no,"
            " recorded_at FROM blacklist_listing WHERE state = 'listed' LIMIT 1",
            (evil_person,),
        )
        conn.execute("UPDATE blacklist_listing SET authority = ?", (evil_place,))
    app = create_app(Settings(database_url=f"sqlite:///{copy}", secret=SECRET), limits=UNLIMITED)
    async with AsyncTestClient(app=app) as client:
        exports = [
            (await client.get("/disclosures", params={"format": "csv"})).content,
            (await client.get("/feeds/blacklist.csv", params={"limit": "1000"})).content,
        ]
        api = await client.get(f"/api/v1/practitioners/{codes['terminated']}/status")
    for export in exports:
        text = export.decode("utf-8-sig")
        assert evil_person.replace('"', '""') in text or evil_person in text
        for line in text.splitlines()[1:]:
            for cell in line.split(","):
                assert not cell.strip('"').lstrip(" ").startswith(("=", "+", "-", "@")), cell
    assert api.json()["name"] == evil_person  # the data itself is kept intact elsewhere


def test_csv_body_keeps_dates_and_numbers_as_they_are() -> None:
    from datetime import date

    body = csv_body(["d", "n", "s"], [{"d": date(2025, 1, 2), "n": -3, "s": "-x"}])
    assert body.decode("utf-8-sig").splitlines()[1] == "2025-01-02,-3,'-x"


# --- batches ---------------------------------------------------------------------------------


async def test_a_batch_looks_each_code_up_once_and_answers_each_one(
    client: AsyncTestClient[Any], codes: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = public.fast_status

    def counted(conn: Any, code: str, on: Any) -> Any:
        calls.append(code)
        return real(conn, code, on)

    monkeypatch.setattr(public, "fast_status", counted)
    sent = [codes["normal"]] * 600 + [codes["suspended"].lower()] * 399 + ["nonsense"]
    response = await client.post("/api/v1/status:batch", json={"codes": sent})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 1000 and [r["code"] for r in results] == sent
    assert sorted(calls) == sorted({codes["normal"], codes["suspended"]})
    assert results[0]["status"] == "normal" and results[600]["status"] == "suspended"
    assert results[-1] == {"code": "nonsense", "found": False, "invalid": True}


async def test_a_batch_weighs_its_size_in_the_rate_limit(
    demo_url: str, codes: dict[str, str]
) -> None:
    limits = {**UNLIMITED, "api": (25, 60.0)}
    app = create_app(Settings(database_url=demo_url, secret=SECRET), limits=limits)
    async with AsyncTestClient(app=app) as client:
        batch = {"codes": [codes["normal"]] * 1000}  # costs 10
        statuses = [(await client.post("/api/v1/status:batch", json=batch)) for _ in range(3)]
        assert [s.status_code for s in statuses] == [200, 200, 429]
        assert int(statuses[2].headers["retry-after"]) >= 1
        small = await client.post("/api/v1/status:batch", json={"codes": [codes["normal"]] * 5})
        assert small.status_code == 200  # 21 + 1 ≤ 25


async def test_large_batches_do_not_stall_the_doctor_pages(
    demo_url: str, codes: dict[str, str]
) -> None:
    """The probe: eight concurrent batches of 1,000 codes took doctor pages from 2.6 ms
    to 7.7 s. Batches now run off the loop, two at a time, each code looked up once."""
    from sqlalchemy import select

    from portal.db import make_engine
    from portal.models import Practitioner, table

    engine = make_engine(demo_url)
    with engine.connect() as conn:
        every = list(conn.execute(select(table(Practitioner).c.national_code)).scalars())
    engine.dispose()
    app = create_app(Settings(database_url=demo_url, secret=SECRET), limits=UNLIMITED)
    async with AsyncTestClient(app=app) as client:
        page = f"/api/v1/practitioners/{codes['normal']}/status"
        assert (await client.get(page)).status_code == 200

        async def batch(n: int) -> int:
            chunk = every[(n * 1000) % len(every) :][:1000] or every[:1000]
            response = await client.post("/api/v1/status:batch", json={"codes": chunk})
            return response.status_code

        async def doctor_pages() -> float:
            worst = 0.0
            for _ in range(10):
                started = time.perf_counter()
                response = await client.get(f"/badge/{codes['suspended']}.svg")
                assert response.status_code in (200, 304)
                worst = max(worst, time.perf_counter() - started)
                await asyncio.sleep(0.02)
            return worst

        batches = asyncio.gather(*(batch(n) for n in range(8)))
        worst = await doctor_pages()
        assert set(await batches) == {200}
    assert worst < 1.0, f"a badge waited {worst:.2f} s behind the batches"


# --- limits on every public route -------------------------------------------------------------


@pytest.fixture
async def strict_client(demo_url: str) -> AsyncIterator[AsyncTestClient[Any]]:
    limits = {name: (3, window) for name, (_var, _n, window) in RATE_LIMITS.items()}
    app = create_app(Settings(database_url=demo_url, secret=SECRET), limits=limits)
    async with AsyncTestClient(app=app) as c:
        yield c


async def test_every_public_route_is_limited_with_retry_after(
    strict_client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    code = codes["normal"]
    routes = [
        ("GET", "/?q=李"),
        ("GET", "/search?q=李"),
        ("GET", f"/practitioners/{code}"),
        ("GET", "/disclosures"),
        ("GET", "/blacklist"),
        ("GET", "/credit/a-grade"),
        ("GET", "/about"),
        ("GET", "/healthz"),
        ("GET", f"/api/v1/practitioners/{code}/status"),
        ("POST", "/api/v1/status:batch"),
        ("GET", "/api/v1/disclosures"),
        ("GET", f"/badge/{code}.svg"),
        ("GET", f"/embed/{code}"),
        ("GET", "/embed.js"),
        ("GET", "/feeds/blacklist.json"),
        ("GET", "/static/site.css"),
    ]
    seen_429: set[str] = set()
    for method, path in routes:
        for _ in range(8):
            if method == "POST":
                response = await strict_client.post(path, json={"codes": [code]})
            else:
                response = await strict_client.get(path)
            if response.status_code == 429:
                assert int(response.headers["retry-after"]) >= 1, path
                assert response.headers["cache-control"] == "no-store", path
                seen_429.add(path)
                break
    assert seen_429 == {path for _m, path in routes}


async def test_the_home_page_keeps_what_was_typed_when_limited(
    strict_client: AsyncTestClient[Any],
) -> None:
    for _ in range(3):
        await strict_client.get("/", params={"q": "王芳"})
    limited = await strict_client.get("/", params={"q": "王芳"})
    assert limited.status_code == 429 and 'value="王芳"' in limited.text


# --- forwarded headers and the Host header ------------------------------------------------------


def _asgi_client(app: Any, peer: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://portal.test")


async def test_a_rotating_forwarded_for_does_not_escape_the_limit(demo_url: str) -> None:
    limits = {**UNLIMITED, "search": (3, 60.0)}
    app = create_app(Settings(database_url=demo_url, secret=SECRET), limits=limits)
    async with _asgi_client(app, "203.0.113.9") as client:
        statuses = [
            (
                await client.get(
                    "/search", params={"q": "李"}, headers={"x-forwarded-for": f"10.1.1.{n}"}
                )
            ).status_code
            for n in range(5)
        ]
    assert statuses == [200, 200, 200, 429, 429]


async def test_behind_a_configured_proxy_the_client_is_the_rightmost_untrusted_hop(
    demo_url: str,
) -> None:
    limits = {**UNLIMITED, "search": (2, 60.0)}
    settings = Settings(database_url=demo_url, secret=SECRET, trusted_proxies=_nets("10.0.0.0/8"))
    app = create_app(settings, limits=limits)
    async with _asgi_client(app, "10.0.0.5") as client:

        async def as_seen(forwarded: str) -> int:
            headers = {"x-forwarded-for": forwarded}
            return (await client.get("/search", params={"q": "李"}, headers=headers)).status_code

        # The first hop is the client's own claim (spoofable); the proxy appended the real one.
        assert [await as_seen(f"1.1.1.{n}, 198.51.100.7, 10.0.0.9") for n in range(3)] == [
            200,
            200,
            429,
        ]
        assert await as_seen("198.51.100.8") == 200  # another client has its own window


def _nets(text: str) -> Any:
    return Settings.from_env(
        {"PORTAL_SECRET": SECRET, "PORTAL_TRUSTED_PROXIES": text}
    ).trusted_proxies


async def test_links_come_from_the_base_url_not_the_host_header(
    demo_url: str, codes: dict[str, str]
) -> None:
    settings = Settings(database_url=demo_url, secret=SECRET, base_url="https://yibao.example.cn")
    app = create_app(settings, limits=UNLIMITED)
    async with _asgi_client(app, "192.0.2.1") as client:
        evil = {"host": "evil.example", "x-forwarded-host": "evil.example"}
        embed = await client.get(f"/embed/{codes['normal']}", headers=evil)
        atom = await client.get("/feeds/disclosures.atom", headers=evil)
        feed = await client.get("/feeds/disclosures.json", params={"limit": 1}, headers=evil)
    for response in (embed, atom, feed):
        assert response.status_code == 200
        assert "evil.example" not in response.text
    assert "https://yibao.example.cn/practitioners/" in embed.text
    assert 'rel="self" href="https://yibao.example.cn/feeds/' in atom.text
    assert feed.json()["next"].startswith("https://yibao.example.cn/feeds/")


# --- headers ---------------------------------------------------------------------------------


async def test_every_response_has_the_security_headers_and_one_cache_control(
    client: AsyncTestClient[Any], codes: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code = codes["normal"]
    paths = [
        "/",
        "/search?q=李",
        f"/practitioners/{code}",
        "/practitioners/D43019999999",
        "/disclosures",
        "/disclosures?format=csv",
        "/disclosures?page=0",
        "/blacklist",
        "/credit/a-grade",
        "/about",
        "/healthz",
        f"/api/v1/practitioners/{code}/status",
        "/api/v1/practitioners/D43019999999/status",
        "/api/v1/disclosures",
        "/api/v1/openapi.json",
        f"/badge/{code}.svg",
        f"/embed/{code}",
        "/embed/D43019999999",
        "/embed.js",
        "/static/htmx.min.js",
        "/nothing",
        *FEEDS,
    ]
    for path in paths:
        response = await client.get(path)
        assert response.status_code < 500, path
        assert len(response.headers.get_list("cache-control")) == 1, path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"], path
        csp = response.headers["content-security-policy"]
        framed = "frame-ancestors *" in csp
        assert framed == path.startswith("/embed/"), path
        if not framed:
            assert "frame-ancestors 'none'" in csp and response.headers["x-frame-options"] == "DENY"
    openapi = await client.get("/api/v1/openapi.json")
    assert openapi.headers["cache-control"] == "public, max-age=300"

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(public, "disclosures", broken)
    failed = await client.get("/api/v1/disclosures")
    assert failed.status_code == 500 and failed.headers.get_list("cache-control") == ["no-store"]


async def test_too_many_or_too_large_headers_are_refused(client: AsyncTestClient[Any]) -> None:
    many = {f"x-h{n}": "1" for n in range(120)}
    refused = await client.get("/healthz", headers=many)
    assert refused.status_code == 431 and refused.json()["field"] is None
    large = await client.get("/healthz", headers={"x-big": "a" * 20_000})
    assert large.status_code == 431
    assert (await client.get("/healthz", headers={"x-ok": "a" * 2000})).status_code == 200


async def test_public_routes_set_no_cookie(
    client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    """Only the admin has sessions: a cookie on a public answer would stop shared caches and
    make CORS echo the origin."""
    for path in ("/", f"/practitioners/{codes['normal']}", "/feeds/blacklist.json",
                 f"/badge/{codes['normal']}.svg", "/api/v1/disclosures"):  # fmt: skip
        assert "set-cookie" not in (await client.get(path)).headers, path
    assert "csrftoken" in (await client.get("/admin/login")).headers.get("set-cookie", "")


async def test_one_unreadable_person_does_not_fail_the_batch(
    client: AsyncTestClient[Any], codes: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.services.lookup import StatusUnknown

    real = public.fast_status

    def damaged_for_one(conn: Any, code: str, on: Any) -> Any:
        if code == codes["suspended"]:
            raise StatusUnknown(1)
        return real(conn, code, on)

    monkeypatch.setattr(public, "fast_status", damaged_for_one)
    sent = [codes["normal"], codes["suspended"]]
    response = await client.post("/api/v1/status:batch", json={"codes": sent})
    assert response.status_code == 200
    ok, unknown = response.json()["results"]
    assert ok["status"] == "normal"
    assert unknown["found"] and unknown["status"] is None and unknown["error"]


@pytest.mark.parametrize("path", FEEDS)
@pytest.mark.parametrize("value", ["١٠", "１０", "", "+5"])
async def test_feed_limits_are_ascii_digits(
    client: AsyncTestClient[Any], path: str, value: str
) -> None:
    _json_error(await client.get(path, params={"limit": value}), 400, "limit")


async def test_per_page_is_ascii_digits(client: AsyncTestClient[Any]) -> None:
    _json_error(await client.get("/api/v1/disclosures", params={"per_page": "٣٠"}), 400, "per_page")


async def test_bad_requests_count_against_the_limit(demo_url: str, codes: dict[str, str]) -> None:
    limits = {**UNLIMITED, "pages": (3, 60.0), "api": (3, 60.0)}
    app = create_app(Settings(database_url=demo_url, secret=SECRET), limits=limits)
    async with AsyncTestClient(app=app) as c:
        pages = [(await c.get("/disclosures", params={"page": "0"})).status_code for _ in range(5)]
        batches = [
            (
                await c.post(
                    "/api/v1/status:batch", content=b"{", headers={"content-type": "text/plain"}
                )
            ).status_code
            for _ in range(5)
        ]
    assert pages[:3] == [400] * 3 and pages[3:] == [429, 429]
    assert batches[:3] == [415] * 3 and batches[3:] == [429, 429]


async def test_search_takes_wildcards_literally(client: AsyncTestClient[Any]) -> None:
    for q in ("%%", "__", "%_%"):
        page = await client.get("/search", params={"q": q})
        assert page.status_code == 200 and "/practitioners/" not in page.text, q


async def test_a_nul_in_the_path_is_refused_not_500(client: AsyncTestClient[Any]) -> None:
    for path in ("/static/%00", "/static/a%00b.css", "/practitioners/D43%00"):
        response = await client.get(path)
        assert response.status_code in (400, 404), path
        assert response.headers["cache-control"] == "no-store"


async def test_header_refusals_answer_in_the_route_s_own_shape(
    client: AsyncTestClient[Any],
) -> None:
    many = {f"x-h{n}": "1" for n in range(120)}
    html = await client.get("/disclosures", headers=many)
    assert html.status_code == 431 and html.headers["content-type"].startswith("text/html")
    assert "请求头过多" in html.text and html.headers["x-content-type-options"] == "nosniff"
    api = await client.get("/api/v1/disclosures", headers=many)
    assert api.status_code == 431 and api.json()["field"] is None


async def test_a_compressed_batch_is_415(
    client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    import gzip
    import json as jsonlib

    body = gzip.compress(jsonlib.dumps({"codes": [codes["normal"]]}).encode())
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    response = await client.post("/api/v1/status:batch", content=body, headers=headers)
    _json_error(response, 415, "content-encoding")
