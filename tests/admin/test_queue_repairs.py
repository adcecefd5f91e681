"""The repairs queue: applications on a practitioner's behalf, the institution's opinion,
then the agency's decision tried on the engine (Hunan-Rules Art. 12; National-Procedure
Art. 38; RULES §7)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from portal.db import make_engine, session_scope
from portal.models import AuditLog, CreditResult, CreditRun, LedgerEntry, RepairApplication
from portal.services.ledger import Finding, record_case, status_on
from portal.services.registry import Act
from portal.services.repairs import apply_repair, decide_repair
from tests.admin.conftest import Places, log_in, post_form, token_in

OFFICE = Act("setup", datetime(2025, 5, 6, 2, 0, tzinfo=UTC), "依法处理")


def _case(url: str, no: str, code: str, points: int, day: date = date(2025, 5, 6),
          institution: str = "H43010200001") -> None:  # fmt: skip
    engine = make_engine(url)
    with session_scope(engine, write=True) as session:
        record_case(
            session, OFFICE, institution_code=institution, decision_type="agreement_action",
            legal_basis="服务协议第三十八条", document_no=no, decision_date=day, amount=None,
            findings=[Finding(code, points=points)], as_of=day,
        )  # fmt: skip
    engine.dispose()


def _applied(url: str, code: str, day: date, route: str = "exam", param: str = "95",
             institution_step: bool = False) -> int:  # fmt: skip
    engine = make_engine(url)
    with session_scope(engine, write=True) as session:
        app = apply_repair(
            session, OFFICE, national_code=code, route=route, param=param, applied_on=day
        )
        if institution_step:
            decide_repair(session, OFFICE, app.id or 0, approve=True, on=day, level="institution")
        app_id = app.id or 0
    engine.dispose()
    return app_id


def _get(url: str, app_id: int) -> RepairApplication:
    engine = make_engine(url)
    with Session(engine) as session:
        app = session.get(RepairApplication, app_id)
        assert app is not None
    engine.dispose()
    return app


def _count(url: str, model: Any) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        n = int(session.exec(select(func.count()).select_from(model)).one())
    engine.dispose()
    return n


APPROVE = {"outcome": "approve", "decided_on": "2025-06-05", "reason": "考试成绩单已核验"}


async def _form(site: Any, app_id: int, level: str) -> str:
    page = await site.get(f"/admin/repairs/{app_id}")
    assert page.status_code == 200
    assert f'name="level" value="{level}"' in page.text
    return token_in(page.text)


async def test_it_lists_with_deadlines(as_user: Any, admin_url: str, places: Places) -> None:
    """The texts set no time limit for a repair: the longest waiting comes first, and the
    step it waits for is named."""
    _case(admin_url, "湘医保协〔2025〕51号", places.changsha_nurse, 6)
    older = _applied(admin_url, places.changsha_nurse, date(2025, 6, 2), institution_step=True)
    newer = _applied(admin_url, places.changsha_nurse, date(2025, 6, 9), "article", "city")
    site = await as_user("liming")
    page = await site.get("/admin/queues/repairs")
    assert page.status_code == 200
    text = page.text
    assert text.index(f'id="repair-{older}"') < text.index(f'id="repair-{newer}"')
    assert "待经办机构审核" in text and "待所在机构审核" in text and "未设时限" in text
    assert "医保政策考试" in text and "发表医保政策宣传文章：市级" in text
    decided = await site.get("/admin/queues/repairs?state=decided")
    assert f'id="repair-{older}"' not in decided.text


async def test_it_decides(as_user: Any, admin_url: str, places: Places) -> None:
    _case(admin_url, "湘医保协〔2025〕52号", places.changsha_nurse, 6)
    site = await as_user("liuyang")
    token = token_in((await site.get("/admin/queues/repairs")).text)
    applied = await post_form(site, "/admin/repairs", {
        "national_code": places.changsha_nurse, "route": "exam", "param": "95",
        "applied_on": "2025-06-02", "reason": "年度医保政策考试 95 分", "form_token": token,
    })  # fmt: skip
    assert applied.status_code == 303
    app_id = int(applied.headers["location"].rsplit("/", 1)[1])
    token = await _form(site, app_id, "institution")
    opinion = await post_form(site, f"/admin/repairs/{app_id}/decision", {
        "level": "institution", "outcome": "approve", "decided_on": "2025-06-03",
        "reason": "本院核实成绩无误", "form_token": token,
    })  # fmt: skip
    assert opinion.status_code == 303 and _get(admin_url, app_id).state == "institution_approved"

    await post_form(site, "/admin/logout", {})
    await log_in(site, "liming")
    before = _count(admin_url, LedgerEntry)
    token = await _form(site, app_id, "agency")
    done = await post_form(
        site, f"/admin/repairs/{app_id}/decision",
        {**APPROVE, "level": "agency", "form_token": token},
    )  # fmt: skip
    assert done.status_code == 303
    app = _get(admin_url, app_id)
    assert (app.state, app.granted, app.agency_decided_on) == ("approved", 3, date(2025, 6, 5))
    assert _count(admin_url, LedgerEntry) == before + 1
    engine = make_engine(admin_url)
    with Session(engine) as session:
        assert status_on(session, places.changsha_nurse, date(2025, 6, 5)).year_points == 3
        reasons = {a.action: a.reason for a in session.exec(select(AuditLog))}
    engine.dispose()
    assert reasons["decide_repair_institution"] == "本院核实成绩无误"
    assert reasons["decide_repair_agency"] == APPROVE["reason"]
    page = await site.get(f"/admin/repairs/{app_id}")
    assert "同意，减免 3 分" in page.text and "本院核实成绩无误" in page.text


async def test_the_engine_refuses_with_its_reason(
    as_user: Any, admin_url: str, places: Places
) -> None:
    """A second exam repair in a year is refused (Hunan-Rules Art. 12(1)); nothing enters the
    ledger and the page says why."""
    _case(admin_url, "湘医保协〔2025〕53号", places.changsha_nurse, 6)
    first = _applied(admin_url, places.changsha_nurse, date(2025, 6, 2), institution_step=True)
    second = _applied(admin_url, places.changsha_nurse, date(2025, 7, 1), institution_step=True)
    site = await as_user("liming")
    for app_id, day in ((first, "2025-06-05"), (second, "2025-07-02")):
        token = await _form(site, app_id, "agency")
        before = _count(admin_url, LedgerEntry)
        await post_form(site, f"/admin/repairs/{app_id}/decision", {
            **APPROVE, "decided_on": day, "level": "agency", "form_token": token,
        })  # fmt: skip
    assert _count(admin_url, LedgerEntry) == before
    assert (_get(admin_url, second).state, _get(admin_url, second).refusal) == (
        "refused", "该修复途径本年度已达上限",
    )  # fmt: skip
    page = await site.get(f"/admin/repairs/{second}")
    assert "未通过：该修复途径本年度已达上限" in page.text


async def test_it_requires_csrf(as_user: Any, admin_url: str, places: Places) -> None:
    _case(admin_url, "湘医保协〔2025〕54号", places.changsha_nurse, 6)
    app_id = _applied(admin_url, places.changsha_nurse, date(2025, 6, 2), institution_step=True)
    site = await as_user("liming")
    token = await _form(site, app_id, "agency")
    without = await post_form(
        site, f"/admin/repairs/{app_id}/decision",
        {**APPROVE, "level": "agency", "form_token": token}, csrf=False,
    )  # fmt: skip
    assert without.status_code == 403 and _get(admin_url, app_id).state == "institution_approved"


async def test_it_hides_other_regions(as_user: Any, admin_url: str, places: Places) -> None:
    _case(admin_url, "湘医保协〔2025〕55号", places.changsha_nurse, 6)
    app_id = _applied(admin_url, places.changsha_nurse, date(2025, 6, 2), institution_step=True)
    site = await as_user("wangfang")
    queue = await site.get("/admin/queues/repairs")
    assert queue.status_code == 200 and places.changsha_nurse not in queue.text
    assert (await site.get(f"/admin/repairs/{app_id}")).status_code == 404
    answer = await post_form(
        site, f"/admin/repairs/{app_id}/decision",
        {**APPROVE, "level": "agency", "form_token": token_in(queue.text)},
    )  # fmt: skip
    assert answer.status_code == 404 and _get(admin_url, app_id).state == "institution_approved"


async def test_auditor_cannot_post(as_user: Any, admin_url: str, places: Places) -> None:
    _case(admin_url, "湘医保协〔2025〕56号", places.changsha_nurse, 6)
    app_id = _applied(admin_url, places.changsha_nurse, date(2025, 6, 2))
    site = await as_user("sunli")
    page = await site.get(f"/admin/repairs/{app_id}")
    assert page.status_code == 200 and "/decision" not in page.text
    for level in ("institution", "agency"):
        answer = await post_form(
            site, f"/admin/repairs/{app_id}/decision",
            {**APPROVE, "level": level, "form_token": "t" * 20},
        )  # fmt: skip
        assert answer.status_code == 403
    applied = await post_form(site, "/admin/repairs", {
        "national_code": places.changsha_nurse, "route": "exam", "param": "95",
        "form_token": "t" * 20,
    })  # fmt: skip
    assert applied.status_code == 403
    assert _count(admin_url, RepairApplication) == 1 and _get(admin_url, app_id).state == "applied"


async def test_institution_admin_gives_only_the_first_step(
    as_user: Any, admin_url: str, places: Places
) -> None:
    _case(admin_url, "湘医保协〔2025〕57号", places.changsha_nurse, 6)
    _case(admin_url, "岳医保协〔2025〕3号", places.yueyang_doctor, 6,
          institution=places.yueyang_hospital)  # fmt: skip
    app_id = _applied(admin_url, places.changsha_nurse, date(2025, 6, 2))
    elsewhere = _applied(admin_url, places.yueyang_doctor, date(2025, 6, 2))
    site = await as_user("liuyang")
    assert (await site.get(f"/admin/repairs/{elsewhere}")).status_code == 404
    token = await _form(site, app_id, "institution")
    early = await post_form(
        site, f"/admin/repairs/{app_id}/decision",
        {**APPROVE, "level": "agency", "form_token": token},
    )  # fmt: skip
    assert early.status_code == 403 and _get(admin_url, app_id).state == "applied"
    opinion = await post_form(
        site, f"/admin/repairs/{app_id}/decision",
        {**APPROVE, "level": "institution", "form_token": token},
    )  # fmt: skip
    assert opinion.status_code == 303 and _get(admin_url, app_id).state == "institution_approved"
    page = await site.get(f"/admin/repairs/{app_id}")
    assert "/decision" not in page.text and "您的角色不能办理此步骤" in page.text
    again = await post_form(
        site, f"/admin/repairs/{app_id}/decision",
        {**APPROVE, "level": "agency", "form_token": "t" * 20},
    )  # fmt: skip
    assert again.status_code == 403 and _get(admin_url, app_id).state == "institution_approved"


async def test_the_agency_does_not_give_the_institution_s_opinion(
    as_user: Any, admin_url: str, places: Places
) -> None:
    _case(admin_url, "湘医保协〔2025〕58号", places.changsha_nurse, 6)
    app_id = _applied(admin_url, places.changsha_nurse, date(2025, 6, 2))
    site = await as_user("liming")
    page = await site.get(f"/admin/repairs/{app_id}")
    assert "/decision" not in page.text and "待所在机构审核" in page.text
    answer = await post_form(
        site, f"/admin/repairs/{app_id}/decision",
        {**APPROVE, "level": "institution", "form_token": "t" * 20},
    )  # fmt: skip
    assert answer.status_code == 403 and _get(admin_url, app_id).state == "applied"


async def test_a_double_submission_decides_once(
    as_user: Any, admin_url: str, places: Places
) -> None:
    _case(admin_url, "湘医保协〔2025〕59号", places.changsha_nurse, 6)
    site = await as_user("liuyang")
    token = token_in((await site.get("/admin/queues/repairs")).text)
    form = {"national_code": places.changsha_nurse, "route": "article", "param": "province",
            "applied_on": "2025-06-02", "form_token": token}  # fmt: skip
    first = await post_form(site, "/admin/repairs", form)
    again = await post_form(site, "/admin/repairs", form)
    assert first.status_code == again.status_code == 303
    assert _count(admin_url, RepairApplication) == 1

    app_id = _applied(admin_url, places.changsha_nurse, date(2025, 6, 3), institution_step=True)
    await post_form(site, "/admin/logout", {})
    await log_in(site, "liming")
    token = await _form(site, app_id, "agency")
    before = _count(admin_url, LedgerEntry)
    for _ in range(2):
        answer = await post_form(
            site, f"/admin/repairs/{app_id}/decision",
            {**APPROVE, "level": "agency", "form_token": token},
        )  # fmt: skip
        assert answer.status_code == 303
    assert _count(admin_url, LedgerEntry) == before + 1


async def test_bad_input_keeps_what_was_typed(as_user: Any, admin_url: str, places: Places) -> None:
    _case(admin_url, "湘医保协〔2025〕60号", places.changsha_nurse, 6)
    site = await as_user("liuyang")
    token = token_in((await site.get("/admin/queues/repairs")).text)
    bad = await post_form(site, "/admin/repairs", {
        "national_code": places.changsha_nurse, "route": "exam", "param": "九十五",
        "applied_on": "2025-06-02", "reason": "成绩单附后", "form_token": token,
    })  # fmt: skip
    assert bad.status_code == 400
    assert 'value="九十五"' in bad.text and 'id="file-param-error"' in bad.text
    assert "应为整数" in bad.text and "成绩单附后</textarea>" in bad.text
    assert '<option value="exam" selected>' in bad.text
    assert f'value="{places.changsha_nurse}"' in bad.text
    late_date = await post_form(site, "/admin/repairs", {
        "national_code": places.changsha_nurse, "route": "exam", "param": "95",
        "applied_on": "2025-02-30", "form_token": token,
    })  # fmt: skip
    assert late_date.status_code == 400 and "申请日期不是有效的日期" in late_date.text
    assert 'value="2025-02-30"' in late_date.text
    assert _count(admin_url, RepairApplication) == 0

    app_id = _applied(admin_url, places.changsha_nurse, date(2025, 6, 2))
    token = await _form(site, app_id, "institution")
    early = await post_form(site, f"/admin/repairs/{app_id}/decision", {
        "level": "institution", "outcome": "refuse", "decided_on": "2025-05-30",
        "reason": "材料不全", "form_token": token,
    })  # fmt: skip
    assert early.status_code == 400 and "审核日期不能早于申请日期" in early.text
    assert 'value="2025-05-30"' in early.text and 'value="refuse" required checked' in early.text
    assert _get(admin_url, app_id).state == "applied"


def _graded(url: str, code: str, year: int, grade: str) -> None:
    """A committed result of ``year`` for ``code`` (as the annual run writes it)."""
    engine = make_engine(url)
    with session_scope(engine, write=True) as session:
        run = CreditRun(year=year, region="4301", state="committed", ruleset="hunan-credit-2024",
                        catalogue="default-2024", started_by="chenjing", started_at=OFFICE.at,
                        committed_by="chenjing", committed_at=OFFICE.at)  # fmt: skip
        session.add(run)
        session.flush()
        session.add(CreditResult(run_id=run.id or 0, year=year, subject_kind="practitioner",
                                 subject_key=code, region="430102", state="graded", score=90,
                                 grade=grade, recorded_at=OFFICE.at))  # fmt: skip
    engine.dispose()


async def test_the_credit_grade_route_looks_the_grade_up(
    as_user: Any, admin_url: str, places: Places
) -> None:
    """Hunan-Rules Art. 12(3): last year's grade is looked up, never typed (A → 5, B → 2)."""
    site = await as_user("liuyang")
    page = await site.get("/admin/queues/repairs")
    assert "按上年度已提交的信用评价结果自动查询" in page.text
    filed = {"national_code": places.changsha_nurse, "route": "credit_grade", "param": "A",
             "applied_on": "2026-03-02", "form_token": token_in(page.text)}  # fmt: skip
    missing = await post_form(site, "/admin/repairs", filed)
    assert missing.status_code == 400 and 'id="file-route-error"' in missing.text
    assert "2025 年度已提交的信用评价结果" in missing.text
    assert _count(admin_url, RepairApplication) == 0
    _graded(admin_url, places.changsha_nurse, 2025, "B")
    made = await post_form(site, "/admin/repairs", {**filed, "form_token": token_in(missing.text)})
    assert made.status_code == 303
    app_id = int(made.headers["location"].rsplit("/", 1)[1])
    assert _get(admin_url, app_id).param == "B"  # what was typed (A) does not count
    shown = await site.get(f"/admin/repairs/{app_id}")
    assert "系统按上年度信用评价结果查得" in shown.text
