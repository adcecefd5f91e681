"""Notices, appeals, repairs, restorations, shortenings and agreement actions."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from portal.models import LedgerEntry
from portal.services.agreements import record_agreement_action
from portal.services.appeals import decide_appeal, escalate_appeal, expert_panel, file_appeal
from portal.services.errors import ServiceError
from portal.services.ledger import Finding, record_case, status_on
from portal.services.notices import issue_notice, record_delivery
from portal.services.registrations import register
from portal.services.repairs import apply_repair, decide_repair
from portal.services.restorations import apply_restoration, decide_restoration
from portal.services.shortening import shorten_period
from tests.portal.conftest import HOSPITAL_ADMIN, OFFICER, SECRET, Cast


def case(session: Session, cast: Cast, no: str, day: date, code: str, points: int) -> None:
    record_case(
        session,
        OFFICER,
        institution_code=cast.hospital_a,
        decision_type="agreement_action",
        legal_basis="服务协议第三十八条",
        document_no=no,
        decision_date=day,
        amount=None,
        findings=[Finding(code, points=points)],
        as_of=day,
    )


def ledger_count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(LedgerEntry)).one())


def test_a_notice_states_points_period_and_the_appeal_deadline(
    session: Session, cast: Cast
) -> None:
    case(session, cast, "湘医保协〔2025〕21号", date(2025, 9, 19), cast.doctor, 9)
    issued = issue_notice(
        session,
        OFFICER,
        decision_no="湘医保协〔2025〕21号",
        national_code=cast.doctor,
        issued_on=date(2025, 9, 24),
    )
    notice = issued.notice
    assert (notice.points, notice.year_points, notice.status) == (9, 9, "suspended")
    assert (notice.period_start, notice.period_end) == (date(2025, 10, 1), date(2025, 11, 30))
    assert issued.warnings == ()  # within 5 working days (National-Procedure Art. 31)
    delivered = record_delivery(
        session, OFFICER, notice.document_no, date(2025, 9, 26), "长沙市第一医院"
    )
    assert delivered.appeal_due == date(2025, 10, 16)  # 10 working days across National Day


def test_a_late_notice_is_flagged(session: Session, cast: Cast) -> None:
    case(session, cast, "湘医保协〔2025〕22号", date(2025, 9, 1), cast.nurse, 2)
    issued = issue_notice(
        session,
        OFFICER,
        decision_no="湘医保协〔2025〕22号",
        national_code=cast.nurse,
        issued_on=date(2025, 9, 15),
    )
    assert issued.warnings and "2025-09-08" in issued.warnings[0]


def test_an_upheld_appeal_cancels_the_suspension_from_the_start(
    session: Session, cast: Cast
) -> None:
    case(session, cast, "湘医保协〔2025〕23号", date(2025, 5, 6), cast.doctor, 9)
    assert status_on(session, cast.doctor, date(2025, 6, 10)).status == "suspended"
    appeal = file_appeal(
        session,
        OFFICER,
        decision_no="湘医保协〔2025〕23号",
        national_code=cast.doctor,
        received_on=date(2025, 5, 12),
    )
    assert appeal.resolve_due == date(2025, 6, 10)  # 20 working days (Art. 44), Dragon Boat 2 June
    assert appeal.id is not None
    decide_appeal(session, OFFICER, appeal.id, upheld=True, decided_on=date(2025, 6, 20), points=3)
    corrected = status_on(session, cast.doctor, date(2025, 6, 10))
    assert (corrected.status, corrected.year_points) == ("normal", 3)  # RULES I-13
    with pytest.raises(ServiceError, match="已办结"):
        decide_appeal(session, OFFICER, appeal.id, upheld=False, decided_on=date(2025, 6, 21))


def test_an_appeal_after_the_deadline_is_refused(session: Session, cast: Cast) -> None:
    case(session, cast, "湘医保协〔2025〕24号", date(2025, 9, 19), cast.doctor, 3)
    notice = issue_notice(
        session,
        OFFICER,
        decision_no="湘医保协〔2025〕24号",
        national_code=cast.doctor,
        issued_on=date(2025, 9, 22),
    ).notice
    record_delivery(session, OFFICER, notice.document_no, date(2025, 9, 26), "长沙市第一医院")
    with pytest.raises(ServiceError) as refused:
        file_appeal(
            session,
            OFFICER,
            decision_no="湘医保协〔2025〕24号",
            national_code=cast.doctor,
            received_on=date(2025, 10, 17),
        )
    assert refused.value.field == "received_on"


def test_an_expert_panel_pauses_the_clock(session: Session, cast: Cast) -> None:
    case(session, cast, "湘医保协〔2025〕25号", date(2025, 5, 6), cast.doctor, 4)
    appeal = file_appeal(
        session,
        OFFICER,
        decision_no="湘医保协〔2025〕25号",
        national_code=cast.doctor,
        received_on=date(2025, 5, 12),
    )
    assert appeal.id is not None
    paused = expert_panel(session, OFFICER, appeal.id, date(2025, 5, 19), date(2025, 6, 30))
    assert paused.state == "expert_panel"
    assert paused.resolve_due is not None and paused.resolve_due > date(2025, 7, 20)


def test_a_repair_needs_the_institution_then_the_agency(session: Session, cast: Cast) -> None:
    case(session, cast, "湘医保协〔2025〕26号", date(2025, 5, 6), cast.nurse, 6)
    app = apply_repair(
        session,
        HOSPITAL_ADMIN,
        national_code=cast.nurse,
        route="exam",
        param="95",
        applied_on=date(2025, 6, 2),
    )
    assert app.id is not None
    with pytest.raises(ServiceError, match="先由所在机构审核"):
        decide_repair(session, OFFICER, app.id, approve=True, on=date(2025, 6, 3), level="agency")
    decide_repair(
        session, HOSPITAL_ADMIN, app.id, approve=True, on=date(2025, 6, 3), level="institution"
    )
    done = decide_repair(
        session, OFFICER, app.id, approve=True, on=date(2025, 6, 5), level="agency"
    )
    assert (done.state, done.granted) == ("approved", 3)
    assert status_on(session, cast.nurse, date(2025, 6, 5)).year_points == 3


def test_a_second_exam_repair_in_a_year_is_refused_and_writes_nothing(
    session: Session, cast: Cast
) -> None:
    case(session, cast, "湘医保协〔2025〕27号", date(2025, 5, 6), cast.nurse, 6)
    for n, day in enumerate((date(2025, 6, 5), date(2025, 7, 7))):
        app = apply_repair(
            session,
            HOSPITAL_ADMIN,
            national_code=cast.nurse,
            route="exam",
            param="88",
            applied_on=day,
        )
        assert app.id is not None
        decide_repair(session, HOSPITAL_ADMIN, app.id, approve=True, on=day, level="institution")
        before = ledger_count(session)
        done = decide_repair(session, OFFICER, app.id, approve=True, on=day, level="agency")
        if n == 1:
            assert (done.state, done.refusal) == ("refused", "该修复途径本年度已达上限")
            assert ledger_count(session) == before


def test_a_repair_route_and_parameter_are_checked(session: Session, cast: Cast) -> None:
    with pytest.raises(ServiceError) as refused:
        apply_repair(
            session,
            HOSPITAL_ADMIN,
            national_code=cast.nurse,
            route="yoga",
            param=None,
            applied_on=date(2025, 6, 2),
        )
    assert refused.value.field == "route"
    with pytest.raises(ServiceError) as refused:
        apply_repair(
            session,
            HOSPITAL_ADMIN,
            national_code=cast.nurse,
            route="article",
            param="county",
            applied_on=date(2025, 6, 2),
        )
    assert refused.value.field == "param"


def test_restoration_after_the_period_with_points_below_9(session: Session, cast: Cast) -> None:
    case(session, cast, "湘医保协〔2025〕28号", date(2025, 3, 5), cast.doctor, 9)
    app = apply_restoration(
        session, HOSPITAL_ADMIN, national_code=cast.doctor, applied_on=date(2025, 6, 2)
    )
    assert app.evaluate_due == date(2025, 6, 16) and app.id is not None
    decide_restoration(
        session, HOSPITAL_ADMIN, app.id, approve=True, on=date(2025, 6, 3), level="institution"
    )
    refused = decide_restoration(
        session, OFFICER, app.id, approve=True, on=date(2025, 6, 4), level="agency"
    )
    assert (refused.state, refused.refusal) == ("refused", "修复后记分仍未低于规定分值")
    repair = apply_repair(
        session,
        HOSPITAL_ADMIN,
        national_code=cast.doctor,
        route="article",
        param="province",
        applied_on=date(2025, 6, 5),
    )
    assert repair.id is not None
    decide_repair(
        session, HOSPITAL_ADMIN, repair.id, approve=True, on=date(2025, 6, 5), level="institution"
    )
    decide_repair(session, OFFICER, repair.id, approve=True, on=date(2025, 6, 5), level="agency")
    again = apply_restoration(
        session, HOSPITAL_ADMIN, national_code=cast.doctor, applied_on=date(2025, 6, 6)
    )
    assert again.id is not None
    decide_restoration(
        session, HOSPITAL_ADMIN, again.id, approve=True, on=date(2025, 6, 6), level="institution"
    )
    ok = decide_restoration(
        session, OFFICER, again.id, approve=True, on=date(2025, 6, 9), level="agency"
    )
    assert (ok.state, ok.effective) == ("approved", date(2025, 6, 9))
    assert status_on(session, cast.doctor, date(2025, 6, 9)).status == "normal"


def test_an_application_filed_before_the_period_ended_is_refused_at_approval(
    session: Session, cast: Cast
) -> None:
    """RULES I-12: the timing is the application's, whatever day the agency decides."""
    case(session, cast, "湘医保协〔2025〕40号", date(2025, 3, 5), cast.doctor, 9)
    # 9 points in one case: suspended 2 months from 1 April, through 31 May (Hunan-Rules Art. 9)
    app = apply_restoration(
        session, HOSPITAL_ADMIN, national_code=cast.doctor, applied_on=date(2025, 5, 20)
    )
    assert app.id is not None
    decide_restoration(
        session, HOSPITAL_ADMIN, app.id, approve=True, on=date(2025, 6, 3), level="institution"
    )
    before = ledger_count(session)
    refused = decide_restoration(
        session, OFFICER, app.id, approve=True, on=date(2025, 6, 4), level="agency"
    )
    assert refused.state == "refused"
    assert refused.refusal is not None and "申请日期早于" in refused.refusal
    assert ledger_count(session) == before
    assert status_on(session, cast.doctor, date(2025, 6, 4)).status == "suspended"


