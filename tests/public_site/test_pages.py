"""Pages for patients: search, a practitioner's status, disclosures, blacklist."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient


async def test_search_by_code_finds_the_doctor_and_says_the_status(
    client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    """A code typed in full opens the doctor's page (the form; live results show the one)."""
    opened = await client.get(
        "/", params={"q": f" {codes['suspended'].lower()} "}, follow_redirects=False
    )
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/practitioners/{codes['suspended']}"
    page = await client.get(opened.headers["location"])
    assert page.status_code == 200 and "暂停" in page.text
    live = await client.get("/search", params={"q": codes["suspended"]})
    assert f'href="/practitioners/{codes["suspended"]}"' in live.text and "找到 1 人" in live.text


async def test_live_search_returns_only_the_fragment(
    client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    fragment = await client.get(
        "/search", params={"q": codes["normal"]}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and codes["normal"] in fragment.text
    assert fragment.headers["cache-control"] == "no-store"


async def test_search_by_surname_is_capped_so_no_one_can_list_everyone(
    client: AsyncTestClient[Any],
) -> None:
    page = await client.get("/search", params={"q": "王"})
    assert page.text.count('class="card"') <= 20


async def test_a_suspended_doctor_s_page_tells_the_patient_what_to_do(
    client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    page = await client.get(f"/practitioners/{codes['suspended']}")
    assert page.status_code == 200
    assert "只能<strong>自费</strong>" in page.text and "急诊、抢救" in page.text
    assert "年度累计记分" in page.text  # points are public once suspended (Hunan Art. 9(2))
    assert "公开的处理决定" in page.text and "湘医保" in page.text


async def test_a_normal_doctor_s_page_is_plain(
    client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    page = await client.get(f"/practitioners/{codes['normal']}")
    assert "医保支付资格正常" in page.text and "自费" not in page.text


async def test_an_unknown_code_is_a_404_page(client: AsyncTestClient[Any]) -> None:
    page = await client.get("/practitioners/D43019999999")
    assert page.status_code == 404 and "未找到" in page.text


async def test_disclosures_filter_paginate_and_export(client: AsyncTestClient[Any]) -> None:
    page = await client.get("/disclosures", params={"status": "terminated"})
    assert page.status_code == 200 and "终止" in page.text and "暂停 " not in page.text
    csv = await client.get("/disclosures", params={"status": "suspended", "format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("national_code,name") and len(lines) > 1
    assert all(",suspended," in line for line in lines[1:])
    bad = await client.get("/disclosures", params={"status": "everyone"})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/html")
    assert "有误的参数" in bad.text and "status" in bad.text


async def test_the_blacklist_shows_the_listings_with_their_authority(
    client: AsyncTestClient[Any],
) -> None:
    """The demo lists some terminated practitioners (Hunan-Rules Art. 17)."""
    page = await client.get("/blacklist")
    assert page.status_code == 200 and "/practitioners/" in page.text
    assert "医保失信决〔" in page.text and "认定机关" in page.text


async def test_the_a_grade_page_says_no_evaluation_yet(client: AsyncTestClient[Any]) -> None:
    page = await client.get("/credit/a-grade")
    assert "尚未发布年度信用评价结果" in page.text


async def test_every_page_sets_cache_control(
    client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    code = codes["normal"]
    paths = [
        "/",
        "/search?q=1",
        f"/practitioners/{code}",
        "/disclosures",
        "/blacklist",
        "/credit/a-grade",
        "/about",
        "/healthz",
        f"/api/v1/practitioners/{code}/status",
        "/api/v1/disclosures",
        f"/badge/{code}.svg",
        f"/embed/{code}",
        "/embed.js",
        "/feeds/blacklist.json",
        "/feeds/disclosures.atom",
        "/static/htmx.min.js",
    ]
    html = {
        "/",
        f"/practitioners/{code}",
        "/disclosures",
        "/blacklist",
        "/credit/a-grade",
        "/about",
        f"/embed/{code}",
    }
    for path in paths:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers.get("cache-control"), path
        if path in html:
            assert response.headers["content-type"] == "text/html; charset=utf-8", path


async def test_the_doctor_s_page_answers_for_a_date_and_says_what_is_coming(
    client: AsyncTestClient[Any], demo_url: str
) -> None:
    """``?on=`` as the API honours it; a decided period not started yet is announced
    (将于…起暂停) while the status today is still 正常."""
    from datetime import date, timedelta

    from sqlalchemy import text

    from portal.clock import china_today
    from portal.db import make_engine

    engine = make_engine(demo_url)
    with engine.connect() as conn:  # someone with one decision only: a suspension
        row = conn.execute(
            text(
                "SELECT p.national_code, MAX(n.period_start) FROM notice n JOIN practitioner p "
                "ON p.id = n.practitioner_id GROUP BY p.id HAVING COUNT(*) = 1 "
                "AND MAX(n.status) = 'suspended' ORDER BY 2 DESC LIMIT 1"
            )
        ).one()
    engine.dispose()
    code, start = str(row[0]), row[1]
    start = date.fromisoformat(start) if isinstance(start, str) else start
    before = start - timedelta(days=1)
    page = await client.get(f"/practitioners/{code}", params={"on": before.isoformat()})
    assert page.status_code == 200 and f"查询的是 {before} 当日的状态" in page.text
    assert f"将于 {start} 起暂停" in page.text
    api = await client.get(
        f"/api/v1/practitioners/{code}/status", params={"on": before.isoformat()}
    )
    assert api.json()["status"] == "normal"
    if start > china_today():  # the demo decided it for next month: today says so too
        today = await client.get(f"/practitioners/{code}")
        assert f"将于 {start} 起暂停" in today.text
    bad = await client.get(f"/practitioners/{code}", params={"on": "2025/01/01"})
    assert bad.status_code == 400
