"""The public blacklist and its feed come from the listings (Hunan-Credit Art. 27, 33-35;
DESIGN "Feeds"): replaying the feed gives the page's set; nothing published after today;
a repair shows its mark and leaves the list; no ID-derived key is ever shown."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import Engine
from sqlmodel import Session

from portal.app import create_app
from portal.clock import china_today
from portal.credit_models import BlacklistListing, CreditSubject
from portal.db import make_engine, upgrade
from portal.identifiers import make_credit_code, make_resident_id
from portal.services import blacklist
from portal.services.registry import Act, create_institution, create_practitioner
from portal.settings import Settings
from tests.portal.conftest import SECRET
from tests.public_site.conftest import UNLIMITED

TODAY = china_today()
HOSPITAL, PHARMACY, NURSE, DOCTOR = "H43010200001", "P43010300001", "N43010200002", "D43010200001"
PERSON_KEY = "P0123456789ABCDE"  # a keyed hash of an ID number: never public


def act(day: date) -> Act:
    return Act("officer-wang", datetime(day.year, day.month, day.day, 2, tzinfo=UTC), "依法认定")


def listed(session: Session, kind: str, key: str, on: date, **extra: Any) -> BlacklistListing:
    proposal = blacklist.propose(
        session,
        act(on - timedelta(days=20)),
        subject_kind=kind,
        subject_key=key,
        grounds="骗取医保基金",
        basis="湖南信用办法第三十三条",
        authority="长沙市医疗保障局",
        proposed_on=on - timedelta(days=20),
        **extra,
    )
    told = on - timedelta(days=19)
    blacklist.issue_prior_notice(session, act(told), proposal.id or 0, on=told)
    return blacklist.list_subject(session, act(on), proposal.id or 0, listed_on=on)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path: Path = tmp_path_factory.mktemp("blacklist") / "site.db"
    url = f"sqlite:///{path}"
    engine: Engine = make_engine(url)
    upgrade(engine)
    setup = act(date(2025, 1, 2))
    with Session(engine) as s:
        for code, kind, region, name in (
            (HOSPITAL, "hospital", "430102", "长沙市第一医院"),
            (PHARMACY, "pharmacy", "430103", "老百姓大药房第1分店"),
        ):
            create_institution(
                s,
                setup,
                code=code,
                name=name,
                kind=kind,
                region=region,
                credit_code=make_credit_code(region, f"MA{code[-7:]}", "91"),
                ownership="private",
            )
        for code, name, born in (
            (NURSE, "李娜", date(1990, 2, 3)),
            (DOCTOR, "张伟", date(1980, 5, 17)),
        ):
            create_practitioner(
                s,
                setup,
                national_code=code,
                name=name,
                secret=SECRET,
                id_number=make_resident_id("430102", born, 7, "female"),
            )
        s.add(
            CreditSubject(
                subject_kind="other_individual",
                subject_key=PERSON_KEY,
                name="赵某",
                region="430102",
                document_type="resident_id",
                **setup.stamp(),
            )
        )
        nurse = listed(s, "practitioner", NURSE, TODAY - timedelta(days=100))
        hospital = listed(s, "designated_hospital", HOSPITAL, TODAY - timedelta(days=80))
        listed(
            s,
            "other_individual",
            PERSON_KEY,
            TODAY - timedelta(days=80),
            role="legal_representative",
            related_listing_id=hospital.id,
        )
        pharmacy = listed(s, "designated_pharmacy", PHARMACY, TODAY - timedelta(days=60))
        blacklist.end_publication(
            s,
            act(TODAY - timedelta(days=5)),
            pharmacy.id or 0,
            "repaired",
            TODAY - timedelta(days=5),
        )
        old = listed(s, "practitioner", DOCTOR, TODAY - timedelta(days=3 * 366 + 10))
        blacklist.end_publications(s, act(TODAY), TODAY)
        assert old.state == "removed"
        # A correction that becomes public only in five days: absent until then.
        later = TODAY + timedelta(days=5)
        blacklist.correct(s, act(later), nurse.id or 0, on=later, name="李娜（更正）")
        s.commit()
    engine.dispose()
    yield url


@pytest.fixture
async def client(site: str) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(Settings(database_url=site, secret=SECRET), limits=UNLIMITED)
    async with AsyncTestClient(app=app) as c:
        yield c


async def _replay(client: AsyncTestClient[Any], limit: int = 2) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    answer = (await client.get("/feeds/blacklist.json", params={"since": 0, "limit": limit})).json()
    while True:
        items += answer["items"]
        if answer["next"] is None:
            return items
        url = answer["next"].split("testserver.local", 1)[-1]
        answer = (await client.get(url)).json()


async def test_replaying_the_feed_gives_the_pages_current_set(
    client: AsyncTestClient[Any],
) -> None:
    items = await _replay(client)
    latest: dict[str, dict[str, Any]] = {}
    for item in items:
        if item["effective"] <= TODAY.isoformat():
            latest[item["code"]] = item
    current = {
        code
        for code, item in latest.items()
        if item["status"] == "listed" and item["period_end"] > TODAY.isoformat()
    }
    page = await client.get("/blacklist")
    assert page.status_code == 200
    rows = page.text.split("<tbody>")[1].split("</tbody>")[0]
    shown = {code for code in (NURSE, HOSPITAL, PHARMACY, DOCTOR) if f">{code}<" in rows}
    shown |= {c for c in current if c.startswith("BL") and f">{c}<" in rows}
    assert current == shown and NURSE in current and HOSPITAL in current
    assert len(current) == 3  # the nurse, the hospital and its legal representative
    assert "长沙市医疗保障局" in rows  # the listing authority


async def test_every_item_has_the_design_shape(client: AsyncTestClient[Any]) -> None:
    items = await _replay(client, limit=100)
    keys = {
        "id",
        "type",
        "code",
        "name",
        "status",
        "published",
        "effective",
        "period_start",
        "period_end",
        "reregister_from",
        "document_no",
        "replaces",
    }
    assert all(keys <= set(i) for i in items)
    assert {i["type"] for i in items} == {"listed", "repaired", "removed"}
    assert all(i["reregister_from"] is None and i["published"] <= TODAY.isoformat() for i in items)
    listed_ = next(i for i in items if i["code"] == NURSE)
    start = date.fromisoformat(listed_["period_start"])
    assert listed_["period_end"] == start.replace(year=start.year + 3).isoformat()


async def test_an_event_published_in_the_future_is_absent(client: AsyncTestClient[Any]) -> None:
    items = await _replay(client, limit=100)
    assert all(i["type"] != "corrected" for i in items)
    assert "李娜（更正）" not in (await client.get("/blacklist")).text
    assert "李娜（更正）" not in (await client.get("/feeds/blacklist.csv")).text
    latest = max(i["id"] for i in items)
    beyond = await client.get("/feeds/blacklist.json", params={"since": latest + 1})
    assert beyond.status_code == 400 and beyond.json()["field"] == "since"


async def test_a_repair_shows_its_mark_and_leaves_the_list(client: AsyncTestClient[Any]) -> None:
    page = (await client.get("/blacklist")).text
    current, ended = page.split("近 30 日终止公示")
    assert f">{PHARMACY}<" not in current.split("<tbody>")[1]
    day = TODAY - timedelta(days=5)
    assert f"{day.year}年{day.month:02d}月{day.day:02d}日修复" in ended
    items = await _replay(client, limit=100)
    repaired = [i for i in items if i["code"] == PHARMACY]
    assert [i["type"] for i in repaired] == ["listed", "repaired"]
    assert repaired[-1]["effective"] == day.isoformat()


async def test_no_id_derived_key_is_public(client: AsyncTestClient[Any]) -> None:
    for path in (
        "/blacklist",
        "/feeds/blacklist.json",
        "/feeds/blacklist.csv",
        "/feeds/blacklist.atom",
    ):
        body = (await client.get(path)).text
        assert PERSON_KEY not in body, path
    page = (await client.get("/blacklist")).text
    assert "赵某" in page and "法定代表人" in page and "禁止从事定点医药机构管理活动" in page


async def test_the_atom_and_csv_carry_the_same_items(client: AsyncTestClient[Any]) -> None:
    items = await _replay(client, limit=100)
    atom = (await client.get("/feeds/blacklist.atom", params={"limit": 100})).text
    assert atom.count("<entry>") == len(items)
    csv = (await client.get("/feeds/blacklist.csv", params={"limit": 100})).content
    assert len(csv.decode("utf-8-sig").strip().splitlines()) == len(items) + 1


async def test_every_item_says_whether_an_objection_is_open(client: AsyncTestClient[Any]) -> None:
    """Hunan-Credit Art. 24: the listing is marked while an objection on it is open."""
    items = await _replay(client, limit=100)
    assert items and all(i["under_objection"] is False for i in items)
    csv = (await client.get("/feeds/blacklist.csv", params={"limit": 100})).content
    header = csv.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[-1] == "under_objection"


async def test_the_blacklist_page_filters_pages_and_counts(client: AsyncTestClient[Any]) -> None:
    """Filters by kind, region and name; the total; 50 a page; past the last page 404."""
    page = await client.get("/blacklist")
    assert page.status_code == 200
    total = int(re.search(r"共 (\d+) 个信用主体", page.text).group(1))  # type: ignore[union-attr]
    assert total > 0
    first_name = re.search(
        r'<td data-label="名称"><a href="/practitioners/[^"]+">([^<]+)</a>', page.text
    )
    assert first_name
    found = await client.get("/blacklist", params={"name": first_name.group(1)})
    assert first_name.group(1) in found.text
    assert int(re.search(r"共 (\d+) 个", found.text).group(1)) <= total  # type: ignore[union-attr]
    none = await client.get("/blacklist", params={"kind": "pharma_company"})
    assert "共 0 个信用主体" in none.text and "没有符合条件的信用主体" in none.text
    assert (await client.get("/blacklist", params={"kind": "gossip"})).status_code == 400
    assert (await client.get("/blacklist", params={"region": "4x"})).status_code == 400
    last = -(-total // 50)
    assert (await client.get("/blacklist", params={"page": str(last + 1)})).status_code == 404