def test_a_normal_person_cannot_apply_for_restoration(session: Session, cast: Cast) -> None:
    with pytest.raises(ServiceError, match="不处于暂停或终止状态"):
        apply_restoration(
            session, HOSPITAL_ADMIN, national_code=cast.nurse, applied_on=date(2025, 6, 2)
        )


def test_hunan_refuses_to_shorten_a_period(session: Session, cast: Cast) -> None:
    case(session, cast, "湘医保协〔2025〕29号", date(2025, 5, 6), cast.doctor, 11)
    before = ledger_count(session)
    with pytest.raises(ServiceError) as refused:
        shorten_period(
            session,
            OFFICER,
            national_code=cast.doctor,
            on=date(2025, 7, 1),
            new_end=date(2025, 7, 31),
        )
    assert refused.value.field == "new_end"
    assert ledger_count(session) == before


def test_no_registration_while_suspended_anywhere(session: Session, cast: Cast) -> None:
    case(session, cast, "湘医保协〔2025〕30号", date(2025, 5, 6), cast.nurse, 10)
    with pytest.raises(ServiceError) as refused:
        register(
            session,
            HOSPITAL_ADMIN,
            national_code=cast.nurse,
            institution_code=cast.hospital_b,
            registered_on=date(2025, 7, 1),
            commitment_signed_on=date(2025, 7, 1),
        )
    assert refused.value.field == "national_code"
    assert "暂停" in refused.value.message and "2025-09-30" in refused.value.message


