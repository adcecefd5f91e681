"""Re-evaluation on changed facts (Hunan-Credit Art. 19, 22), archive items as indicators
(Art. 13-14, 18, 27) and the credit-grade repair route looking the grade up itself
(Hunan-Rules Art. 12(3)), on SQLite and PostgreSQL. The cast: tests/portal/test_credit_evaluation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from portal.credit_models import CreditChangeNotice, CreditItem, CreditRepair
from portal.db import session_scope
from portal.models import CreditResult
from portal.services import credit_evaluation as credit
from portal.services.appeals import decide_appeal, file_appeal
from portal.services.errors import ServiceError
from portal.services.ledger import Finding, record_case
from portal.services.registry import Act
from portal.services.repairs import apply_repair, decide_repair
from tests.portal.test_credit_evaluation import CREDIT, TODAY, World, build, world

__all__ = ["world"]  # the fixture: the cast, and 药房二店 commended (A, 90)

CASE = Act("officer", datetime(2026, 3, 5, 1, tzinfo=UTC), "依法处理")


@pytest.fixture
def committed(engine: Engine, world: World) -> World:
    credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    return world


def _current(session: Session, year: int, key: str) -> CreditResult:
    rows = session.exec(
        select(CreditResult)
        .where(CreditResult.year == year)
        .where(CreditResult.subject_key == key)
        .order_by(col(CreditResult.id))
    ).all()
    return rows[-1]


def _penalty(session: Session, w: World, code: str, day: date, no: str, points: int = 2) -> None:
    record_case(
        session, CASE, institution_code=w.hospital, decision_type="administrative_penalty",
        legal_basis="《条例》第三十八条", document_no=no, decision_date=day, amount=None,
        findings=[Finding(code, points=points)], as_of=day,
    )  # fmt: skip


def test_a_penalty_in_a_committed_year_supersedes_the_result_and_tells_the_subject(
    engine: Engine, committed: World
) -> None:
    w = committed
    with session_scope(engine) as session:
        before = _current(session, 2025, w.nurse_clean)
    assert (before.grade, before.score) == ("B", 80)
    with session_scope(engine, write=True) as session:
        _penalty(session, w, w.nurse_clean, date(2025, 9, 1), "湘医保罚〔2025〕9号")
    with session_scope(engine) as session:
        after = _current(session, 2025, w.nurse_clean)
        notices = session.exec(
            select(CreditChangeNotice).where(CreditChangeNotice.subject_key == w.nurse_clean)
        ).all()
    # 2 points × 5 = 10 off, and no more commitment bonus: 60, C.
    assert (after.grade, after.score, after.supersedes_id) == ("C", 60, before.id)
    assert after.run_id == before.run_id
    [notice] = notices
    assert notice.result_id == after.id and notice.previous_result_id == before.id
    assert "B 级（80 分） → C 级（60 分）" in notice.what
    assert "湘医保罚〔2025〕9号" in notice.why
    assert "第十九条" in notice.basis and "第二十二条" in notice.basis
    # The medical institution is still held for its consultation (Art. 21).
    with session_scope(engine) as session:
        hospital = _current(session, 2025, w.hospital)
    assert hospital.state == credit.HELD and hospital.grade is None
    with session_scope(engine) as session:
        [told] = session.exec(
            select(CreditChangeNotice).where(CreditChangeNotice.subject_key == w.hospital)
        ).all()
    assert "待征求意见（暂定 30 分） → 待征求意见（暂定 10 分）" in told.what
    # Re-running the committed year writes nothing new: the results are already current.
    again = credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    assert again.written == 0


def test_a_penalty_of_the_next_year_changes_nothing_for_the_committed_year(
    engine: Engine, committed: World
) -> None:
    w = committed
    with session_scope(engine, write=True) as session:
        _penalty(session, w, w.nurse_clean, date(2026, 2, 2), "湘医保罚〔2026〕1号")
    with session_scope(engine) as session:
        assert _current(session, 2025, w.nurse_clean).grade == "B"
        assert not session.exec(select(CreditChangeNotice)).all()


def test_nothing_is_reevaluated_before_a_year_is_committed(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        w = build(session)
        assert credit.reevaluate_subject(session, CREDIT, "practitioner", w.nurse_clean) == []
        assert not session.exec(select(CreditResult)).all()


def _item(session: Session, key: str, indicator: str, polarity: str, **extra: object) -> CreditItem:
    item = CreditItem(
        subject_kind="designated_pharmacy", subject_key=key, category="administrative",
        polarity=polarity, source="supervision", title="受到医疗保障行政处罚",
        occurred_on=date(2025, 8, 1), indicator=indicator, **CREDIT.stamp(), **extra,
    )  # fmt: skip
    session.add(item)
    session.flush()
    return item


def test_an_archive_item_counts_as_its_indicator_until_superseded_or_repaired(
    engine: Engine, committed: World
) -> None:
    w = committed
    with session_scope(engine) as session:
        assert _current(session, 2025, w.pharmacy2).grade == "A"
    with session_scope(engine, write=True) as session:
        bad = _item(session, w.pharmacy2, "administrative_penalty", "bad")
        [notice] = credit.item_changed(session, CREDIT, bad)
        assert "A 级（90 分） → B 级（70 分）" in notice.what
    with session_scope(engine, write=True) as session:  # corrected: a withdrawal supersedes it
        gone = _item(session, w.pharmacy2, "", "bad", supersedes_id=bad.id, withdrawn=True)
        credit.item_changed(session, CREDIT, gone)
        assert _current(session, 2025, w.pharmacy2).grade == "A"
    with session_scope(engine, write=True) as session:  # a new one, then repaired (Art. 27)
        again = _item(session, w.pharmacy2, "administrative_penalty", "bad", origin="x:2")
        credit.item_changed(session, CREDIT, again)
        assert _current(session, 2025, w.pharmacy2).grade == "B"
        session.add(CreditRepair(
            item_id=again.id, subject_kind="designated_pharmacy", subject_key=w.pharmacy2,
            applicant="药房二店", applied_on=date(2026, 3, 2), correction="已整改",
            state="approved", **CREDIT.stamp(),
        ))  # fmt: skip
        session.flush()
        credit.item_changed(session, CREDIT, again)
        assert _current(session, 2025, w.pharmacy2).grade == "A"
    with session_scope(engine, write=True) as session:  # a good item is a bonus, capped at 30
        good = _item(session, w.pharmacy, "commendation", "good", origin="x:3")
        credit.item_changed(session, CREDIT, good)
        assert "commendation: 1 × 10 = +10" in _current(session, 2025, w.pharmacy).explain


# --- the credit-grade repair route (Hunan-Rules Art. 12(3)) -------------------------------


def test_the_credit_grade_route_looks_up_last_years_grade(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        w = build(session)
        credit.record_fact(session, CREDIT, 2025, "practitioner", w.nurse_clean, "commendation")
    credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    with session_scope(engine, write=True) as session:
        _penalty(session, w, w.nurse_clean, date(2026, 2, 2), "湘医保罚〔2026〕2号", points=6)
        app = apply_repair(
            session, CASE, national_code=w.nurse_clean, route="credit_grade", param="D",
            applied_on=date(2026, 3, 6),
        )  # fmt: skip
        assert app.param == "A"  # looked up: 2025 was A (90), whatever was typed
        decide_repair(session, CASE, app.id or 0, approve=True, on=date(2026, 3, 6),
                      level="institution")  # fmt: skip
        done = decide_repair(session, CASE, app.id or 0, approve=True, on=date(2026, 3, 7),
                             level="agency")  # fmt: skip
        assert (done.state, done.granted) == ("approved", 5)


def test_the_credit_grade_route_is_refused_without_a_result_or_with_c(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        w = build(session)
        with pytest.raises(ServiceError) as missing:
            apply_repair(session, CASE, national_code=w.nurse_clean, route="credit_grade",
                         param=None, applied_on=date(2026, 3, 6))  # fmt: skip
    assert missing.value.field == "route" and "2025 年度" in missing.value.message
    credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    with session_scope(engine, write=True) as session, pytest.raises(ServiceError) as low:
        apply_repair(session, CASE, national_code=w.nurse_points, route="credit_grade",
                     param="A", applied_on=date(2026, 3, 6))  # fmt: skip  # 李娜: 55, C
    assert low.value.field == "route" and "C" in low.value.message


def test_an_upheld_appeal_reevaluates_the_committed_year(engine: Engine, committed: World) -> None:
    w = committed
    with session_scope(engine, write=True) as session:
        appeal = file_appeal(
            session, CASE, decision_no="湘医保罚〔2025〕1号", national_code=w.nurse_points,
            received_on=date(2025, 6, 5),
        )  # fmt: skip
        decide_appeal(session, CASE, appeal.id or 0, upheld=True, decided_on=date(2025, 6, 20),
                      points=0)  # fmt: skip
    with session_scope(engine) as session:
        now = _current(session, 2025, w.nurse_points)
        [notice] = session.exec(select(CreditChangeNotice)).all()
    assert (now.grade, now.score) == ("B", 80)  # no points: 70, and the commitment bonus
    assert "C 级（55 分） → B 级（80 分）" in notice.what and "申诉成立" in notice.why


def test_an_item_recorded_through_the_archive_reevaluates_and_tells_the_subject(
    engine: Engine, committed: World
) -> None:
    """The archive's own writes (record, withdraw) re-evaluate at once: no separate call."""
    from portal.services import credit_archive

    w = committed
    act = Act("credit-officer", datetime(2026, 5, 6, 1, tzinfo=UTC), "市场监管部门推送")
    with session_scope(engine, write=True) as session:
        item = credit_archive.record_item(
            session, act, subject_kind="designated_pharmacy", subject_key=w.pharmacy2,
            category="administrative", polarity="bad", public=False, source="shared_platform",
            title="受到市场监管行政处罚", occurred_on=date(2025, 9, 1),
            indicator="administrative_penalty",
        )  # fmt: skip
    with session_scope(engine) as session:
        assert _current(session, 2025, w.pharmacy2).grade == "B"
        notices = session.exec(
            select(CreditChangeNotice).where(CreditChangeNotice.subject_key == w.pharmacy2)
        ).all()
        assert [n.why for n in notices] == ["信用信息变化：受到市场监管行政处罚（2025-09-01）"]
    with session_scope(engine, write=True) as session:
        credit_archive.withdraw_item(session, act, item.id or 0)
    with session_scope(engine) as session:
        assert _current(session, 2025, w.pharmacy2).grade == "A"


