"""The audit and query logs in the admin: read by the auditor and the provincial
administrator only, searchable, paginated, newest first."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from portal.clock import CHINA
from portal.db import make_engine, session_scope
from portal.services.accounts import deactivate, get_account
from portal.services.querylog import record_query
from portal.services.registry import Act, audit
from tests.admin.conftest import Places, log_in, post_form

LOOKED = datetime(2025, 6, 2, 2, 0, tzinfo=UTC)  # 10:00 in China


def _cells(html: str, label: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(rf'<td data-label="{label}">(.*?)</td>', html, re.S)
    ]


def _write(admin_url: str, work: Any) -> None:
    engine = make_engine(admin_url)
    with session_scope(engine, write=True) as session:
        work(session)
    engine.dispose()


def _looks(admin_url: str, places: Places) -> None:
    def work(session: Any) -> None:
        record_query(session, Act("liming", LOOKED, "查询"), subject=places.changsha_doctor,
                     what="private_data", purpose="核实申诉人身份")  # fmt: skip
        record_query(session, Act("wangfang", LOOKED + timedelta(days=3), "查询"),
                     subject=places.yueyang_doctor, what="full_history",
                     purpose="复核记分修复申请")  # fmt: skip

    _write(admin_url, work)


async def test_the_auditor_reads_the_audit_log_newest_first(as_user: Any) -> None:
    site = await as_user("sunli")
    page = await site.get("/admin/audit")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    actors, actions = _cells(page.text, "操作人"), _cells(page.text, "操作")
    assert actors[0] == "sunli" and actions[0].startswith("登录")  # this very login
    # setup: 3 institutions, 3 practitioners, 3 registrations, 7 accounts
    assert actors.count("setup") == 16
    numbers = [int(n.lstrip("#").split("（")[0]) for n in _cells(page.text, "序号")]
    assert numbers == sorted(numbers, reverse=True)
    assert "链头记录 17 条" in page.text


async def test_the_province_admin_reads_both_logs(as_user: Any) -> None:
    site = await as_user("zhoumin")
    assert (await site.get("/admin/audit")).status_code == 200
    assert (await site.get("/admin/queries")).status_code == 200


async def test_other_roles_get_403(site: AsyncTestClient[Any]) -> None:
    for username in ("liming", "zhaoqiang", "chenjing", "liuyang"):
        site.cookies.clear()
        await log_in(site, username)
        for path in ("/admin/audit", "/admin/queries", "/admin/audit?actor=setup&page=2"):
            response = await site.get(path)
            assert response.status_code == 403, (username, path)
            assert "setup" not in response.text
        dashboard = await site.get("/admin/")
        assert 'href="/admin/audit"' not in dashboard.text


async def test_strangers_go_to_the_login_page(site: AsyncTestClient[Any]) -> None:
    for path in ("/admin/audit", "/admin/queries"):
        response = await site.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/login?next=")


async def test_it_searches_the_audit_log(as_user: Any, places: Places) -> None:
    site = await as_user("sunli")

    async def actors(query: str) -> list[str]:
        page = await site.get(f"/admin/audit?{query}")
        assert page.status_code == 200, page.text[:300]
        return _cells(page.text, "操作人")

    assert set(await actors("actor=setup")) == {"setup"}
    assert len(await actors("actor=setup")) == 16
    assert len(await actors("action=create_account")) == 7
    assert len(await actors("action=create")) == 13  # create, create_account: a beginning
    assert len(await actors("entity=practitioner")) == 3
    found = await site.get(f"/admin/audit?q={places.yueyang_doctor}")
    assert _cells(found.text, "对象") == ["医保相关人员 #3"]
    assert len(await actors("entity=user_account&entity_id=6")) == 2  # sunli: created, login
    assert len(await actors("from=2025-03-01&to=2025-03-01")) == 16  # the setup day
    today = datetime.now(CHINA).date().isoformat()
    assert await actors(f"from={today}") == ["sunli"]
    assert await actors("actor=nobody") == []


async def test_it_answers_400_for_a_bad_search(as_user: Any) -> None:
    site = await as_user("sunli")
    for query, field in (("from=2025-3-1", "from"), ("to=yesterday", "to"),
                         ("from=2025-03-02&to=2025-03-01", "to"), ("entity_id=x", "entity_id"),
                         ("page=0", "page")):  # fmt: skip
        response = await site.get(f"/admin/audit?{query}")
        assert response.status_code == 400, query
        assert f"有误的字段：<code>{field}</code>" in response.text
    assert (await site.get("/admin/queries?what=everything")).status_code == 400


async def test_it_pages_the_audit_log(as_user: Any, admin_url: str) -> None:
    act = Act("bulk-officer", datetime.now(UTC), "批量")

    def work(session: Any) -> None:
        for n in range(60):
            audit(session, act, "test_entry", "practitioner", None, n=n)

    _write(admin_url, work)
    site = await as_user("sunli")
    first = await site.get("/admin/audit?actor=bulk-officer")
    assert len(_cells(first.text, "序号")) == 50 and "共 60 条" in first.text
    assert "第 1 页 / 共 2 页" in first.text
    assert 'href="/admin/audit?actor=bulk-officer&amp;page=2"' in first.text
    second = await site.get("/admin/audit?actor=bulk-officer&page=2")
    assert len(_cells(second.text, "序号")) == 10 and "上一页" in second.text
    assert _cells(second.text, "详情")[-1] == "n：0"  # the oldest last
    assert (await site.get("/admin/audit?actor=bulk-officer&page=3")).status_code == 404


async def test_it_shows_before_and_after(as_user: Any, admin_url: str) -> None:
    def work(session: Any) -> None:
        deactivate(session, Act("zhoumin", datetime.now(UTC), "离职"),
                   get_account(session, "wangfang"))  # fmt: skip

    _write(admin_url, work)
    site = await as_user("sunli")
    page = await site.get("/admin/audit?action=deactivate_account")
    assert _cells(page.text, "操作") == ["停用账号 deactivate_account"]
    assert _cells(page.text, "理由") == ["离职"]
    assert "state：active → deactivated" in _cells(page.text, "详情")[0]


async def test_the_auditor_reads_and_searches_the_query_log(
    as_user: Any, admin_url: str, places: Places
) -> None:
    _looks(admin_url, places)
    site = await as_user("sunli")
    page = await site.get("/admin/queries")
    assert page.status_code == 200
    assert _cells(page.text, "查询人") == ["wangfang", "liming"]  # newest first
    assert _cells(page.text, "查询目的") == ["复核记分修复申请", "核实申诉人身份"]
    assert _cells(page.text, "时间")[1] == "2025-06-02 10:00:00"  # China time
    assert "身份证件号码（脱敏）" in _cells(page.text, "查询内容")[1]

    async def subjects(query: str) -> list[str]:
        found = await site.get(f"/admin/queries?{query}")
        assert found.status_code == 200, found.text[:300]
        return _cells(found.text, "查询对象")

    assert await subjects("actor=liming") == [places.changsha_doctor]
    assert await subjects(f"subject={places.yueyang_doctor.lower()}") == [places.yueyang_doctor]
    assert await subjects("what=private_data") == [places.changsha_doctor]
    assert await subjects("from=2025-06-02&to=2025-06-02") == [places.changsha_doctor]
    assert await subjects("from=2025-06-03") == [places.yueyang_doctor]
    assert await subjects("to=2025-06-01") == []
    assert (await site.get("/admin/queries?page=2")).status_code == 404


async def test_a_look_at_a_practitioners_private_data_is_listed_with_its_purpose(
    site: AsyncTestClient[Any], places: Places
) -> None:
    await log_in(site, "liming")
    code = places.changsha_doctor
    await site.get(f"/admin/practitioners/{code}")
    looked = await post_form(
        site, f"/admin/practitioners/{code}/private",
        {"purpose": "核实申诉人身份信息", "what": "private_data"},
    )  # fmt: skip
    assert looked.status_code == 200, looked.text[:300]
    site.cookies.clear()
    await log_in(site, "sunli")
    page = await site.get(f"/admin/queries?subject={code}")
    assert _cells(page.text, "查询人") == ["liming"]
    assert _cells(page.text, "查询目的") == ["核实申诉人身份信息"]