def test_no_registration_at_an_institution_with_a_suspended_agreement(
    session: Session, cast: Cast
) -> None:
    record_agreement_action(
        session,
        OFFICER,
        institution_code=cast.hospital_b,
        action="suspended",
        decided_on=date(2025, 6, 1),
        effective_from=date(2025, 6, 1),
        until=date(2025, 8, 31),
        document_no="湘医保协〔2025〕31号",
    )
    with pytest.raises(ServiceError, match="暂停") as refused:
        register(
            session,
            HOSPITAL_ADMIN,
            national_code=cast.nurse,
            institution_code=cast.hospital_b,
            registered_on=date(2025, 7, 1),
            commitment_signed_on=date(2025, 7, 1),
        )
    assert refused.value.field == "institution_code"
    register(
        session,
        HOSPITAL_ADMIN,
        national_code=cast.nurse,
        institution_code=cast.hospital_b,
        registered_on=date(2025, 9, 1),
        commitment_signed_on=date(2025, 9, 1),
    )


def test_institutions_with_many_restricted_people_and_suspended_principals_are_flagged(
    session: Session, cast: Cast
) -> None:
    from portal.services.flags import institution_flags

    assert institution_flags(session, 2025) == []
    case(session, cast, "湘医保协〔2025〕40号", date(2025, 5, 6), cast.doctor, 10)
    case(session, cast, "湘医保协〔2025〕41号", date(2025, 5, 6), cast.nurse, 9)
    record_case(
        session,
        OFFICER,
        institution_code=cast.pharmacies[0],
        decision_type="agreement_action",
        legal_basis="服务协议",
        document_no="湘医保协〔2025〕42号",
        decision_date=date(2025, 5, 7),
        amount=None,
        findings=[Finding(cast.principal, points=9)],
        as_of=date(2025, 5, 7),
    )
    flags = {f.code: f for f in institution_flags(session, 2025)}
    assert flags[cast.hospital_a].suspended == 2 and flags[cast.hospital_a].registered == 2
    assert "第三十条" in flags[cast.hospital_a].reasons[0]
    assert flags[cast.hospital_b].registered == 1  # the doctor alone: 1 of 1
    for code in cast.pharmacies:  # Hunan: the share rule only (Hainan's Art. 25 is Hainan's)
        assert [r for r in flags[code].reasons if "第三十条" in r]
        assert not [r for r in flags[code].reasons if "主要负责人" in r]
    assert institution_flags(session, 2026) == []