def test_listing_an_institution_grades_its_committed_year_d_and_tells_it(
    engine: Engine, committed: World
) -> None:
    """A listing in force during the year vetoes the grade (RULES I-17) and takes the
    incentives (Art. 31: no dishonesty information); the subject is told (Art. 22)."""
    from portal.services import blacklist

    w = committed
    act = Act("credit-officer", datetime(2025, 11, 3, 1, tzinfo=UTC), "严重失信")
    with session_scope(engine) as session:
        before = _current(session, 2025, w.pharmacy2)
    assert before.grade == "A" and before.incentives
    with session_scope(engine, write=True) as session:
        listing = blacklist.propose(
            session, act, subject_kind="designated_pharmacy", subject_key=w.pharmacy2,
            grounds="造成医疗保障基金重大损失", basis="《湖南省医疗保障信用管理办法》第三十三条",
            authority="长沙市医疗保障局", proposed_on=date(2025, 10, 8),
        )  # fmt: skip
        blacklist.issue_prior_notice(session, act, listing.id or 0, on=date(2025, 10, 9))
        blacklist.list_subject(session, act, listing.id or 0, listed_on=date(2025, 11, 3))
    with session_scope(engine) as session:
        after = _current(session, 2025, w.pharmacy2)
        assert after.grade == "D" and not after.incentives and after.supersedes_id == before.id
        notices = session.exec(
            select(CreditChangeNotice).where(CreditChangeNotice.subject_key == w.pharmacy2)
        ).all()
        assert any("→ D 级" in n.what for n in notices)
