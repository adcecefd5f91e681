"""``/admin/credit/catalogues``: every credit reader reads the indicator catalogue; only
CREDIT_DECIDE over the whole province (the province administrator) drafts, edits,
previews and publishes it (Hunan-Credit Art. 18: the provincial bureau sets the
indicators); a city's credit officer reads only."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from tests.admin.conftest import post_form, token_in

PATH = "/admin/credit/catalogues"


def rows(admin_url: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(admin_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(
            "SELECT year, subject_kind, version, state, is_default FROM credit_catalogue "
            "ORDER BY id"
        ).fetchall()


async def _draft(client: Any) -> str:
    page = await client.get(PATH)
    made = await post_form(client, PATH, {"year": "2025", "subject_kind": "practitioner",
                                          "form_token": token_in(page.text)})  # fmt: skip
    assert made.status_code == 303, made.text[:300]
    location = str(made.headers["location"])
    assert re.fullmatch(rf"{PATH}/\d+", location)
    return location


async def test_the_province_drafts_edits_previews_and_publishes(
    as_user: Any, admin_url: str
) -> None:
    client = await as_user("zhoumin")
    page = await client.get(PATH)
    assert page.status_code == 200 and "系统默认目录" in page.text and "default-2024" in page.text
    location = await _draft(client)
    assert rows(admin_url) == [(2025, "practitioner", 0, "published", 1),
                               (2025, "practitioner", 1, "draft", 0)]  # fmt: skip
    page = await client.get(location)
    assert page.status_code == 200 and "草稿" in page.text and "practitioner_points" in page.text
    bad = await post_form(client, f"{location}/indicators", {
        "indicator": "late_report", "module": "deduction", "points": "五", "cap": "",
        "title": "资料报送不及时", "ref": "湖南信用办法第十四条", "form_token": token_in(page.text),
    })  # fmt: skip
    assert bad.status_code == 400
    assert 'id="i-points-error"' in bad.text and "分值应为数字" in bad.text
    assert 'value="资料报送不及时"' in bad.text  # what was typed stays
    good = await post_form(client, f"{location}/indicators", {
        "indicator": "late_report", "module": "deduction", "points": "5", "cap": "10",
        "title": "资料报送不及时", "ref": "湖南信用办法第十四条", "form_token": token_in(bad.text),
    })  # fmt: skip
    assert good.status_code == 303
    page = await client.get(location)
    assert 'id="indicator-late_report"' in page.text and "资料报送不及时" in page.text
    tried = await post_form(client, f"{location}/preview", {})
    assert tried.status_code == 200 and "预览：2025 年度" in tried.text
    assert "现行 default-2024" in tried.text
    published = await post_form(client, f"{location}/publish",
                                {"form_token": token_in(tried.text)})  # fmt: skip
    assert published.status_code == 303
    page = await client.get(location)
    assert "已发布" in page.text and "保存指标" not in page.text
    assert rows(admin_url)[-1] == (2025, "practitioner", 1, "published", 0)
    later = await post_form(client, f"{location}/indicators", {
        "indicator": "late_report", "module": "deduction", "points": "1", "title": "x",
        "ref": "y", "form_token": "fresh-token-1",
    })  # fmt: skip
    assert later.status_code == 400 and "不能修改" in later.text


async def test_the_same_form_twice_makes_one_draft(as_user: Any, admin_url: str) -> None:
    client = await as_user("zhoumin")
    page = await client.get(PATH)
    data = {"year": "2026", "subject_kind": "hospital_doctor", "form_token": token_in(page.text)}
    first = await post_form(client, PATH, data)
    second = await post_form(client, PATH, data)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert [r[2] for r in rows(admin_url)] == [0, 1]


async def test_bad_input_is_answered_next_to_the_field(as_user: Any, admin_url: str) -> None:
    client = await as_user("zhoumin")
    page = await client.get(PATH)
    bad = await post_form(client, PATH, {"year": "20x5", "subject_kind": "practitioner",
                                         "form_token": token_in(page.text)})  # fmt: skip
    assert bad.status_code == 400 and 'id="n-year-error"' in bad.text and 'value="20x5"' in bad.text
    assert rows(admin_url) == []


async def test_readers_read_and_a_citys_credit_officer_may_not_change(
    as_user: Any, admin_url: str
) -> None:
    client = await as_user("zhoumin")
    location = await _draft(client)
    await client.get("/admin/logout")
    for username in ("chenjing", "liming", "zhaoqiang", "liuyang", "sunli"):
        client = await as_user(username)
        page = await client.get(PATH)
        assert page.status_code == 200 and "新建草稿" not in page.text, username
        detail = await client.get(location)
        assert detail.status_code == 200 and "保存指标" not in detail.text, username
        for path, data in (
            (PATH, {"year": "2025", "subject_kind": "designated_hospital"}),
            (f"{location}/indicators", {"remove": "commendation"}),
            (f"{location}/preview", {}),
            (f"{location}/publish", {}),
        ):
            refused = await post_form(client, path, {**data, "form_token": f"t-{username}"})
            assert refused.status_code == 403, (username, path)
        await client.get("/admin/logout")
    assert [r[3] for r in rows(admin_url)] == ["published", "draft"]


async def test_an_unknown_version_is_404(as_user: Any) -> None:
    client = await as_user("zhoumin")
    assert (await client.get(f"{PATH}/999")).status_code == 404
    refused = await post_form(client, f"{PATH}/999/publish", {"form_token": "t-404"})
    assert refused.status_code == 404