def test_an_agreement_suspension_suspends_only_the_responsible_persons(
    session: Session, cast: Cast
) -> None:
    record_agreement_action(
        session,
        OFFICER,
        institution_code=cast.hospital_a,
        action="suspended",
        decided_on=date(2025, 6, 2),
        effective_from=date(2025, 6, 2),
        until=date(2025, 8, 31),
        document_no="湘医保协〔2025〕50号",
        responsible=[cast.doctor],
    )
    during = status_on(session, cast.doctor, date(2025, 7, 1))
    assert (during.status, during.period_end) == ("suspended", date(2025, 8, 31))
    assert "医保协议中止" in " ".join(during.explain)
    assert status_on(session, cast.nurse, date(2025, 7, 1)).status == "normal"


def test_after_an_early_reinstatement_the_person_s_own_suspension_runs_on(
    session: Session, cast: Cast
) -> None:
    record_agreement_action(
        session,
        OFFICER,
        institution_code=cast.hospital_a,
        action="suspended",
        decided_on=date(2025, 5, 6),
        effective_from=date(2025, 5, 6),
        until=date(2025, 10, 31),
        document_no="湘医保协〔2025〕51号",
        responsible=[cast.nurse],
    )
    case(session, cast, "湘医保协〔2025〕52号", date(2025, 5, 6), cast.nurse, 9)  # own: Jun-Jul
    record_agreement_action(
        session,
        OFFICER,
        institution_code=cast.hospital_a,
        action="reinstated",
        decided_on=date(2025, 6, 16),
        effective_from=date(2025, 6, 16),
        until=None,
        document_no="湘医保协〔2025〕53号",
        responsible=[cast.nurse],
    )
    july = status_on(session, cast.nurse, date(2025, 7, 15))
    assert (july.status, july.period_start, july.period_end) == (
        "suspended",
        date(2025, 5, 6),
        date(2025, 7, 31),
    )


