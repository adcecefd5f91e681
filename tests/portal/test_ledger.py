"""Recording cases; statuses for every registration; corrections; settlement; the cache."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from portal.models import Decision, LedgerEntry, Registration, StatusCache
from portal.services import verify
from portal.services.errors import ServiceError
from portal.services.ledger import Finding, correct_entry, record_case, settlement_check, status_on
from portal.services.registry import Act
from tests.portal.conftest import OFFICER, Cast


def penalty(session: Session, cast: Cast, no: str, day: date, *findings: Finding, **kw: object):  # type: ignore[no-untyped-def]
    return record_case(
        session,
        OFFICER,
        institution_code=kw.get("institution", cast.hospital_a),  # type: ignore[arg-type]
        decision_type="administrative_penalty",
        legal_basis="《条例》第三十八条",
        document_no=no,
        decision_date=day,
        amount=None,
        findings=list(findings),
        as_of=day,
    )


def statuses(session: Session, national_code: str) -> set[str]:
    from portal.models import Practitioner

    person = session.exec(
        select(Practitioner).where(Practitioner.national_code == national_code)
    ).one()
    return {
        r.status
        for r in session.exec(select(Registration).where(Registration.practitioner_id == person.id))
    }


def test_a_case_of_10_suspends_a_multi_site_doctor_at_both_hospitals(
    session: Session, cast: Cast
) -> None:
    result = penalty(
        session,
        cast,
        "湘医保罚〔2025〕1号",
        date(2025, 5, 12),
        Finding(cast.doctor, tier=4, responsibility="general"),
    )
    assert result.points[cast.doctor] == 10
    assert status_on(session, cast.doctor, date(2025, 5, 31)).status == "normal"  # 从次月起
    july = status_on(session, cast.doctor, date(2025, 7, 1))
    assert (july.status, july.period_start, july.period_end) == (
        "suspended",
        date(2025, 6, 1),
        date(2025, 9, 30),
    )
    # The registrations' stored status is maintained from the engine as of the decision.
    penalty(session, cast, "湘医保罚〔2025〕2号", date(2025, 6, 3), Finding(cast.doctor, points=1))
    assert statuses(session, cast.doctor) == {"suspended"}


def test_a_pharmacy_principal_is_suspended_at_every_pharmacy(session: Session, cast: Cast) -> None:
    penalty(
        session,
        cast,
        "湘医保协〔2025〕3号",
        date(2025, 4, 2),
        Finding(cast.principal, points=9),
        institution=cast.pharmacies[0],
    )
    penalty(
        session,
        cast,
        "湘医保协〔2025〕4号",
        date(2025, 5, 6),
        Finding(cast.principal, points=1),
        institution=cast.pharmacies[1],
    )
    assert statuses(session, cast.principal) == {"suspended"}
    assert status_on(session, cast.principal, date(2025, 5, 6)).year_points == 10


def test_findings_in_one_case_add_up_and_the_same_violation_counts_once(
    session: Session, cast: Cast
) -> None:
    result = penalty(
        session,
        cast,
        "湘医保罚〔2025〕5号",
        date(2025, 4, 8),
        Finding(cast.nurse, tier=1, responsibility="main", violation="V1"),
        Finding(cast.nurse, tier=2, responsibility="general", violation="V1"),
        Finding(cast.nurse, tier=1, responsibility="important", violation="V2"),
    )
    assert result.points[cast.nurse] == 6  # National-Procedure Art. 26


def test_a_refused_case_records_nothing(session: Session, cast: Cast) -> None:
    with pytest.raises(ServiceError) as refused:
        penalty(
            session,
            cast,
            "湘医保罚〔2025〕6号",
            date(2025, 4, 8),
            Finding(cast.nurse, points=3),
            Finding("D43010299999", points=3),
        )
    assert refused.value.field == "findings[1].national_code"
    session.rollback()
    assert session.exec(select(func.count()).select_from(Decision)).one() == 0
    assert session.exec(select(func.count()).select_from(LedgerEntry)).one() == 0


@pytest.mark.parametrize(
    ("finding", "field"),
    [
        (Finding("N43010200002", points=13), "findings[0].points"),
        (Finding("N43010200002", tier=2), "findings[0].responsibility"),
        (
            Finding("N43010200002", situation="anhui-2025.fraud", responsibility="main"),
            "findings[0].situation",
        ),
        (Finding("N43010200002", points=2, tier=1), "findings[0].points"),
    ],
)
def test_a_bad_finding_names_its_field(
    session: Session, cast: Cast, finding: Finding, field: str
) -> None:
    with pytest.raises(ServiceError) as refused:
        penalty(session, cast, "湘医保罚〔2025〕7号", date(2025, 4, 8), finding)
    assert refused.value.field == field


def test_an_event_before_the_ruleset_took_effect_is_refused(session: Session, cast: Cast) -> None:
    with pytest.raises(ServiceError, match="施行日期 2025-03-01") as refused:
        penalty(
            session, cast, "湘医保罚〔2025〕8号", date(2025, 2, 20), Finding(cast.nurse, points=3)
        )
    assert refused.value.field == "decision_date"


def test_a_correction_supersedes_and_keeps_the_old_entry(session: Session, cast: Cast) -> None:
    penalty(session, cast, "湘医保罚〔2025〕9号", date(2025, 4, 8), Finding(cast.nurse, points=9))
    entry = session.exec(select(LedgerEntry)).one()
    assert entry.id is not None
    with pytest.raises(ServiceError, match="理由"):
        correct_entry(
            session, Act("officer-wang", OFFICER.at, " "), entry.id, {"points": 3}, date(2025, 4, 9)
        )
    act = Act("officer-zhao", OFFICER.at, "复核发现记分错误")
    new = correct_entry(session, act, entry.id, {"points": 3}, date(2025, 4, 9))
    assert new.supersedes_id == entry.id and new.recorded_by == "officer-zhao"
    assert status_on(session, cast.nurse, date(2025, 6, 1)).status == "normal"
    assert status_on(session, cast.nurse, date(2025, 6, 1)).year_points == 3
    assert json.loads(session.get(LedgerEntry, entry.id).payload)["points"] == 9  # type: ignore[union-attr]
    with pytest.raises(ServiceError, match="已被更正"):
        correct_entry(session, act, entry.id, None, date(2025, 4, 9))


def test_settlement_check_pays_emergencies_only_while_suspended(
    session: Session, cast: Cast
) -> None:
    penalty(
        session, cast, "湘医保罚〔2025〕10号", date(2025, 5, 12), Finding(cast.doctor, points=9)
    )
    assert settlement_check(session, cast.doctor, date(2025, 5, 20), emergency=False).payable
    during = settlement_check(session, cast.doctor, date(2025, 6, 15), emergency=False)
    assert not during.payable and "不予支付" in during.reason
    assert settlement_check(session, cast.doctor, date(2025, 6, 15), emergency=True).payable
    # After the period, until a restoration is approved (RULES I-8):
    assert not settlement_check(session, cast.doctor, date(2025, 9, 1), emergency=False).payable


def test_the_cache_answers_like_a_replay_and_verify_proves_it(
    session: Session, engine: Engine, cast: Cast
) -> None:
    penalty(
        session, cast, "湘医保罚〔2025〕11号", date(2025, 5, 12), Finding(cast.doctor, points=10)
    )
    penalty(session, cast, "湘医保罚〔2025〕12号", date(2025, 5, 13), Finding(cast.nurse, points=2))
    session.commit()
    report = verify.check(engine)
    assert report.ok and (report.with_history, report.agree) == (2, 2)
    row = session.exec(select(StatusCache)).first()
    assert row is not None
    row.timeline = row.timeline.replace('"suspension"', '"termination"', 1).replace("10", "1", 1)
    session.add(row)
    session.commit()
    broken = verify.check(engine)
    assert not broken.ok and len(broken.mismatched) == 1
    fixed = verify.check(engine, rebuild=True)
    assert fixed.rebuilt == 1
    assert verify.check(engine).ok


def test_the_fast_lookup_agrees_with_the_service_on_any_date(
    session: Session, engine: Engine, cast: Cast
) -> None:
    from portal.services.lookup import status_by_code

    penalty(
        session, cast, "湘医保罚〔2025〕13号", date(2025, 5, 12), Finding(cast.doctor, points=9)
    )
    penalty(session, cast, "湘医保罚〔2025〕14号", date(2025, 8, 4), Finding(cast.doctor, points=1))
    session.commit()
    with engine.connect() as conn:
        for day in (date(2025, 5, 1), date(2025, 6, 15), date(2025, 8, 20), date(2026, 1, 5)):
            found = status_by_code(conn, cast.doctor, day)
            assert found is not None and (found.national_code, found.name) == (cast.doctor, "张伟")
            assert found.status == status_on(session, cast.doctor, day)
        assert status_by_code(conn, "D43010299999", date(2025, 6, 1)) is None
        nurse = status_by_code(conn, cast.nurse, date(2025, 6, 1))
        assert nurse is not None and (nurse.national_code, nurse.name) == (cast.nurse, "李娜")
        assert nurse.status.status == "normal"


def test_stored_registration_statuses_follow_the_calendar_when_refreshed(
    session: Session, engine: Engine, cast: Cast
) -> None:
    penalty(
        session, cast, "湘医保罚〔2025〕15号", date(2025, 5, 12), Finding(cast.doctor, points=9)
    )
    session.commit()
    assert statuses(session, cast.doctor) == {"normal"}  # suspended only from 1 June
    assert verify.refresh_statuses(engine, date(2025, 6, 2)) == 2  # both hospitals
    session.rollback()  # end the read snapshot taken before the refresh
    assert statuses(session, cast.doctor) == {"suspended"}
    assert verify.refresh_statuses(engine, date(2025, 6, 3)) == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"points": 40}, "points"),
        ({"points": "abc"}, "points"),
        ({"foo": 1}, "foo"),
        ({"effective": "soon"}, "effective"),
        ({}, "payload"),
    ],
)
def test_a_correction_is_checked_and_changes_nothing_when_wrong(
    session: Session, cast: Cast, payload: dict[str, object], field: str
) -> None:
    penalty(session, cast, "湘医保罚〔2025〕16号", date(2025, 4, 8), Finding(cast.nurse, points=3))
    session.commit()
    entry = session.exec(select(LedgerEntry)).one()
    assert entry.id is not None
    act = Act("officer-zhao", OFFICER.at, "复核")
    with pytest.raises(ServiceError) as refused:
        correct_entry(session, act, entry.id, payload, date(2025, 4, 9))
    assert refused.value.field == field
    session.rollback()
    assert session.exec(select(func.count()).select_from(LedgerEntry)).one() == 1


def test_rebuild_recomputes_from_the_ledger_as_it_is_when_it_writes(
    session: Session, engine: Engine, cast: Cast
) -> None:
    penalty(session, cast, "湘医保罚〔2025〕17号", date(2025, 5, 12), Finding(cast.nurse, points=3))
    session.commit()
    row = session.exec(select(StatusCache)).one()
    row.timeline = "{}"  # a broken cache row, found by a check
    session.add(row)
    session.commit()
    broken = verify.check(engine)
    assert len(broken.mismatched) == 1
    # A writer lands between the check and the rebuild: the rebuild must not undo it.
    penalty(session, cast, "湘医保罚〔2025〕18号", date(2025, 5, 20), Finding(cast.nurse, points=9))
    session.commit()
    person_id = row.practitioner_id
    verify._rebuild(engine, [person_id], date(2025, 7, 1))
    assert verify.check(engine, on=date(2025, 7, 1)).ok
    assert status_on(session, cast.nurse, date(2025, 7, 1)).year_points == 12


def test_verify_reports_registrations_whose_status_is_out_of_date(
    session: Session, engine: Engine, cast: Cast
) -> None:
    penalty(
        session, cast, "湘医保罚〔2025〕19号", date(2025, 5, 12), Finding(cast.doctor, points=9)
    )
    session.commit()
    assert verify.check(engine, on=date(2025, 5, 20)).stale_statuses == 0
    late = verify.check(engine, on=date(2025, 6, 2))
    assert late.ok and late.stale_statuses == 2  # two hospitals still say normal
    verify.refresh_statuses(engine, date(2025, 6, 2))
    assert verify.check(engine, on=date(2025, 6, 2)).stale_statuses == 0


def test_the_database_refuses_to_rewrite_the_ledger(
    session: Session, engine: Engine, cast: Cast
) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    penalty(session, cast, "湘医保罚〔2025〕20号", date(2025, 4, 8), Finding(cast.nurse, points=3))
    session.commit()
    for statement in ("UPDATE ledger_entry SET payload = '{}'", "DELETE FROM ledger_entry"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert session.exec(select(func.count()).select_from(LedgerEntry)).one() == 1
