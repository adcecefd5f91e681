"""The annual credit evaluation (Hunan-Credit Art. 19-22; RULES §8 I-15..I-17, I-21), on
SQLite and PostgreSQL.

The cast of 2025 in 长沙 (4301) and 岳阳 (4306), registered since 2024 unless said:
- 李娜 (nurse, 长沙一院): 3 points in 2025 → 70 − 15 = 55, C;
- 赵敏 (nurse, 长沙一院): no points, a signed commitment → 10 + 70 = 80, B;
- 张伟 (doctor, 长沙一院): 4 points, but a hospital doctor: points not applied → 70, B;
- 王芳 (pharmacist, 药房一店): 12 points, terminated in 2025 → D whatever the score (I-17);
- 钱进 (nurse) registered 2025-06-01: short period, not evaluated (Art. 20(1));
- 孙悦 (nurse) never registered: no fund use (Art. 20(2));
- 长沙一院: two penalties in 2025 → 70 − 40 = 30, D, but first held until the health
  commission's opinion (Art. 21);
- 药房二店: commended and assisting supervision → 20 + 70 = 90, A (a pharmacy: no consultation);
- 岳阳医院 and 刘强 (doctor there): outside 长沙.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from portal.db import session_scope
from portal.identifiers import make_credit_code, make_resident_id
from portal.models import CreditResult, CreditRun
from portal.services import credit_evaluation as credit
from portal.services.ledger import Finding, record_case
from portal.services.registrations import register
from portal.services.registry import Act, create_institution, create_practitioner
from tests.portal.conftest import SECRET

SETUP = Act("setup", datetime(2024, 1, 2, 1, 0, tzinfo=UTC), "测试数据")
CREDIT = Act("chenjing", datetime(2026, 3, 1, 1, 0, tzinfo=UTC), "年度信用评价")
TODAY = date(2026, 3, 1)


@dataclass(frozen=True)
class World:
    hospital: str = "H43010200001"
    pharmacy: str = "P43010300001"
    pharmacy2: str = "P43010400002"
    yueyang: str = "H43060200001"
    nurse_points: str = "N43010200001"
    nurse_clean: str = "N43010200002"
    doctor: str = "D43010200003"
    pharmacist: str = "HY430103000001"
    nurse_late: str = "N43010200004"
    nurse_idle: str = "N43010200005"
    yueyang_doctor: str = "D43060200001"


def build(session: Session) -> World:
    w = World()
    for code, name, region, kind, org in (
        (w.hospital, "长沙市第一医院", "430102", "hospital", "MB1A00001"),
        (w.pharmacy, "老百姓大药房一店", "430103", "pharmacy", "MA4L00001"),
        (w.pharmacy2, "老百姓大药房二店", "430104", "pharmacy", "MA4L00002"),
        (w.yueyang, "岳阳市人民医院", "430602", "hospital", "MB1A00009"),
    ):
        create_institution(
            session, SETUP, code=code, name=name, kind=kind, region=region,
            credit_code=make_credit_code(region, org), ownership="public",
        )  # fmt: skip
    people = (
        (w.nurse_points, "李娜", w.hospital, date(2024, 1, 2)),
        (w.nurse_clean, "赵敏", w.hospital, date(2024, 1, 2)),
        (w.doctor, "张伟", w.hospital, date(2024, 1, 2)),
        (w.pharmacist, "王芳", w.pharmacy, date(2024, 1, 2)),
        (w.nurse_late, "钱进", w.hospital, date(2025, 6, 1)),
        (w.nurse_idle, "孙悦", None, None),
        (w.yueyang_doctor, "刘强", w.yueyang, date(2024, 1, 2)),
    )
    for n, (code, name, where, since) in enumerate(people):
        region = code[2:8] if code.startswith("HY") else code[1:7]
        create_practitioner(
            session, SETUP, national_code=code, name=name, secret=SECRET,
            id_number=make_resident_id(region, date(1980, 1, 1 + n), n, "female"),
        )  # fmt: skip
        if where is not None and since is not None:
            register(
                session, SETUP, national_code=code, institution_code=where, registered_on=since,
                commitment_signed_on=since,
            )  # fmt: skip
    # The second pharmacy has a registration from 2024 (its fund use), nobody scored.
    for no, where, code, points in (
        ("湘医保罚〔2025〕1号", w.hospital, w.nurse_points, 3),
        ("湘医保罚〔2025〕2号", w.hospital, w.doctor, 4),
        ("湘医保罚〔2025〕3号", w.pharmacy, w.pharmacist, 12),
    ):
        day = date(2025, 6, 3)
        record_case(
            session, Act("officer", datetime(2025, 6, 3, 1, tzinfo=UTC), "依法处理"),
            institution_code=where, decision_type="administrative_penalty",
            legal_basis="《条例》第三十八条", document_no=no, decision_date=day, amount=None,
            findings=[Finding(code, points=points)], as_of=day,
        )  # fmt: skip
    session.commit()
    return w


@pytest.fixture
def world(engine: Engine) -> World:
    with session_scope(engine, write=True) as session:
        w = build(session)
        create_practitioner(
            session, SETUP, national_code="N43010400009", name="周琳", secret=SECRET,
            id_number=make_resident_id("430104", date(1985, 3, 3), 40, "female"),
        )  # fmt: skip
        register(
            session, SETUP, national_code="N43010400009", institution_code=w.pharmacy2,
            registered_on=date(2024, 1, 2), commitment_signed_on=date(2024, 1, 2),
        )  # fmt: skip
        for indicator in ("commendation", "assists_supervision"):
            credit.record_fact(session, CREDIT, 2025, "designated_pharmacy", w.pharmacy2,
                               indicator)  # fmt: skip
    return w


def current(engine: Engine, key: str, year: int = 2025) -> CreditResult:
    with session_scope(engine) as session:
        rows = session.exec(
            select(CreditResult)
            .where(CreditResult.subject_key == key)
            .where(CreditResult.year == year)
            .order_by(col(CreditResult.id))
        ).all()
    assert rows, f"{key} has a result"
    return rows[-1]


def test_grades_from_points_the_veto_and_the_exclusions(engine: Engine, world: World) -> None:
    summary = credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    assert current(engine, world.nurse_points).grade == "C"
    assert current(engine, world.nurse_points).score == 55
    assert current(engine, world.nurse_clean).grade == "B"
    assert current(engine, world.nurse_clean).score == 80
    doctor = current(engine, world.doctor)
    assert doctor.grade == "B" and doctor.score == 70
    assert "separate" in doctor.explain and "Hunan-Rules Art. 17" in doctor.explain
    pharmacist = current(engine, world.pharmacist)
    assert pharmacist.grade == "D" and "I-17" in pharmacist.explain
    assert "payment_qualification" in json.loads(pharmacist.measures)
    late, idle = current(engine, world.nurse_late), current(engine, world.nurse_idle)
    assert late.excluded and late.exclusion_reason == "short_period" and late.grade is None
    assert idle.excluded and idle.exclusion_reason == "no_fund_use"
    best = current(engine, world.pharmacy2)
    assert best.grade == "A" and best.score == 90 and best.incentives
    assert "publicised" in json.loads(best.measures)
    data = summary.to_json()
    assert data["excluded"] == {"no_fund_use": 1, "short_period": 1}
    assert data["kinds"]["practitioner"] == 7 and data["kinds"]["designated_pharmacy"] == 2


def test_medical_institutions_are_held_until_consulted(engine: Engine, world: World) -> None:
    first = credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    assert [h["code"] for h in first.held] == [world.hospital]
    held = current(engine, world.hospital)
    assert held.state == "held_for_consultation" and held.grade is None
    assert "Art. 21" in held.explain
    with session_scope(engine, write=True) as session:
        credit.record_consultation(session, CREDIT, 2025, world.hospital, "无不同意见")
    again = credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    assert again.written == 1 and again.unchanged == again.total - 1  # only the hospital
    graded = current(engine, world.hospital)
    assert graded.state == "graded" and graded.grade == "D" and graded.score == 30
    assert graded.supersedes_id == held.id
    assert credit.commit(engine, CREDIT, 2025, "4301", today=TODAY).written == 0


def test_a_changed_fact_gives_a_new_row_for_that_subject_only(engine: Engine, world: World) -> None:
    credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    before = current(engine, world.nurse_clean)
    with session_scope(engine, write=True) as session:
        credit.record_fact(session, CREDIT, 2025, "practitioner", world.nurse_clean,
                           "commendation")  # fmt: skip
    rerun = credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    assert rerun.written == 1
    after = current(engine, world.nurse_clean)
    assert after.grade == "A" and after.score == 90 and after.supersedes_id == before.id
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE credit_result SET grade = 'A'"))


def test_publish_only_after_commit_and_the_a_grade_list(engine: Engine, world: World) -> None:
    with pytest.raises(credit.CreditError, match="尚未提交"):
        credit.publish(engine, CREDIT, 2025, "4301")
    with session_scope(engine) as session:
        assert credit.latest_a_grade(session) == (None, [])
    credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    with session_scope(engine) as session:
        assert credit.latest_a_grade(session) == (None, [])  # committed, not published
    published = credit.publish(engine, CREDIT, 2025, "4301")
    assert published.published_runs == 1 and published.state == "published"
    with session_scope(engine) as session:
        year, rows = credit.latest_a_grade(session)
    assert year == 2025 and [(r.code, r.name) for r in rows] == [
        (world.pharmacy2, "老百姓大药房二店")
    ]


def test_region_scope_and_refusals(engine: Engine, world: World) -> None:
    yueyang = credit.preview(engine, 2025, "4306", today=TODAY)
    assert yueyang.total == 2 and yueyang.held_count == 1  # 岳阳医院 and its doctor
    changsha = credit.preview(engine, 2025, "4301", today=TODAY)
    assert set(changsha.cities) == {"4301"}
    province = credit.preview(engine, 2025, None, today=TODAY)
    assert province.total == changsha.total + yueyang.total
    with session_scope(engine) as session:
        assert session.exec(select(CreditRun)).all() == []  # a preview writes nothing
    with pytest.raises(credit.CreditError, match="未知行政区划"):
        credit.preview(engine, 2025, "4399", today=TODAY)
    with pytest.raises(credit.CreditError, match="未知行政区划"):
        credit.preview(engine, 2025, "3401", today=TODAY)
    with pytest.raises(credit.CreditError, match="尚未结束"):
        credit.commit(engine, CREDIT, 2026, "4301", today=TODAY)


def test_a_run_killed_half_way_leaves_nothing(engine: Engine, world: World) -> None:
    def killed(_n: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        credit.commit(engine, CREDIT, 2025, "4301", today=TODAY, progress=killed)
    with session_scope(engine) as session:
        assert session.exec(select(CreditRun)).all() == []
        assert session.exec(select(CreditResult)).all() == []
    done = credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    assert done.written == done.total