def test_an_agreement_suspension_needs_its_end_date(session: Session, cast: Cast) -> None:
    with pytest.raises(ServiceError) as refused:
        record_agreement_action(
            session,
            OFFICER,
            institution_code=cast.hospital_a,
            action="suspended",
            decided_on=date(2025, 6, 2),
            effective_from=date(2025, 6, 2),
            until=None,
            document_no="湘医保协〔2025〕54号",
            responsible=[cast.doctor],
        )
    assert refused.value.field == "until"


def test_a_ban_decided_before_a_registration_refuses_it_even_if_it_starts_later(
    session: Session, cast: Cast
) -> None:
    case(session, cast, "湘医保协〔2025〕60号", date(2025, 6, 2), cast.nurse, 12)  # from 1 July
    with pytest.raises(ServiceError, match="终止") as refused:
        register(
            session,
            HOSPITAL_ADMIN,
            national_code=cast.nurse,
            institution_code=cast.hospital_b,
            registered_on=date(2025, 6, 25),
            commitment_signed_on=date(2025, 6, 25),
        )
    assert "2028-07-01" in refused.value.message


def test_a_restored_termination_needs_a_new_registration(session: Session, cast: Cast) -> None:
    from portal.services.ledger import settlement_check

    case(session, cast, "湘医保协〔2025〕61号", date(2025, 3, 3), cast.nurse, 6)
    case(session, cast, "湘医保协〔2025〕62号", date(2025, 4, 7), cast.nurse, 6)  # T1 from May
    app = apply_restoration(
        session, HOSPITAL_ADMIN, national_code=cast.nurse, applied_on=date(2026, 5, 6)
    )
    assert app.id is not None
    decide_restoration(
        session, HOSPITAL_ADMIN, app.id, approve=True, on=date(2026, 5, 6), level="institution"
    )
    done = decide_restoration(
        session, OFFICER, app.id, approve=True, on=date(2026, 5, 7), level="agency"
    )
    assert done.state == "approved"
    check = settlement_check(session, cast.nurse, date(2026, 5, 8), emergency=False)
    assert not check.payable and "未在任何定点医药机构登记备案" in check.reason
    register(
        session,
        HOSPITAL_ADMIN,
        national_code=cast.nurse,
        institution_code=cast.hospital_b,
        registered_on=date(2026, 5, 11),
        commitment_signed_on=date(2026, 5, 11),
    )
    assert settlement_check(session, cast.nurse, date(2026, 5, 12), emergency=False).payable


def test_no_payment_for_services_before_registration(session: Session, cast: Cast) -> None:
    from portal.services.ledger import settlement_check

    check = settlement_check(session, cast.doctor, date(2025, 2, 27), emergency=True)
    assert not check.payable


