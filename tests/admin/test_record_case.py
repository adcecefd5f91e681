"""Recording a case: the preview, the save, rights, scope, CSRF, double submission, errors,
corrections."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import func
from sqlmodel import Session, select

from portal.db import make_engine
from portal.models import Decision, LedgerEntry
from tests.admin.conftest import Places, post_form, token_in

CASE = {
    "decision_type": "agreement_action",
    "institution_code": "H43010200001",
    "legal_basis": "服务协议第三十八条",
    "document_no": "湘医保协〔2025〕88号",
    "decision_date": "2025-09-19",
    "amount": "",
    "p0_code": "D43010200001",
    "p0_points": "10",
    "p1_code": "N43010200002",
    "p1_tier": "1",
    "p1_responsibility": "main",
}


def _count(url: str, model: Any) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        n = int(session.exec(select(func.count()).select_from(model)).one())
    engine.dispose()
    return n


async def _form(site: AsyncTestClient[Any]) -> str:
    page = await site.get("/admin/cases/new")
    assert page.status_code == 200
    return token_in(page.text)


async def test_it_previews_without_saving(as_user: Any, admin_url: str) -> None:
    site = await as_user("liming")
    await _form(site)
    before = _count(admin_url, LedgerEntry)
    preview = await post_form(site, "/admin/cases/preview", CASE)
    assert preview.status_code == 200
    text = preview.text
    assert "本次记分 <strong>10</strong> 分" in text and "暂停" in text
    assert "2025-10-01 至 2026-01-31" in text  # Hunan: from the next month, 4 months
    assert "本次记分 <strong>3</strong> 分" in text  # tier 1, main responsibility
    assert "Hunan-Rules Art. 9" in text
    assert _count(admin_url, LedgerEntry) == before and _count(admin_url, Decision) == 0


async def test_the_preview_names_a_bad_field(as_user: Any) -> None:
    site = await as_user("liming")
    await _form(site)
    preview = await post_form(site, "/admin/cases/preview", {**CASE, "p0_points": "13"})
    assert preview.status_code == 200 and "p0_points" in preview.text


async def test_it_records_the_case_and_shows_it(as_user: Any, admin_url: str) -> None:
    site = await as_user("liming")
    token = await _form(site)
    saved = await post_form(site, "/admin/cases", {**CASE, "form_token": token})
    assert saved.status_code == 303 and saved.headers["location"].startswith("/admin/cases/")
    page = await site.get(saved.headers["location"])
    assert page.status_code == 200 and "湘医保协〔2025〕88号" in page.text
    assert "张伟" in page.text and "10 分" in page.text and "出具通知书" in page.text
    assert _count(admin_url, Decision) == 1 and _count(admin_url, LedgerEntry) == 2


async def test_a_double_submission_records_once(as_user: Any, admin_url: str) -> None:
    site = await as_user("liming")
    token = await _form(site)
    first = await post_form(site, "/admin/cases", {**CASE, "form_token": token})
    second = await post_form(site, "/admin/cases", {**CASE, "form_token": token})
    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == first.headers["location"]
    assert _count(admin_url, Decision) == 1


async def test_bad_input_keeps_what_was_typed(as_user: Any, admin_url: str) -> None:
    site = await as_user("liming")
    token = await _form(site)
    bad = await post_form(
        site, "/admin/cases", {**CASE, "form_token": token, "p1_responsibility": "", "p1_tier": "1"}
    )
    assert bad.status_code == 400
    assert 'value="湘医保协〔2025〕88号"' in bad.text and 'value="服务协议第三十八条"' in bad.text
    assert 'id="p1_responsibility"' in bad.text and 'aria-invalid="true"' in bad.text
    assert _count(admin_url, Decision) == 0
    missing = await post_form(
        site, "/admin/cases", {**CASE, "form_token": token_in(bad.text), "decision_date": ""}
    )
    assert missing.status_code == 400 and "请填写处理决定日期" in missing.text


async def test_it_requires_csrf(as_user: Any, admin_url: str) -> None:
    site = await as_user("liming")
    token = await _form(site)
    refused = await post_form(site, "/admin/cases", {**CASE, "form_token": token}, csrf=False)
    assert refused.status_code == 403 and _count(admin_url, Decision) == 0


async def test_it_hides_other_regions(as_user: Any, admin_url: str, places: Places) -> None:
    site = await as_user("wangfang")  # 岳阳市: the 长沙 hospital and doctor are not hers
    token = await _form(site)
    assert places.changsha_hospital not in (await site.get("/admin/cases/new")).text
    refused = await post_form(site, "/admin/cases", {**CASE, "form_token": token})
    assert refused.status_code == 404 and _count(admin_url, Decision) == 0
    own = {**CASE, "institution_code": places.yueyang_hospital, "p0_code": places.changsha_doctor}
    foreign_person = await post_form(site, "/admin/cases", {**own, "form_token": token})
    assert foreign_person.status_code in (400, 404) and _count(admin_url, Decision) == 0


async def test_auditor_cannot_post(as_user: Any, admin_url: str) -> None:
    site = await as_user("sunli")
    assert (await site.get("/admin/cases/new")).status_code == 403
    refused = await post_form(site, "/admin/cases", {**CASE, "form_token": "x" * 20})
    assert refused.status_code == 403 and _count(admin_url, Decision) == 0


async def test_the_administrative_department_records_penalties_only(
    as_user: Any, admin_url: str
) -> None:
    site = await as_user("zhaoqiang")
    token = await _form(site)
    agreement = await post_form(site, "/admin/cases", {**CASE, "form_token": token})
    assert agreement.status_code == 403
    penalty = {**CASE, "decision_type": "administrative_penalty", "form_token": token,
               "legal_basis": "《医疗保障基金使用监督管理条例》第三十八条"}  # fmt: skip
    assert (await post_form(site, "/admin/cases", penalty)).status_code == 303


async def test_a_correction_supersedes_and_a_void_withdraws(as_user: Any, admin_url: str) -> None:
    site = await as_user("liming")
    saved = await post_form(site, "/admin/cases", {**CASE, "form_token": await _form(site)})
    case_url = saved.headers["location"]
    engine = make_engine(admin_url)
    with Session(engine) as session:
        first = session.exec(select(LedgerEntry).order_by(LedgerEntry.id)).first()  # type: ignore[arg-type]
        assert first is not None
    page = await site.get(case_url)
    token = token_in(page.text)
    fields = {"entry_id": first.id, "action": "points", "points": "6", "form_token": token}
    no_reason = await post_form(site, f"{case_url}/corrections", {**fields, "reason": ""})
    assert no_reason.status_code == 400 and "理由" in no_reason.text
    done = await post_form(
        site, f"{case_url}/corrections",
        {"entry_id": first.id, "action": "points", "points": "6", "reason": "申诉后复核",
         "form_token": token_in((await site.get(case_url)).text)},
    )  # fmt: skip
    assert done.status_code == 303
    with Session(engine) as session:
        rows = session.exec(select(LedgerEntry).order_by(LedgerEntry.id)).all()  # type: ignore[arg-type]
    assert len(rows) == 3 and rows[-1].supersedes_id == first.id  # the old entry stays
    engine.dispose()
    page = await site.get(case_url)
    assert "已被更正或作废" in page.text and "申诉后复核" in page.text
