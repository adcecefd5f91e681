"""Never "clear" when the data is stale (spec/DESIGN.md: ``stale``, ``data_as_of``): until
the day's status refresh has run, every status answer — the API, each batch result, the
receipt — says so, the badge is a grey 数据待更新, the doctor's page and the embed carry a
line. Tested by stopping the refresh (a database whose last refresh was yesterday, or that
never had one)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlmodel import Session

from portal.app import create_app
from portal.clock import china_today
from portal.db import make_engine, upgrade
from portal.services.verify import refresh_statuses
from portal.settings import Settings
from tests.portal.conftest import SECRET, Cast, make_cast
from tests.public_site.conftest import UNLIMITED


@pytest.fixture
def portal_db(tmp_path: Path) -> tuple[str, Cast]:
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        cast = make_cast(session)
        session.commit()
    engine.dispose()
    return url, cast


async def _site(url: str) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(Settings(database_url=url, secret=SECRET), limits=UNLIMITED)
    async with AsyncTestClient(app=app) as client:
        yield client


async def _answers(url: str, code: str) -> dict[str, Any]:
    async for site in _site(url):
        single = (await site.get(f"/api/v1/practitioners/{code}/status")).json()
        batch = (await site.post("/api/v1/status:batch", json={"codes": [code, "x"]})).json()
        receipt = (await site.post("/api/v1/receipts", json={"code": code})).json()
        badge = (await site.get(f"/badge/{code}.svg")).text
        page = (await site.get(f"/practitioners/{code}")).text
        embed = (await site.get(f"/embed/{code}")).text
        claims = receipt["jws"].split(".")[1]
        payload = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
        return {"single": single, "batch": batch["results"], "receipt": payload,
                "badge": badge, "page": page, "embed": embed}  # fmt: skip
    raise AssertionError("no site")


def _set_last_refresh(url: str, day: str | None) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM portal_meta WHERE key = 'data_as_of'"))
        if day is not None:
            conn.execute(
                text("INSERT INTO portal_meta (key, value) VALUES ('data_as_of', :d)"), {"d": day}
            )
    engine.dispose()


async def test_before_any_refresh_every_answer_says_stale(portal_db: tuple[str, Cast]) -> None:
    url, cast = portal_db
    seen = await _answers(url, cast.nurse)
    for answer in (seen["single"], seen["batch"][0], seen["receipt"]):
        assert answer["stale"] is True and answer["data_as_of"] is None
        assert answer["status"] == "normal"  # the status is still given, not vouched for
    assert "stale" not in seen["batch"][1]  # a malformed code has no status at all
    assert (
        "数据待更新" in seen["badge"] and "#666666" in seen["badge"] and "正常" not in seen["badge"]
    )
    assert "数据待更新" in seen["page"] and "数据待更新" in seen["embed"]


async def test_a_refresh_that_did_not_run_today_is_stale_and_one_that_did_is_not(
    portal_db: tuple[str, Cast],
) -> None:
    url, cast = portal_db
    yesterday = (china_today() - timedelta(days=1)).isoformat()
    _set_last_refresh(url, yesterday)
    seen = await _answers(url, cast.nurse)
    for answer in (seen["single"], seen["batch"][0], seen["receipt"]):
        assert (answer["stale"], answer["data_as_of"]) == (True, yesterday)
    assert f"最近更新于 {yesterday}" in seen["page"]
    engine = make_engine(url)
    refresh_statuses(engine, china_today() - timedelta(days=3))  # a past day vouches nothing
    refresh_statuses(engine, china_today())
    engine.dispose()
    seen = await _answers(url, cast.nurse)
    for answer in (seen["single"], seen["batch"][0], seen["receipt"]):
        assert (answer["stale"], answer["data_as_of"]) == (False, china_today().isoformat())
    assert "正常" in seen["badge"] and "数据待更新" not in seen["badge"]
    assert "数据待更新" not in seen["page"] and "数据待更新" not in seen["embed"]