def test_a_notice_states_the_period_its_case_extended(session: Session, cast: Cast) -> None:
    case(session, cast, "湘医保协〔2025〕70号", date(2025, 6, 2), cast.doctor, 9)  # Jul-Aug
    case(session, cast, "湘医保协〔2025〕71号", date(2025, 7, 10), cast.doctor, 1)  # 10: to Oct
    notice = issue_notice(
        session,
        OFFICER,
        decision_no="湘医保协〔2025〕71号",
        national_code=cast.doctor,
        issued_on=date(2025, 7, 11),
    ).notice
    assert (notice.status, notice.period_start, notice.period_end) == (
        "suspended",
        date(2025, 7, 1),
        date(2025, 10, 31),
    )
    with pytest.raises(ServiceError, match="不能重复出具"):
        issue_notice(
            session,
            OFFICER,
            decision_no="湘医保协〔2025〕71号",
            national_code=cast.doctor,
            issued_on=date(2025, 7, 12),
        )
    record_delivery(session, OFFICER, notice.document_no, date(2025, 7, 14), "长沙市第一医院")
    with pytest.raises(ServiceError, match="已于 2025-07-14 送达"):
        record_delivery(session, OFFICER, notice.document_no, date(2025, 8, 1), "长沙市第一医院")


def test_only_a_party_appeals_and_only_once(session: Session, cast: Cast) -> None:
    case(session, cast, "湘医保协〔2025〕72号", date(2025, 6, 2), cast.doctor, 3)
    with pytest.raises(ServiceError, match="不是本处理决定的相关责任人员") as refused:
        file_appeal(
            session,
            OFFICER,
            decision_no="湘医保协〔2025〕72号",
            national_code=cast.nurse,
            received_on=date(2025, 6, 5),
        )
    assert refused.value.field == "national_code"
    with pytest.raises(ServiceError) as refused:
        file_appeal(
            session,
            OFFICER,
            decision_no="湘医保协〔2025〕72号",
            national_code=cast.doctor,
            received_on=date(2025, 5, 30),
        )
    assert refused.value.field == "received_on"
    appeal = file_appeal(
        session,
        OFFICER,
        decision_no="湘医保协〔2025〕72号",
        national_code=cast.doctor,
        received_on=date(2025, 6, 5),
    )
    with pytest.raises(ServiceError, match="已于 2025-06-05"):
        file_appeal(
            session,
            OFFICER,
            decision_no="湘医保协〔2025〕72号",
            national_code=cast.doctor,
            received_on=date(2025, 6, 6),
        )
    assert appeal.id is not None
    escalated = escalate_appeal(session, OFFICER, appeal.id, date(2025, 6, 20))
    assert (escalated.state, escalated.escalated_on) == ("escalated", date(2025, 6, 20))


def test_an_anhui_period_starts_on_the_notice_s_date_of_issue(session: Session) -> None:
    from portal.identifiers import make_credit_code, make_resident_id
    from portal.services.ledger import status_on
    from portal.services.registry import create_institution, create_practitioner

    create_institution(
        session,
        HOSPITAL_ADMIN,
        code="H34010200001",
        name="合肥市第一人民医院",
        credit_code=make_credit_code("340102", "MB0000001"),
        kind="hospital",
        region="340102",
        ownership="public",
    )
    create_practitioner(
        session,
        HOSPITAL_ADMIN,
        national_code="D34010200001",
        name="孙丽",
        id_number=make_resident_id("340102", date(1982, 4, 4), 2, "female"),
        secret=SECRET,
    )
    record_case(
        session,
        OFFICER,
        institution_code="H34010200001",
        decision_type="agreement_action",
        legal_basis="服务协议",
        document_no="皖医保协〔2025〕1号",
        decision_date=date(2025, 6, 2),
        amount=None,
        findings=[Finding("D34010200001", points=9)],
        as_of=date(2025, 6, 2),
    )
    notice = issue_notice(
        session,
        OFFICER,
        decision_no="皖医保协〔2025〕1号",
        national_code="D34010200001",
        issued_on=date(2025, 6, 5),
    ).notice
    assert (notice.period_start, notice.period_end) == (date(2025, 6, 5), date(2025, 8, 4))
    assert status_on(session, "D34010200001", date(2025, 6, 4)).status == "normal"


