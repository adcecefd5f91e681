"""The indicator catalogue (Hunan-Credit Art. 18; RULES §8 "Indicators"; Hunan-Rules
Art. 17): the shipped default, drafts, validation naming the field, a draft's preview
beside the version in force, publication frozen by the database, and the evaluation using
the published version. On SQLite and PostgreSQL; the cast: tests/portal/test_credit_evaluation.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from portal.credit_models import CreditCatalogue
from portal.db import session_scope
from portal.models import CreditResult, CreditRun
from portal.services import credit_catalogue as catalogue
from portal.services import credit_evaluation as credit
from portal.services.errors import ServiceError
from tests.portal.test_credit_evaluation import CREDIT, TODAY, World, world

__all__ = ["world"]


def _result(engine: Engine, key: str) -> CreditResult:
    with session_scope(engine) as session:
        return session.exec(
            select(CreditResult).where(CreditResult.subject_key == key)
            .order_by(col(CreditResult.id).desc())
        ).first()  # type: ignore[return-value]  # fmt: skip


def test_the_shipped_default_applies_until_a_version_is_published(engine: Engine) -> None:
    with session_scope(engine) as session:
        people = catalogue.catalogue_for(session, 2025, "practitioner")
        doctors = catalogue.catalogue_for(session, 2025, "hospital_doctor")
    assert people.name == "default-2024" and people.row_id is None
    assert people.deductions["practitioner_points"]["points"] == 5
    # The doctors' guideline is separate (Hunan-Rules Art. 17): their default has no points.
    assert doctors.name == "default-2024-doctors"
    assert "practitioner_points" not in doctors.deductions
    assert "administrative_penalty" in doctors.deductions


def test_a_draft_copies_the_current_version_and_the_default_becomes_a_row(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        draft = catalogue.create_draft(session, CREDIT, 2025, "practitioner")
        rows = catalogue.versions(session, 2025)
        assert [(r.version, r.state, r.is_default) for r in rows] == [
            (1, "draft", False), (0, "published", True),
        ]  # fmt: skip
        assert json.loads(draft.body)["deductions"] == json.loads(rows[1].body)["deductions"]
        with pytest.raises(ServiceError) as twice:
            catalogue.create_draft(session, CREDIT, 2025, "practitioner")
        assert twice.value.field == "subject_kind"
        with pytest.raises(ServiceError) as unknown:
            catalogue.create_draft(session, CREDIT, 2025, "dragon")
        assert unknown.value.field == "subject_kind"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"indicator": "Bad Id"}, "indicator"),
        ({"module": "extra"}, "module"),
        ({"points": "十"}, "points"),
        ({"points": "150"}, "points"),
        ({"points": ""}, "points"),
        ({"cap": "2"}, "cap"),
        ({"title": " "}, "title"),
        ({"ref": ""}, "ref"),
    ],
)
def test_an_indicator_is_checked_field_by_field(
    engine: Engine, change: dict[str, str], field: str
) -> None:
    typed = {"indicator": "late_settlement", "module": "deduction", "points": "5", "cap": "",
             "title": "结算资料报送不及时", "ref": "湖南信用办法第十四条", **change}  # fmt: skip
    with session_scope(engine, write=True) as session:
        draft = catalogue.create_draft(session, CREDIT, 2025, "designated_pharmacy")
        with pytest.raises(ServiceError) as refused:
            catalogue.set_indicator(session, CREDIT, draft.id or 0, **typed)
    assert refused.value.field == field
    assert refused.value.message  # in Chinese, shown next to the field


def test_a_published_version_is_frozen_by_the_database(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        draft = catalogue.create_draft(session, CREDIT, 2025, "practitioner")
        catalogue.publish(session, CREDIT, draft.id or 0)
        draft_id = draft.id or 0
    with session_scope(engine, write=True) as session:
        with pytest.raises(ServiceError) as edit:
            catalogue.set_indicator(
                session, CREDIT, draft_id, indicator="commendation", module="bonus",
                points="1", title="表彰", ref="第十四条",
            )  # fmt: skip
        assert edit.value.field == "catalogue_id"
    for statement in (
        "UPDATE credit_catalogue SET body = '{}' WHERE id = :id",
        "DELETE FROM credit_catalogue WHERE id = :id",
    ):
        with pytest.raises(DBAPIError), session_scope(engine, write=True) as session:
            session.execute(text(statement), {"id": draft_id})


def _stricter(engine: Engine, kind: str, per_point: str) -> int:
    with session_scope(engine, write=True) as session:
        draft = catalogue.create_draft(session, CREDIT, 2025, kind)
        catalogue.set_indicator(
            session, CREDIT, draft.id or 0, indicator="practitioner_points", module="deduction",
            points=per_point, title="医保支付资格记分（每分）", ref="湖南细则第十七条",
        )  # fmt: skip
        return draft.id or 0


def test_a_draft_with_a_changed_deduction_previews_different_counts(
    engine: Engine, world: World
) -> None:
    draft_id = _stricter(engine, "practitioner", "20")  # 李娜's 3 points: 70 − 60 = 10, D
    tried = credit.preview_catalogue(engine, draft_id, today=TODAY)
    assert tried.year == 2025 and tried.current_name == "default-2024"
    assert tried.current.grades["C"] - tried.draft.grades["C"] == 1
    assert tried.draft.grades["D"] - tried.current.grades["D"] == 1
    assert tried.draft.total == tried.current.total  # the same subjects, practitioners only
    assert set(tried.draft.kinds) == {"practitioner"}
    assert _result(engine, world.nurse_points) is None  # a preview writes nothing


def test_the_evaluation_uses_the_published_version_and_records_it(
    engine: Engine, world: World
) -> None:
    draft_id = _stricter(engine, "practitioner", "20")
    with session_scope(engine, write=True) as session:
        catalogue.publish(session, CREDIT, draft_id)
    summary = credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    assert summary.catalogues["practitioner"] == "2025-practitioner-v1"
    assert summary.catalogues["hospital_doctor"] == "default-2024-doctors"
    with session_scope(engine) as session:
        run = session.get(CreditRun, summary.run_id)
        assert run is not None and run.catalogue == "2025:p1,d0,h0,f0"
    nurse = _result(engine, world.nurse_points)
    assert (nurse.grade, nurse.score) == ("D", 10)
    # 2024 has no published version: the default.
    with session_scope(engine) as session:
        assert catalogue.catalogue_for(session, 2024, "practitioner").name == "default-2024"


def test_the_doctors_catalogue_applies_to_hospital_doctors(engine: Engine, world: World) -> None:
    credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    doctor = _result(engine, world.doctor)
    assert (doctor.grade, doctor.score) == ("B", 70)  # 4 points, not applied by default
    draft_id = _stricter(engine, "hospital_doctor", "5")
    with session_scope(engine, write=True) as session:
        catalogue.publish(session, CREDIT, draft_id)
    credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    doctor = _result(engine, world.doctor)
    assert (doctor.grade, doctor.score) == ("C", 50)  # 70 − 4 × 5
    assert (_result(engine, world.nurse_points).score) == 55  # the others' catalogue as before


def test_an_indicator_cap_limits_what_it_gives(engine: Engine, world: World) -> None:
    with session_scope(engine, write=True) as session:
        draft = catalogue.create_draft(session, CREDIT, 2025, "practitioner")
        catalogue.set_indicator(
            session, CREDIT, draft.id or 0, indicator="practitioner_points", module="deduction",
            points="5", cap="10", title="医保支付资格记分（每分）", ref="湖南细则第十七条",
        )  # fmt: skip
        catalogue.publish(session, CREDIT, draft.id or 0)
    credit.commit(engine, CREDIT, 2025, "4301", today=TODAY)
    nurse = _result(engine, world.nurse_points)
    assert nurse.score == 60 and "capped at 10" in nurse.explain  # 3 × 5 = 15, at most 10


def test_catalogue_rows_are_listed_newest_first(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        catalogue.create_draft(session, CREDIT, 2026, "designated_hospital")
        catalogue.create_draft(session, CREDIT, 2025, "designated_hospital")
    with session_scope(engine) as session:
        rows = session.exec(select(CreditCatalogue)).all()
        assert len(rows) == 4
        assert [r.year for r in catalogue.versions(session)][:2] == [2026, 2026]
