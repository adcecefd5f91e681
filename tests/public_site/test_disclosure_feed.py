"""``/feeds/disclosures.*``, the monthly extracts and changes, as a registration platform
syncing them sees them: replaying the feed from ``since=0`` gives every status the status
API gives (spec/DESIGN.md "Feeds"); nothing appears before its publication date."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from litestar.testing import AsyncTestClient
from sqlmodel import Session, select

from portal.app import create_app
from portal.clock import china_today
from portal.db import make_engine, upgrade
from portal.models import Notice, Practitioner
from portal.services import disclosure_feed, ledger
from portal.settings import Settings
from tests.portal.conftest import SECRET, make_cast
from tests.portal.test_disclosure_feed import scenario
from tests.public_site.conftest import UNLIMITED

NOW = datetime(2026, 3, 15, 4, 0, tzinfo=UTC)  # 15 March 2026, noon in China


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    path: Path = tmp_path_factory.mktemp("disclosures") / "site.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        cast = make_cast(session)
        who = scenario(session, cast)
        session.commit()
    who |= {"doctor": cast.doctor, "nurse": cast.nurse, "principal": cast.principal}
    engine.dispose()
    yield url, who


@pytest.fixture
async def client(site: tuple[str, dict[str, str]]) -> AsyncIterator[AsyncTestClient[Any]]:
    with time_machine.travel(NOW, tick=False):
        app = create_app(Settings(database_url=site[0], secret=SECRET), limits=UNLIMITED)
        async with AsyncTestClient(app=app) as c:
            yield c


async def _replay(client: AsyncTestClient[Any]) -> dict[str, dict[str, Any]]:
    state: dict[str, dict[str, Any]] = {}
    url: str | None = "/feeds/disclosures.json?since=0&limit=3"
    pages = 0
    while url:
        answer = await client.get(url.replace("http://localhost:8000", ""))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        for item in body["items"]:
            assert item["published"] <= "2026-03-15"
            if item["effective"] <= "2026-03-15":
                state[item["code"]] = item
        url = body["next"]
        pages += 1
    assert pages > 1  # the paging was exercised
    return state


async def test_replaying_the_feed_gives_the_status_api_for_everyone(
    client: AsyncTestClient[Any], site: tuple[str, dict[str, str]]
) -> None:
    state = await _replay(client)
    for role, code in site[1].items():
        api = (await client.get(f"/api/v1/practitioners/{code}/status")).json()
        assert state.get(code, {}).get("status", "normal") == api["status"], role
    assert {state[site[1][r]]["type"] for r in ("restored", "appealed", "corrected")} == {
        "restored", "withdrawn", "corrected"
    }  # fmt: skip


async def test_a_notice_issued_in_three_days_is_absent_today(
    client: AsyncTestClient[Any], site: tuple[str, dict[str, str]]
) -> None:
    future = site[1]["future"]
    body = (await client.get("/feeds/disclosures.json", params={"limit": 1000})).json()
    assert future not in {i["code"] for i in body["items"]}
    assert body["next"] is None
    api = (await client.get(f"/api/v1/practitioners/{future}/status")).json()
    assert api["status"] == "normal"


async def test_every_item_has_the_design_shape(client: AsyncTestClient[Any]) -> None:
    body = (await client.get("/feeds/disclosures.json")).json()
    assert set(body) >= {"items", "cursor", "next", "since", "next_since"}
    for item in body["items"]:
        assert list(item) == [
            "id", "type", "code", "name", "status", "published", "effective",
            "period_start", "period_end", "reregister_from", "document_no", "replaces",
        ]  # fmt: skip
        assert item["type"] in (
            "suspended", "terminated", "cancelled", "restored", "shortened", "corrected",
            "withdrawn",
        )  # fmt: skip
    bad = await client.get("/feeds/disclosures.json", params={"since": "99999"})
    assert bad.status_code == 400 and bad.json()["field"] == "since"
    big = await client.get("/feeds/disclosures.json", params={"limit": "1001"})
    assert big.status_code == 400 and big.json()["field"] == "limit"


async def test_atom_and_csv_carry_the_same_items(client: AsyncTestClient[Any]) -> None:
    items = (await client.get("/feeds/disclosures.json")).json()["items"]
    table = (await client.get("/feeds/disclosures.csv")).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(table)))
    assert [r["id"] for r in rows] == [str(i["id"]) for i in items]
    atom = (await client.get("/feeds/disclosures.atom", params={"limit": 2})).text
    assert atom.count("<entry>") == 2
    newest = max(i["published"] for i in items[:2])
    assert f"<updated>{newest}T00:00:00+08:00</updated><entry>" in atom
    assert "<author><name>" in atom and 'rel="self"' in atom and 'rel="next"' in atom


def _csv(text: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"))))


async def test_last_months_extract_plus_this_months_changes(
    client: AsyncTestClient[Any],
) -> None:
    columns = ["code", "name", "status", "period_start", "period_end", "reregister_from",
               "document_no"]  # fmt: skip
    for before, month in (("2025-11", "2025-12"), ("2025-12", "2026-01"), ("2026-01", "2026-02")):
        old = _csv((await client.get(f"/feeds/extracts/{before}.csv")).content)
        state = {r["code"]: r for r in old}
        for item in _csv((await client.get(f"/feeds/changes/{month}.csv")).content):
            state[item["code"]] = {c: item[c] for c in columns}
        got = sorted(
            (r for r in state.values() if r["status"] != "normal"), key=lambda r: r["code"]
        )
        expected = _csv((await client.get(f"/feeds/extracts/{month}.csv")).content)
        assert got == expected, month
    assert any(r["status"] == "terminated" for r in expected)


async def test_extracts_exist_for_months_that_are_over(client: AsyncTestClient[Any]) -> None:
    assert (await client.get("/feeds/extracts/2026-03.csv")).status_code == 404
    assert (await client.get("/feeds/changes/2026-03.csv")).status_code == 200
    for bad in ("2026-13.csv", "26-01.csv", "2026-01.json", "2026-1.csv"):
        answer = await client.get(f"/feeds/extracts/{bad}")
        assert answer.status_code == 400 and answer.json()["field"] == "month", bad


async def test_an_unchanged_feed_answers_304(client: AsyncTestClient[Any]) -> None:
    urls = ("/feeds/disclosures.json", "/feeds/disclosures.atom", "/feeds/extracts/2026-01.csv")
    for url in urls:
        first = await client.get(url)
        etag = first.headers["etag"]
        again = await client.get(url, headers={"If-None-Match": etag})
        assert (again.status_code, again.content) == (304, b""), url
        other = await client.get(url, headers={"If-None-Match": '"stale"'})
        assert other.status_code == 200 and other.content == first.content


def test_the_demo_has_a_feed_that_replays_to_its_statuses(demo_url: str) -> None:
    """``portal demo`` back-fills the feed from its notices (``make run`` has a feed): the
    replay agrees with every status, but for a period whose notice is not issued yet (a
    case alone is not public)."""
    engine = make_engine(demo_url)
    today = china_today()
    with Session(engine) as session:
        conn = session.connection()
        state = {}
        for item in disclosure_feed.items(conn, today, limit=1000):
            if item["effective"] <= today:
                state[item["code"]] = item
        assert len(state) > 20
        unpublished = set(
            session.exec(select(Notice.practitioner_id).where(Notice.issued_on > today)).all()
        )
        for person in session.exec(select(Practitioner)).all():
            expected = ledger.status_on(session, person.national_code, today).status
            got = state.get(person.national_code, {}).get("status", "normal")
            assert got == expected or person.id in unpublished, person.national_code
    engine.dispose()


async def test_the_doctor_s_page_gives_the_day_payment_resumed_after_a_restoration(
    client: AsyncTestClient[Any], site: tuple[str, dict[str, str]]
) -> None:
    """After a restoration the status is 正常 and the page says since when (RULES I-12);
    the suspension's row says so too. Someone whose period merely ended says nothing of it."""
    state = await _replay(client)
    restored = state[site[1]["restored"]]
    assert restored["type"] == "restored"
    page = (await client.get(f"/practitioners/{site[1]['restored']}")).text
    assert "医保支付资格正常" in page
    assert f"已于 {restored['effective']} 恢复医保支付资格" in page
    assert f"{restored['effective']} 起已恢复" in page
    other = (await client.get(f"/practitioners/{site[1]['terminated']}")).text
    assert "恢复医保支付资格" not in other and "起已恢复" not in other