def test_an_agreement_action_names_only_persons_registered_there(
    session: Session, cast: Cast
) -> None:
    with pytest.raises(ServiceError) as refused:
        record_agreement_action(
            session,
            OFFICER,
            institution_code=cast.pharmacies[0],
            action="terminated",
            decided_on=date(2025, 6, 2),
            effective_from=date(2025, 6, 2),
            until=None,
            document_no="湘医保协〔2025〕80号",
            responsible=[cast.doctor],
        )
    assert refused.value.field == "responsible[0]"


def test_a_reinstatement_ends_every_linked_suspension_from_the_institution(
    session: Session, cast: Cast
) -> None:
    record_agreement_action(
        session,
        OFFICER,
        institution_code=cast.hospital_a,
        action="suspended",
        decided_on=date(2025, 6, 2),
        effective_from=date(2025, 6, 2),
        until=date(2025, 11, 30),
        document_no="湘医保协〔2025〕81号",
        responsible=[cast.doctor, cast.nurse],
    )
    record_agreement_action(
        session,
        OFFICER,
        institution_code=cast.hospital_a,
        action="reinstated",
        decided_on=date(2025, 7, 1),
        effective_from=date(2025, 7, 1),
        until=None,
        document_no="湘医保协〔2025〕82号",
    )
    for code in (cast.doctor, cast.nurse):
        assert status_on(session, code, date(2025, 7, 1)).period_end == date(2025, 6, 30)
    with pytest.raises(ServiceError, match="已登记"):
        record_agreement_action(
            session,
            OFFICER,
            institution_code=cast.hospital_a,
            action="reinstated",
            decided_on=date(2025, 7, 2),
            effective_from=date(2025, 7, 2),
            until=None,
            document_no="湘医保协〔2025〕82号",
        )


def test_hainan_flags_only_the_pharmacy_where_the_principal_s_case_arose(
    session: Session,
) -> None:
    from portal.identifiers import make_credit_code, make_resident_id
    from portal.services.flags import institution_flags
    from portal.services.registry import create_institution, create_practitioner

    for n in (1, 2):
        create_institution(
            session,
            HOSPITAL_ADMIN,
            code=f"P4601060000{n}",
            name=f"海口大药房{n}店",
            credit_code=make_credit_code("460106", f"MA5T0000{n}", "91"),
            kind="pharmacy",
            region="460106",
            ownership="private",
        )
    create_institution(
        session,
        HOSPITAL_ADMIN,
        code="H46010600001",
        name="海口市人民医院",
        credit_code=make_credit_code("460106", "MB0000009"),
        kind="hospital",
        region="460106",
        ownership="public",
    )
    create_practitioner(
        session,
        HOSPITAL_ADMIN,
        national_code="HY460106000001",
        name="符强",
        id_number=make_resident_id("460106", date(1979, 9, 9), 4, "male"),
        secret=SECRET,
    )
    for n in (1, 2):
        register(
            session,
            HOSPITAL_ADMIN,
            national_code="HY460106000001",
            institution_code=f"P4601060000{n}",
            registered_on=date(2025, 4, 1),
            commitment_signed_on=date(2025, 4, 1),
            principal=True,
        )
    record_case(
        session,
        OFFICER,
        institution_code="P46010600001",
        decision_type="agreement_action",
        legal_basis="服务协议",
        document_no="琼医保协〔2025〕1号",
        decision_date=date(2025, 6, 2),
        amount=None,
        findings=[Finding("HY460106000001", points=9)],
        as_of=date(2025, 6, 2),
    )
    flags = {f.code: f for f in institution_flags(session, 2025)}
    assert any(
        "海南细则第二十五条" in r and "主要负责人" in r for r in flags["P46010600001"].reasons
    )
    other = flags.get("P46010600002")
    assert other is None or not any("主要负责人" in r for r in other.reasons)
