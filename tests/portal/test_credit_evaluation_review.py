"""Review fixes of the annual run (Hunan-Credit Art. 20, 21, 31; RULES I-17), on the cast of
tests.portal.test_credit_evaluation (药房二店 is A, 90; 赵敏 B, 80)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from portal.credit_models import BlacklistListing, CreditItem
from portal.db import session_scope
from portal.models import CreditRun, Job
from portal.services import credit_catalogue, jobs
from portal.services import credit_evaluation as credit
from portal.services.errors import ServiceError
from tests.portal.test_credit_evaluation import CREDIT, TODAY, World, current
from tests.portal.test_credit_evaluation import world as world


def _listing(engine: Engine, kind: str, key: str, listed_on: date, until: date | None) -> None:
    with session_scope(engine, write=True) as session:
        session.add(BlacklistListing(
            subject_kind=kind, subject_key=key, name="x", region="430104", grounds="事由",
            basis="依据", authority="长沙市医疗保障局", state="listed", proposed_on=listed_on,
            listed_on=listed_on, publish_until=until, **CREDIT.stamp()))  # fmt: skip


def test_a_listing_in_force_in_the_year_grades_an_institution_d(
    engine: Engine, world: World
) -> None:
    _listing(engine, "designated_pharmacy", world.pharmacy2, date(2022, 3, 1), date(2025, 3, 1))
    credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    listed = current(engine, world.pharmacy2)
    assert listed.grade == "D" and listed.score == 90 and not listed.incentives


def test_a_listing_ended_before_the_year_does_not(engine: Engine, world: World) -> None:
    _listing(engine, "designated_pharmacy", world.pharmacy2, date(2021, 3, 1), date(2024, 3, 1))
    credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    assert current(engine, world.pharmacy2).grade == "A"


def test_a_serious_item_takes_incentives_and_the_a_grade_list(engine: Engine, world: World) -> None:
    with session_scope(engine, write=True) as session:
        session.add(CreditItem(
            subject_kind="designated_pharmacy", subject_key=world.pharmacy2,
            category="administrative_penalty", polarity="bad", serious=True, source="import",
            title="严重失信", occurred_on=date(2025, 5, 1), **CREDIT.stamp()))  # fmt: skip
    credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    row = current(engine, world.pharmacy2)
    assert row.grade == "A" and not row.incentives  # graded, but dishonesty information
    credit.publish(engine, CREDIT, 2025, "4301")
    with session_scope(engine) as session:
        year, listed = credit.latest_a_grade(session)
    assert year == 2025 and world.pharmacy2 not in [a.code for a in listed]


def test_recorded_exclusions_art_20_3_and_4(engine: Engine, world: World) -> None:
    with session_scope(engine, write=True) as session:
        credit.record_exclusion(
            session,
            CREDIT,
            2025,
            "practitioner",
            world.nurse_clean,
            "excluded_other",
            "长期病假",
            lambda r: r.startswith("4301"),
        )
        credit.record_exclusion(
            session,
            CREDIT,
            2025,
            "practitioner",
            world.nurse_clean,
            "under_investigation",
            "公安机关立案",
            None,
        )
        credit.record_exclusion(
            session,
            CREDIT,
            2025,
            "practitioner",
            world.nurse_points,
            "excluded_other",
            "机构合并",
            None,
        )
        with pytest.raises(ServiceError) as outside:
            credit.record_exclusion(session, CREDIT, 2025, "designated_hospital",
                                    world.yueyang, "excluded_other", "x",
                                    lambda r: r.startswith("4301"))  # fmt: skip
        assert outside.value.field == "subject_key"
        with pytest.raises(ServiceError) as empty:
            credit.record_exclusion(session, CREDIT, 2025, "practitioner", world.nurse_points,
                                    "excluded_other", "  ", None)  # fmt: skip
        assert empty.value.field == "reason"
    summary = credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    investigated, other = current(engine, world.nurse_clean), current(engine, world.nurse_points)
    assert investigated.state == "excluded"
    assert investigated.exclusion_reason == "under_investigation"  # first (RULES §8)
    assert "公安机关立案" in investigated.explain
    assert other.exclusion_reason == "other" and "机构合并" in other.explain
    assert summary.excluded_reasons["other"] == 1
    assert summary.kind_grades["practitioner"]["excluded"] >= 2


def test_counts_per_kind_and_city(engine: Engine, world: World) -> None:
    summary = credit.preview(engine, 2025, "4301", today=TODAY)
    data = summary.to_json()
    assert data["kind_grades"]["designated_pharmacy"]["A"] == 1
    assert sum(sum(v.values()) for v in data["kind_grades"].values()) == data["total"]
    assert set(data["cities"]) == {"4301"}


def test_only_the_province_or_a_city_evaluates(engine: Engine, world: World) -> None:
    with pytest.raises(credit.CreditError) as county:
        credit.preview(engine, 2025, "430102", today=TODAY)
    assert county.value.field == "region" and "第二十一条" in county.value.message
    assert credit.check_region("4301") == "4301" and credit.check_region(None) == "43"


def test_health_commission_results_of_a_run(engine: Engine, world: World) -> None:
    credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    with session_scope(engine) as session:
        run = session.exec(select(CreditRun)).one()
        rows = credit.medical_results(session, run)
    assert [r["code"] for r in rows] == [world.hospital]
    assert rows[0]["name"] == "长沙市第一医院" and rows[0]["state"] == "held_for_consultation"


def test_a_job_without_heartbeat_for_two_minutes_is_interrupted(engine: Engine) -> None:
    old = datetime.now(UTC) - timedelta(minutes=10)
    with session_scope(engine, write=True) as session:
        job = Job(kind="credit_evaluate", actor="chenjing", started_at=old,
                  summary='{"year": 2025, "region": "4301"}')  # fmt: skip
        session.add(job)
        session.flush()
        job_id = job.id or 0
    with session_scope(engine) as session:
        stale = session.get(Job, job_id)
        assert stale is not None and jobs.interrupted(stale)
    jobs.advance(engine, job_id, 10)  # progress is a heartbeat
    with session_scope(engine) as session:
        beating = session.get(Job, job_id)
        assert beating is not None and not jobs.interrupted(beating)
        assert jobs.interrupted(beating, datetime.now(UTC) + timedelta(seconds=121))


@pytest.mark.parametrize("typed", ["１２", "١٢", "1_0", "²", "1e1", "nan", "-1"])
def test_points_only_in_ascii_decimals(typed: str) -> None:
    with pytest.raises(ServiceError) as refused:
        credit_catalogue.check_indicator(
            indicator="commendation",
            module="bonus",
            points=typed,
            cap=None,
            title="表彰",
            ref="第十四条",
        )
    assert refused.value.field == "points"
    with pytest.raises(ServiceError) as cap:
        credit_catalogue.check_indicator(
            indicator="commendation",
            module="bonus",
            points="0.5",
            cap=typed,
            title="表彰",
            ref="第十四条",
        )
    assert cap.value.field == "cap"
    _, ok = credit_catalogue.check_indicator(
        indicator="commendation",
        module="bonus",
        points="0.5",
        cap="12",
        title="表彰",
        ref="第十四条",
    )
    assert ok["points"] == 0.5 and ok["cap"] == 12


def test_a_practitioner_listed_in_the_year_is_graded_d(engine: Engine, world: World) -> None:
    _listing(engine, "practitioner", world.nurse_clean, date(2025, 11, 1), date(2028, 11, 1))
    credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    listed = current(engine, world.nurse_clean)
    assert listed.grade == "D" and listed.score == 80 and not listed.incentives


def test_a_withdrawn_serious_item_is_no_dishonesty(engine: Engine, world: World) -> None:
    with session_scope(engine, write=True) as session:
        item = CreditItem(
            subject_kind="designated_pharmacy", subject_key=world.pharmacy2,
            category="dishonest_list", polarity="bad", source="import", title="失信名单",
            occurred_on=date(2025, 5, 1), **CREDIT.stamp())  # fmt: skip
        session.add(item)
        session.flush()
        session.add(CreditItem(
            subject_kind="designated_pharmacy", subject_key=world.pharmacy2,
            category="dishonest_list", polarity="bad", source="import", title="失信名单（撤回）",
            occurred_on=date(2025, 5, 1), supersedes_id=item.id, withdrawn=True,
            **CREDIT.stamp()))  # fmt: skip
    credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    row = current(engine, world.pharmacy2)
    assert row.grade == "A" and row.incentives


def test_an_exclusion_after_the_commit_re_evaluates_at_once(engine: Engine, world: World) -> None:
    credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    assert current(engine, world.nurse_clean).grade == "B"
    with session_scope(engine, write=True) as session:
        credit.record_exclusion(session, CREDIT, 2025, "practitioner", world.nurse_clean,
                                "under_investigation", "公安机关立案", None)  # fmt: skip
    now = current(engine, world.nurse_clean)
    assert now.state == "excluded" and now.supersedes_id is not None
    with session_scope(engine) as session:
        shown = credit.results_of(session, "practitioner", world.nurse_clean)
    assert shown[0].exclusion_reason == "under_investigation" and shown[0].changed
