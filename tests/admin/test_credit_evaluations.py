"""``/admin/credit/evaluations``: runs and counts for those who read credit; preview,
commit and publish for the credit officer of the region and the province administrator
(Hunan-Credit Art. 20-22); the health commission's opinion (Art. 21)."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from tests.admin.conftest import Places, post_form, token_in

PATH = "/admin/credit/evaluations"


async def finished(client: Any, response: Any) -> str:
    """Follow a started run to its job page and poll it (as htmx does) until it is done."""
    assert response.status_code == 303, response.text[:300]
    location = response.headers["location"]
    assert location.startswith(f"{PATH}/jobs/")
    for _ in range(200):
        page = await client.get(location, headers={"HX-Request": "true"})
        assert page.status_code == 200
        if "every 1s" not in page.text:
            full = await client.get(location)
            return str(full.text)
        await asyncio.sleep(0.05)
    raise AssertionError("the run did not finish")


def runs(admin_url: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(admin_url.removeprefix("sqlite:///")) as conn:
        return conn.execute("SELECT year, region, state FROM credit_run ORDER BY id").fetchall()


async def test_the_credit_officer_commits_and_publishes_its_region(
    as_user: Any, admin_url: str
) -> None:
    client = await as_user("chenjing")
    page = await client.get(PATH)
    assert page.status_code == 200 and "尚无年度信用评价" in page.text
    token = token_in(page.text)
    done = await post_form(client, PATH, {"action": "commit", "year": "2025", "region": "4301",
                                          "form_token": token})  # fmt: skip
    text = await finished(client, done)
    assert "已提交" in text and "<svg" in text and "待征求意见" in text
    again = await post_form(client, PATH, {"action": "commit", "year": "2025", "region": "4301",
                                           "form_token": token})  # fmt: skip
    assert again.status_code == 303  # the same form twice records nothing twice
    assert runs(admin_url) == [(2025, "4301", "committed")]
    page = await client.get(PATH)
    published = await post_form(client, PATH, {"action": "publish", "year": "2025",
                                               "form_token": token_in(page.text)})  # fmt: skip
    assert published.status_code == 200 and "已发布" in published.text
    assert runs(admin_url) == [(2025, "4301", "published")]


async def test_refusals_outside_the_region_and_bad_years(as_user: Any, admin_url: str) -> None:
    client = await as_user("chenjing")
    page = await client.get(PATH)
    outside = await post_form(client, PATH, {"action": "commit", "year": "2025", "region": "43",
                                             "form_token": token_in(page.text)})  # fmt: skip
    assert outside.status_code == 403
    page = await client.get(PATH)
    future = await post_form(client, PATH, {"action": "preview", "year": "2999",
                                            "form_token": token_in(page.text)})  # fmt: skip
    assert future.status_code == 400 and "尚未结束" in future.text
    page = await client.get(PATH)
    unpublished = await post_form(client, PATH, {"action": "publish", "year": "2025",
                                                 "form_token": token_in(page.text)})  # fmt: skip
    assert unpublished.status_code == 400 and "尚未提交" in unpublished.text
    assert runs(admin_url) == []


async def test_readers_read_and_may_not_decide(as_user: Any, admin_url: str) -> None:
    for username in ("liming", "sunli"):
        client = await as_user(username)
        page = await client.get(PATH)
        assert page.status_code == 200 and "评价一个年度" not in page.text
        refused = await post_form(client, PATH, {"action": "commit", "year": "2025",
                                                 "form_token": f"t-{username}"})  # fmt: skip
        assert refused.status_code == 403
        await post_form(client, "/admin/logout", {})
    assert runs(admin_url) == []


async def test_the_province_admin_previews_the_province(as_user: Any, admin_url: str) -> None:
    client = await as_user("zhoumin")
    page = await client.get(PATH)
    shown = await post_form(client, PATH, {"action": "preview", "year": "2025", "region": "43",
                                           "form_token": token_in(page.text)})  # fmt: skip
    done = await finished(client, shown)
    assert "预览完成" in done
    assert runs(admin_url) == [(2025, "43", "previewed")]
    # Exclusions in the regulation's words (Art. 20), never as identifiers.
    assert "short_period" not in done and "no_fund_use" not in done
    assert "涉及医保基金使用不满一个评价年度 5" in done


async def test_csrf_and_login_are_required(site: Any, as_user: Any, admin_url: str) -> None:
    stranger = await site.post(PATH, data={"action": "commit", "year": "2025"},
                               follow_redirects=False)  # fmt: skip
    assert stranger.status_code in (303, 403)
    client = await as_user("chenjing")
    page = await client.get(PATH)
    form = {"action": "commit", "year": "2025", "form_token": token_in(page.text)}
    forged = await post_form(client, PATH, form, csrf=False)
    assert forged.status_code == 403 and runs(admin_url) == []


async def test_consultations_within_scope(as_user: Any, places: Places, admin_url: str) -> None:
    client = await as_user("chenjing")
    page = await client.get(PATH)
    outside = await post_form(client, "/admin/credit/consultations", {
        "year": "2025", "institution_code": places.yueyang_hospital, "opinion": "同意",
        "form_token": token_in(page.text)})  # fmt: skip
    # out of scope: the form again (400), the field named, what was typed kept
    assert outside.status_code == 400
    assert (
        "不在您的管辖范围内" in outside.text
        and f'value="{places.yueyang_hospital}"' in outside.text
    )
    assert "同意</textarea>" in outside.text
    page = await client.get(PATH)
    ok = await post_form(client, "/admin/credit/consultations", {
        "year": "2025", "institution_code": places.changsha_hospital, "opinion": "无不同意见",
        "form_token": token_in(page.text)})  # fmt: skip
    assert ok.status_code == 303
    with sqlite3.connect(admin_url.removeprefix("sqlite:///")) as conn:
        rows = conn.execute(
            "SELECT institution_code, recorded_by FROM credit_consultation"
        ).fetchall()
    assert rows == [(places.changsha_hospital, "chenjing")]
    auditor = await as_user("sunli")
    page = await auditor.get(PATH)
    refused = await post_form(auditor, "/admin/credit/consultations", {
        "year": "2025", "institution_code": places.changsha_hospital, "opinion": "x",
        "form_token": "t-sunli"})  # fmt: skip
    assert refused.status_code == 403


async def test_a_job_page_is_its_officers_only(as_user: Any) -> None:
    client = await as_user("chenjing")
    page = await client.get(PATH)
    started = await post_form(client, PATH, {"action": "preview", "year": "2025",
                                             "form_token": token_in(page.text)})  # fmt: skip
    await finished(client, started)
    location = started.headers["location"]
    await post_form(client, "/admin/logout", {})
    other = await as_user("zhoumin")
    assert (await other.get(location)).status_code == 404
    assert (await other.get(f"{PATH}/jobs/999999")).status_code == 404
