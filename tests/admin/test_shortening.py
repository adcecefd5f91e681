"""Shortening a suspension or termination: Hainan provides it (Hainan-Rules Art. 16;
National-Procedure Art. 38); Hunan and Anhui do not, and refuse it with the reason (RULES §7)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from portal.db import make_engine, session_scope
from portal.identifiers import make_credit_code, make_resident_id
from portal.models import AuditLog, LedgerEntry
from portal.services.ledger import Finding, record_case, status_on, timeline_of
from portal.services.registrations import register
from portal.services.registry import Act, create_institution, create_practitioner, get_practitioner
from tests.admin.conftest import Places, post_form, token_in
from tests.portal.conftest import SECRET

OFFICE = Act("setup", datetime(2025, 6, 2, 2, 0, tzinfo=UTC), "依法处理")
HAIKOU_DOCTOR = "D46010600001"


def _hainan_suspended(url: str) -> None:
    """A Haikou doctor with 10 points on 2 June 2025: suspended 4 months from that day,
    through 1 October (Hainan-Rules Art. 24(3); RULES I-6)."""
    engine = make_engine(url)
    with session_scope(engine, write=True) as session:
        create_institution(
            session, OFFICE, code="H46010600001", name="海口市人民医院",
            credit_code=make_credit_code("460106", "MB0000009"), kind="hospital",
            region="460106", ownership="public",
        )  # fmt: skip
        create_practitioner(
            session, OFFICE, national_code=HAIKOU_DOCTOR, name="符强", secret=SECRET,
            id_number=make_resident_id("460106", date(1979, 9, 9), 4, "male"),
        )  # fmt: skip
        register(
            session, OFFICE, national_code=HAIKOU_DOCTOR, institution_code="H46010600001",
            registered_on=date(2025, 4, 1), commitment_signed_on=date(2025, 4, 1),
        )  # fmt: skip
        record_case(
            session, OFFICE, institution_code="H46010600001", decision_type="agreement_action",
            legal_basis="服务协议", document_no="琼医保协〔2025〕7号",
            decision_date=date(2025, 6, 2), amount=None,
            findings=[Finding(HAIKOU_DOCTOR, points=10)], as_of=date(2025, 6, 2),
        )  # fmt: skip
    engine.dispose()


def _changsha_suspended(url: str, code: str) -> None:
    engine = make_engine(url)
    with session_scope(engine, write=True) as session:
        record_case(
            session, OFFICE, institution_code="H43010200001", decision_type="agreement_action",
            legal_basis="服务协议第三十八条", document_no="湘医保协〔2025〕77号",
            decision_date=date(2025, 5, 6), amount=None, findings=[Finding(code, points=11)],
            as_of=date(2025, 5, 6),
        )  # fmt: skip
    engine.dispose()


def _shortenings(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        n = int(
            session.exec(
                select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "shorten")
            ).one()
        )
    engine.dispose()
    return n


def _last_day(url: str, code: str) -> date | None:
    engine = make_engine(url)
    with Session(engine) as session:
        timeline = timeline_of(session, get_practitioner(session, code))
        periods = timeline.periods_on(date(2025, 12, 31))
    engine.dispose()
    return periods[-1].last_day()


SHORTEN = {"shortened_on": "2025-07-01", "new_end": "2025-08-31",
           "reason": "积极配合调查并主动整改（海南细则第十六条）"}  # fmt: skip


async def _form(site: Any, code: str) -> str:
    page = await site.get(f"/admin/practitioners/{code}/shorten")
    assert page.status_code == 200
    return token_in(page.text)


async def test_it_decides(as_user: Any, admin_url: str) -> None:
    _hainan_suspended(admin_url)
    site = await as_user("zhoumin")
    page = await site.get(f"/admin/practitioners/{HAIKOU_DOCTOR}/shorten")
    assert "2025-10-01" in page.text and "缩减期限（海南细则第十六条" in page.text
    done = await post_form(
        site, f"/admin/practitioners/{HAIKOU_DOCTOR}/shorten",
        {**SHORTEN, "form_token": token_in(page.text)},
    )  # fmt: skip
    assert done.status_code == 303
    assert done.headers["location"] == f"/admin/practitioners/{HAIKOU_DOCTOR}/shorten"
    assert _shortenings(admin_url) == 1 and _last_day(admin_url, HAIKOU_DOCTOR) == date(2025, 8, 31)
    engine = make_engine(admin_url)
    with Session(engine) as session:
        after = status_on(session, HAIKOU_DOCTOR, date(2025, 9, 15))
        reasons = [
            a.reason for a in session.exec(select(AuditLog)) if a.reason == SHORTEN["reason"]
        ]
    engine.dispose()
    assert after.status == "suspended"  # not restored by itself (RULES I-8)
    assert reasons  # the ledger entry's act carries the reason
    page = await site.get(f"/admin/practitioners/{HAIKOU_DOCTOR}/shorten")
    assert "2025-08-31" in page.text


async def test_it_refuses_for_hunan_with_the_reason(
    as_user: Any, admin_url: str, places: Places
) -> None:
    _changsha_suspended(admin_url, places.changsha_doctor)
    site = await as_user("liming")
    page = await site.get(f"/admin/practitioners/{places.changsha_doctor}/shorten")
    assert page.status_code == 200 and "未规定缩减暂停或终止期限" in page.text
    refused = await post_form(
        site, f"/admin/practitioners/{places.changsha_doctor}/shorten",
        {**SHORTEN, "form_token": token_in((await site.get("/admin/queues/appeals")).text)},
    )  # fmt: skip
    assert refused.status_code == 400
    assert "该途径在本规则下不可修复或不可缩减" in refused.text
    assert "Hunan-Rules Art. 12" in refused.text
    assert _shortenings(admin_url) == 0


async def test_it_requires_csrf(as_user: Any, admin_url: str) -> None:
    _hainan_suspended(admin_url)
    site = await as_user("zhoumin")
    token = await _form(site, HAIKOU_DOCTOR)
    without = await post_form(
        site, f"/admin/practitioners/{HAIKOU_DOCTOR}/shorten", {**SHORTEN, "form_token": token},
        csrf=False,
    )  # fmt: skip
    assert without.status_code == 403 and _shortenings(admin_url) == 0


async def test_it_hides_other_regions(as_user: Any, admin_url: str, places: Places) -> None:
    _changsha_suspended(admin_url, places.changsha_doctor)
    _hainan_suspended(admin_url)
    site = await as_user("wangfang")
    for code in (places.changsha_doctor, HAIKOU_DOCTOR):
        assert (await site.get(f"/admin/practitioners/{code}/shorten")).status_code == 404
        answer = await post_form(
            site, f"/admin/practitioners/{code}/shorten", {**SHORTEN, "form_token": "t" * 20}
        )
        assert answer.status_code == 404
    assert _shortenings(admin_url) == 0


async def test_auditor_cannot_post(as_user: Any, admin_url: str) -> None:
    _hainan_suspended(admin_url)
    site = await as_user("sunli")
    page = await site.get(f"/admin/practitioners/{HAIKOU_DOCTOR}/shorten")
    assert page.status_code == 200 and '<form method="post" action="/admin/practitioners' not in (
        page.text
    )
    answer = await post_form(
        site, f"/admin/practitioners/{HAIKOU_DOCTOR}/shorten", {**SHORTEN, "form_token": "t" * 20}
    )
    assert answer.status_code == 403 and _shortenings(admin_url) == 0


async def test_institution_admin_gives_only_the_first_step(
    as_user: Any, admin_url: str, places: Places
) -> None:
    """A shortening is the agency's alone: the hospital's administrator cannot decide it."""
    _changsha_suspended(admin_url, places.changsha_doctor)
    site = await as_user("liuyang")
    assert (
        await site.get(f"/admin/practitioners/{places.changsha_doctor}/shorten")
    ).status_code == 200
    answer = await post_form(
        site, f"/admin/practitioners/{places.changsha_doctor}/shorten",
        {**SHORTEN, "form_token": "t" * 20},
    )  # fmt: skip
    assert answer.status_code == 403


async def test_a_double_submission_decides_once(as_user: Any, admin_url: str) -> None:
    _hainan_suspended(admin_url)
    site = await as_user("zhoumin")
    token = await _form(site, HAIKOU_DOCTOR)
    first = await post_form(
        site, f"/admin/practitioners/{HAIKOU_DOCTOR}/shorten", {**SHORTEN, "form_token": token}
    )
    again = await post_form(
        site, f"/admin/practitioners/{HAIKOU_DOCTOR}/shorten",
        {**SHORTEN, "new_end": "2025-08-15", "form_token": token},
    )  # fmt: skip
    assert first.status_code == again.status_code == 303
    assert _shortenings(admin_url) == 1 and _last_day(admin_url, HAIKOU_DOCTOR) == date(2025, 8, 31)


async def test_bad_input_keeps_what_was_typed(as_user: Any, admin_url: str) -> None:
    _hainan_suspended(admin_url)
    site = await as_user("zhoumin")
    token = await _form(site, HAIKOU_DOCTOR)
    after_end = await post_form(
        site, f"/admin/practitioners/{HAIKOU_DOCTOR}/shorten",
        {**SHORTEN, "new_end": "2025-12-31", "form_token": token},
    )  # fmt: skip
    assert after_end.status_code == 400
    assert "新的截止日期应在当前期限之内" in after_end.text
    assert 'value="2025-12-31"' in after_end.text and 'id="shorten-new_end-error"' in after_end.text
    assert SHORTEN["reason"] + "</textarea>" in after_end.text
    bad = await post_form(
        site, f"/admin/practitioners/{HAIKOU_DOCTOR}/shorten",
        {**SHORTEN, "shortened_on": "2025-07-1x", "form_token": token},
    )  # fmt: skip
    assert bad.status_code == 400 and "缩减决定日期应为 YYYY-MM-DD 格式" in bad.text
    assert 'value="2025-07-1x"' in bad.text
    missing = await post_form(
        site, f"/admin/practitioners/{HAIKOU_DOCTOR}/shorten",
        {**SHORTEN, "new_end": "", "form_token": token},
    )  # fmt: skip
    assert missing.status_code == 400 and "请填写缩减后期限的最后一天" in missing.text
    assert _shortenings(admin_url) == 0


async def test_the_practitioner_page_link_leads_here(as_user: Any, admin_url: str) -> None:
    _hainan_suspended(admin_url)
    site = await as_user("zhoumin")
    answer = await site.get(f"/admin/shortening/new?code={HAIKOU_DOCTOR}", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/admin/practitioners/{HAIKOU_DOCTOR}/shorten"
