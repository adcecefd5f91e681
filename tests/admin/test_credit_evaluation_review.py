"""Review fixes of the annual run's admin: numbers in other scripts, counties, exclusions,
the health-commission CSV (Art. 21) and an interrupted run."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.admin.conftest import Places, post_form, token_in
from tests.admin.test_credit_evaluations import PATH, finished, runs

BAD_YEARS = ["²", "２０２５", "1_0"]


@pytest.mark.parametrize("year", BAD_YEARS)
async def test_years_in_other_scripts_are_refused(as_user: Any, admin_url: str, year: str) -> None:
    client = await as_user("chenjing")
    page = await client.get(PATH)
    run = await post_form(client, PATH, {"action": "preview", "year": year, "region": "4301",
                                         "form_token": token_in(page.text)})  # fmt: skip
    assert run.status_code == 400 and "评价年度应为 4 位半角数字" in run.text
    page = await client.get(PATH)
    consulted = await post_form(client, "/admin/credit/consultations", {
        "year": year, "institution_code": "H43010200001", "opinion": "同意",
        "form_token": token_in(page.text)})  # fmt: skip
    assert consulted.status_code == 400 and "半角" in consulted.text
    assert runs(admin_url) == []
    with sqlite3.connect(admin_url.removeprefix("sqlite:///")) as conn:
        assert conn.execute("SELECT count(*) FROM credit_consultation").fetchone() == (0,)


@pytest.mark.parametrize("year", BAD_YEARS)
async def test_catalogue_year_in_other_scripts(as_user: Any, admin_url: str, year: str) -> None:
    client = await as_user("zhoumin")
    page = await client.get("/admin/credit/catalogues")
    created = await post_form(
        client,
        "/admin/credit/catalogues",
        {"year": year, "subject_kind": "practitioner", "form_token": token_in(page.text)},
    )
    assert created.status_code == 400 and "半角" in created.text
    with sqlite3.connect(admin_url.removeprefix("sqlite:///")) as conn:
        assert conn.execute("SELECT count(*) FROM credit_catalogue").fetchone() == (0,)


async def test_a_county_is_refused_art_21(as_user: Any, admin_url: str) -> None:
    client = await as_user("zhoumin")
    page = await client.get(PATH)
    county = await post_form(client, PATH, {"action": "preview", "year": "2025",
                                            "region": "430102",
                                            "form_token": token_in(page.text)})  # fmt: skip
    assert (
        county.status_code == 400
        and "第二十一条" in county.text
        and 'value="430102"' in county.text
    )
    assert runs(admin_url) == []


async def test_an_exclusion_is_recorded_and_applied(as_user: Any, places: Places) -> None:
    client = await as_user("chenjing")
    page = await client.get(PATH)
    recorded = await post_form(client, "/admin/credit/exclusions", {
        "year": "2025", "subject_kind": "practitioner", "subject_key": places.changsha_nurse,
        "ground": "under_investigation", "reason": "公安机关立案侦查",
        "form_token": token_in(page.text)})  # fmt: skip
    assert recorded.status_code == 303
    page = await client.get(PATH)
    outside = await post_form(client, "/admin/credit/exclusions", {
        "year": "2025", "subject_kind": "designated_hospital",
        "subject_key": places.yueyang_hospital, "ground": "excluded_other", "reason": "x",
        "form_token": token_in(page.text)})  # fmt: skip
    assert outside.status_code == 400 and "不在您的管辖范围内" in outside.text
    page = await client.get(PATH)
    done = await post_form(client, PATH, {"action": "preview", "year": "2025", "region": "4301",
                                          "form_token": token_in(page.text)})  # fmt: skip
    text = await finished(client, done)
    assert "涉嫌违法犯罪被立案查处尚未结案" in text and places.changsha_nurse in text
    assert "4301 长沙市" in text and "按信用主体类型" in text
    auditor = await as_user("sunli")
    page = await auditor.get(PATH)
    refused = await post_form(auditor, "/admin/credit/exclusions", {
        "year": "2025", "subject_kind": "practitioner", "subject_key": places.changsha_nurse,
        "ground": "excluded_other", "reason": "x", "form_token": "t-x"})  # fmt: skip
    assert refused.status_code == 403


async def test_health_commission_csv(as_user: Any, places: Places, admin_url: str) -> None:
    client = await as_user("chenjing")
    page = await client.get(PATH)
    done = await post_form(client, PATH, {"action": "commit", "year": "2025", "region": "4301",
                                          "form_token": token_in(page.text)})  # fmt: skip
    await finished(client, done)
    with sqlite3.connect(admin_url.removeprefix("sqlite:///")) as conn:
        run_id = conn.execute("SELECT id FROM credit_run").fetchone()[0]
        conn.execute("UPDATE institution SET name = '=HYPERLINK(1)' WHERE code = ?",
                     (places.changsha_hospital,))  # fmt: skip
    listing = await client.get(PATH)
    url = f"{PATH}/{run_id}/health-commission.csv"
    assert url in listing.text
    got = await client.get(url)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    lines = got.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "code,name,region,grade,score,state"
    assert any(places.changsha_hospital in line and "'=HYPERLINK(1)" in line for line in lines)
    assert all(places.changsha_pharmacy not in line for line in lines)  # medical only
    reader = await as_user("sunli")
    assert (await reader.get(url)).status_code == 200
    listing = await reader.get(PATH)
    assert "<summary>按市州、类型</summary>" in listing.text and "4301 长沙市" in listing.text
    other = await as_user("wangfang")  # 岳阳: out of scope
    assert (await other.get(url)).status_code == 404
    institution = await as_user("liuyang")  # own institution only: not the region's results
    assert (await institution.get(url)).status_code == 404
    assert (await client.get(f"{PATH}/999999/health-commission.csv")).status_code == 404


async def test_an_interrupted_run_stops_polling_and_may_run_again(
    as_user: Any, admin_url: str
) -> None:
    client = await as_user("chenjing")
    old = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    note = json.dumps({"action": "commit", "year": 2025, "region": "4301", "heartbeat": old})
    with sqlite3.connect(admin_url.removeprefix("sqlite:///")) as conn:
        job_id = conn.execute(
            "INSERT INTO job (kind, state, done, summary, actor, started_at) "
            "VALUES ('credit_evaluate', 'running', 10, ?, 'chenjing', ?)", (note, old)
        ).lastrowid  # fmt: skip
    page = await client.get(f"{PATH}/jobs/{job_id}", headers={"HX-Request": "true"})
    assert "已中断（未写入任何结果，可重新运行）" in page.text and "every 1s" not in page.text
    page = await client.get(PATH)
    again = await post_form(client, PATH, {"action": "commit", "year": "2025", "region": "4301",
                                           "form_token": token_in(page.text)})  # fmt: skip
    assert "已提交" in await finished(client, again)


@pytest.mark.parametrize("typed", ["²", "１２", "1_0", "١٢"])
async def test_points_and_cap_in_other_scripts(as_user: Any, admin_url: str, typed: str) -> None:
    client = await as_user("zhoumin")
    page = await client.get("/admin/credit/catalogues")
    made = await post_form(
        client,
        "/admin/credit/catalogues",
        {"year": "2025", "subject_kind": "practitioner", "form_token": token_in(page.text)},
    )
    location = str(made.headers["location"])
    for field, points, cap in (("points", typed, ""), ("cap", "0.5", typed)):
        page = await client.get(location)
        bad = await post_form(client, f"{location}/indicators", {
            "indicator": "late_report", "module": "deduction", "points": points, "cap": cap,
            "title": "资料报送不及时", "ref": "湖南信用办法第十四条",
            "form_token": token_in(page.text)})  # fmt: skip
        assert bad.status_code == 400 and f'id="i-{field}-error"' in bad.text
        assert "late_report" not in (await client.get(location)).text.split("<form")[0]
