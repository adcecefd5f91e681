"""The restorations queue: applications with their dates, the institution's opinion, the
agency's evaluation within 10 working days (Hunan-Rules Art. 13-14; National-Procedure
Art. 39), timed by the application date (RULES I-12)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import time_machine
from sqlalchemy import func
from sqlmodel import Session, select

from portal.db import make_engine, session_scope
from portal.models import AuditLog, LedgerEntry, RestorationApplication
from portal.services.ledger import Finding, record_case, status_on
from portal.services.registry import Act
from portal.services.repairs import apply_repair, decide_repair
from portal.services.restorations import apply_restoration, decide_restoration
from tests.admin.conftest import Places, log_in, post_form, token_in

OFFICE = Act("setup", datetime(2025, 3, 5, 2, 0, tzinfo=UTC), "依法处理")


def _suspended(url: str, no: str, code: str, repaired_on: date | None = None,
               institution: str = "H43010200001") -> None:  # fmt: skip
    """9 points on 5 March 2025: suspended 1 April – 31 May (Hunan-Rules Art. 9); with
    ``repaired_on``, an article repair of 2 points that day brings the year to 7."""
    engine = make_engine(url)
    with session_scope(engine, write=True) as session:
        record_case(
            session, OFFICE, institution_code=institution, decision_type="agreement_action",
            legal_basis="服务协议第三十八条", document_no=no, decision_date=date(2025, 3, 5),
            amount=None, findings=[Finding(code, points=9)], as_of=date(2025, 3, 5),
        )  # fmt: skip
        if repaired_on is not None:
            repair = apply_repair(
                session, OFFICE, national_code=code, route="article", param="province",
                applied_on=repaired_on,
            )  # fmt: skip
            for level in ("institution", "agency"):
                decide_repair(
                    session, OFFICE, repair.id or 0, approve=True, on=repaired_on, level=level
                )
    engine.dispose()


def _applied(url: str, code: str, day: date, institution_step: date | None = None) -> int:
    engine = make_engine(url)
    with session_scope(engine, write=True) as session:
        app = apply_restoration(session, OFFICE, national_code=code, applied_on=day)
        if institution_step is not None:
            decide_restoration(
                session, OFFICE, app.id or 0, approve=True, on=institution_step,
                level="institution",
            )  # fmt: skip
        app_id = app.id or 0
    engine.dispose()
    return app_id


def _get(url: str, app_id: int) -> RestorationApplication:
    engine = make_engine(url)
    with Session(engine) as session:
        app = session.get(RestorationApplication, app_id)
        assert app is not None
    engine.dispose()
    return app


def _count(url: str, model: Any) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        n = int(session.exec(select(func.count()).select_from(model)).one())
    engine.dispose()
    return n


def _status(url: str, code: str, on: date) -> str:
    engine = make_engine(url)
    with Session(engine) as session:
        status = status_on(session, code, on).status
    engine.dispose()
    return status


APPROVE = {"outcome": "approve", "decided_on": "2025-06-09", "reason": "期满，修复后记分 7 分"}


async def _form(site: Any, app_id: int, level: str) -> str:
    page = await site.get(f"/admin/restorations/{app_id}")
    assert page.status_code == 200
    assert f'name="level" value="{level}"' in page.text
    return token_in(page.text)


async def test_it_lists_with_deadlines(site: Any, admin_url: str, places: Places) -> None:
    _suspended(admin_url, "湘医保协〔2025〕61号", places.changsha_doctor)
    _suspended(admin_url, "湘医保协〔2025〕62号", places.changsha_nurse)
    early = _applied(admin_url, places.changsha_nurse, date(2025, 5, 20))  # due 4 June
    fresh = _applied(admin_url, places.changsha_doctor, date(2025, 6, 2))  # due 16 June
    with time_machine.travel(datetime(2025, 6, 12, 2, 0, tzinfo=UTC), tick=False):
        await log_in(site, "liming")
        page = await site.get("/admin/queues/restorations")
        assert page.status_code == 200
        text = page.text
        assert "2025-06-04（已逾期）" in text
        assert "2025-06-16" in text and "2025-06-16（已逾期）" not in text
        assert text.index(f'id="restoration-{early}"') < text.index(f'id="restoration-{fresh}"')
        assert f'<tr id="restoration-{early}" class="late">' in text
        assert "2025-05-20" in text and "2025-06-02" in text  # the application dates
        item = await site.get(f"/admin/restorations/{early}")
        assert "期限 2025-04-01 至 2025-05-31" in item.text  # the period at the application
        decided = await site.get("/admin/queues/restorations?state=decided")
        assert f'id="restoration-{early}"' not in decided.text


async def test_it_decides(as_user: Any, admin_url: str, places: Places) -> None:
    _suspended(admin_url, "湘医保协〔2025〕63号", places.changsha_doctor, date(2025, 6, 5))
    site = await as_user("liuyang")
    token = token_in((await site.get("/admin/queues/restorations")).text)
    applied = await post_form(site, "/admin/restorations", {
        "national_code": places.changsha_doctor, "applied_on": "2025-06-06",
        "reason": "期满申请恢复", "form_token": token,
    })  # fmt: skip
    assert applied.status_code == 303
    app_id = int(applied.headers["location"].rsplit("/", 1)[1])
    assert _get(admin_url, app_id).evaluate_due == date(2025, 6, 20)
    token = await _form(site, app_id, "institution")
    opinion = await post_form(site, f"/admin/restorations/{app_id}/decision", {
        "level": "institution", "outcome": "approve", "decided_on": "2025-06-06",
        "reason": "本院同意", "form_token": token,
    })  # fmt: skip
    assert opinion.status_code == 303

    await post_form(site, "/admin/logout", {})
    await log_in(site, "liming")
    token = await _form(site, app_id, "agency")
    before = _count(admin_url, LedgerEntry)
    done = await post_form(
        site, f"/admin/restorations/{app_id}/decision",
        {**APPROVE, "level": "agency", "form_token": token},
    )  # fmt: skip
    assert done.status_code == 303
    app = _get(admin_url, app_id)
    assert (app.state, app.applied_on, app.agency_decided_on, app.effective) == (
        "approved", date(2025, 6, 6), date(2025, 6, 9), date(2025, 6, 9),
    )  # fmt: skip
    assert _count(admin_url, LedgerEntry) == before + 1
    assert _status(admin_url, places.changsha_doctor, date(2025, 6, 9)) == "normal"
    assert _status(admin_url, places.changsha_doctor, date(2025, 6, 8)) == "suspended"
    engine = make_engine(admin_url)
    with Session(engine) as session:
        reasons = {a.action: a.reason for a in session.exec(select(AuditLog))}
    engine.dispose()
    assert reasons["decide_restoration_agency"] == APPROVE["reason"]
    page = await site.get(f"/admin/restorations/{app_id}")
    assert "2025-06-09 起恢复医保支付资格" in page.text and APPROVE["reason"] in page.text
    decided = await site.get("/admin/queues/restorations?state=decided")
    assert f'id="restoration-{app_id}"' in decided.text


async def test_it_refuses_an_early_restoration_application(
    as_user: Any, admin_url: str, places: Places
) -> None:
    """RULES I-12: applied on 20 May, before the period ended on 31 May, approved on 4 June
    after it: refused, with the reason, and nothing enters the ledger."""
    _suspended(admin_url, "湘医保协〔2025〕64号", places.changsha_doctor)
    app_id = _applied(admin_url, places.changsha_doctor, date(2025, 5, 20), date(2025, 6, 3))
    site = await as_user("liming")
    token = await _form(site, app_id, "agency")
    before = _count(admin_url, LedgerEntry)
    answer = await post_form(site, f"/admin/restorations/{app_id}/decision", {
        "level": "agency", "outcome": "approve", "decided_on": "2025-06-04",
        "reason": "期限已满", "form_token": token,
    })  # fmt: skip
    assert answer.status_code == 303
    app = _get(admin_url, app_id)
    assert app.state == "refused" and "申请日期早于" in app.refusal
    assert _count(admin_url, LedgerEntry) == before
    assert _status(admin_url, places.changsha_doctor, date(2025, 6, 4)) == "suspended"
    page = await site.get(f"/admin/restorations/{app_id}")
    assert "未通过：申请日期早于可申请恢复的日期（期满后方可申请）" in page.text
    assert "2025-05-20" in page.text and "2025-06-04" in page.text  # both dates shown


async def test_it_requires_csrf(as_user: Any, admin_url: str, places: Places) -> None:
    _suspended(admin_url, "湘医保协〔2025〕65号", places.changsha_doctor, date(2025, 6, 5))
    app_id = _applied(admin_url, places.changsha_doctor, date(2025, 6, 6), date(2025, 6, 6))
    site = await as_user("liming")
    token = await _form(site, app_id, "agency")
    without = await post_form(
        site, f"/admin/restorations/{app_id}/decision",
        {**APPROVE, "level": "agency", "form_token": token}, csrf=False,
    )  # fmt: skip
    assert without.status_code == 403
    assert _get(admin_url, app_id).state == "institution_approved"


async def test_it_hides_other_regions(as_user: Any, admin_url: str, places: Places) -> None:
    _suspended(admin_url, "湘医保协〔2025〕66号", places.changsha_doctor, date(2025, 6, 5))
    app_id = _applied(admin_url, places.changsha_doctor, date(2025, 6, 6), date(2025, 6, 6))
    site = await as_user("wangfang")
    queue = await site.get("/admin/queues/restorations")
    assert queue.status_code == 200 and places.changsha_doctor not in queue.text
    assert (await site.get(f"/admin/restorations/{app_id}")).status_code == 404
    answer = await post_form(
        site, f"/admin/restorations/{app_id}/decision",
        {**APPROVE, "level": "agency", "form_token": token_in(queue.text)},
    )  # fmt: skip
    assert answer.status_code == 404
    assert _get(admin_url, app_id).state == "institution_approved"


async def test_auditor_cannot_post(as_user: Any, admin_url: str, places: Places) -> None:
    _suspended(admin_url, "湘医保协〔2025〕67号", places.changsha_doctor, date(2025, 6, 5))
    app_id = _applied(admin_url, places.changsha_doctor, date(2025, 6, 6), date(2025, 6, 6))
    site = await as_user("sunli")
    page = await site.get(f"/admin/restorations/{app_id}")
    assert page.status_code == 200 and "/decision" not in page.text
    answer = await post_form(
        site, f"/admin/restorations/{app_id}/decision",
        {**APPROVE, "level": "agency", "form_token": "t" * 20},
    )  # fmt: skip
    assert answer.status_code == 403
    applied = await post_form(site, "/admin/restorations", {
        "national_code": places.changsha_doctor, "applied_on": "2025-06-06",
        "form_token": "t" * 20,
    })  # fmt: skip
    assert applied.status_code == 403
    assert _count(admin_url, RestorationApplication) == 1
    assert _get(admin_url, app_id).state == "institution_approved"


async def test_institution_admin_gives_only_the_first_step(
    as_user: Any, admin_url: str, places: Places
) -> None:
    _suspended(admin_url, "湘医保协〔2025〕68号", places.changsha_doctor, date(2025, 6, 5))
    app_id = _applied(admin_url, places.changsha_doctor, date(2025, 6, 6))
    site = await as_user("liuyang")
    token = await _form(site, app_id, "institution")
    agency = await post_form(
        site, f"/admin/restorations/{app_id}/decision",
        {**APPROVE, "level": "agency", "form_token": token},
    )  # fmt: skip
    assert agency.status_code == 403 and _get(admin_url, app_id).state == "applied"
    refused = await post_form(site, f"/admin/restorations/{app_id}/decision", {
        "level": "institution", "outcome": "refuse", "decided_on": "2025-06-06",
        "reason": "尚未重新签署服务承诺", "form_token": token,
    })  # fmt: skip
    assert refused.status_code == 303
    app = _get(admin_url, app_id)
    assert (app.state, app.refusal) == ("refused", "尚未重新签署服务承诺")
    assert _status(admin_url, places.changsha_doctor, date(2025, 6, 9)) == "suspended"


async def test_a_double_submission_decides_once(
    as_user: Any, admin_url: str, places: Places
) -> None:
    _suspended(admin_url, "湘医保协〔2025〕69号", places.changsha_doctor, date(2025, 6, 5))
    site = await as_user("liming")
    token = token_in((await site.get("/admin/queues/restorations")).text)
    form = {"national_code": places.changsha_doctor, "applied_on": "2025-06-06",
            "form_token": token}  # fmt: skip
    first = await post_form(site, "/admin/restorations", form)
    again = await post_form(site, "/admin/restorations", form)
    assert first.status_code == again.status_code == 303
    assert _count(admin_url, RestorationApplication) == 1

    app_id = int(first.headers["location"].rsplit("/", 1)[1])
    engine = make_engine(admin_url)
    with session_scope(engine, write=True) as session:
        decide_restoration(
            session, OFFICE, app_id, approve=True, on=date(2025, 6, 6), level="institution"
        )
    engine.dispose()
    token = await _form(site, app_id, "agency")
    before = _count(admin_url, LedgerEntry)
    for _ in range(2):
        answer = await post_form(
            site, f"/admin/restorations/{app_id}/decision",
            {**APPROVE, "level": "agency", "form_token": token},
        )  # fmt: skip
        assert answer.status_code == 303
    assert _count(admin_url, LedgerEntry) == before + 1


async def test_bad_input_keeps_what_was_typed(as_user: Any, admin_url: str, places: Places) -> None:
    _suspended(admin_url, "湘医保协〔2025〕70号", places.changsha_doctor, date(2025, 6, 5))
    site = await as_user("liming")
    token = token_in((await site.get("/admin/queues/restorations")).text)
    bad = await post_form(site, "/admin/restorations", {
        "national_code": places.changsha_doctor, "applied_on": "06/06/2025",
        "reason": "本人申请", "form_token": token,
    })  # fmt: skip
    assert bad.status_code == 400
    assert 'value="06/06/2025"' in bad.text and 'id="file-applied_on-error"' in bad.text
    assert "申请日期应为 YYYY-MM-DD 格式" in bad.text and "本人申请</textarea>" in bad.text
    normal = await post_form(site, "/admin/restorations", {
        "national_code": places.changsha_nurse, "applied_on": "2025-06-06", "form_token": token,
    })  # fmt: skip
    assert normal.status_code == 400 and "该日不处于暂停或终止状态" in normal.text
    assert f'value="{places.changsha_nurse}"' in normal.text
    future = await post_form(site, "/admin/restorations", {
        "national_code": places.changsha_doctor, "applied_on": "2999-01-01", "form_token": token,
    })  # fmt: skip
    assert future.status_code == 400 and "申请日期不能晚于今天" in future.text
    assert _count(admin_url, RestorationApplication) == 0

    app_id = _applied(admin_url, places.changsha_doctor, date(2025, 6, 6), date(2025, 6, 6))
    token = await _form(site, app_id, "agency")
    no_reason = await post_form(site, f"/admin/restorations/{app_id}/decision", {
        "level": "agency", "outcome": "approve", "decided_on": "2025-06-09", "reason": " ",
        "form_token": token,
    })  # fmt: skip
    assert no_reason.status_code == 400 and "请填写理由" in no_reason.text
    assert 'value="2025-06-09"' in no_reason.text
    assert _get(admin_url, app_id).state == "institution_approved"
