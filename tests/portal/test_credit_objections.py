"""Objections to credit information (Hunan-Credit Art. 24): deadlines in working days,
the answer, corrections that supersede, the mark while open, and the written answer."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader
from sqlmodel import Session, select

from portal.credit_models import CreditItem
from portal.services import credit_objections as objections
from portal.services.credit_objections import Correction
from portal.services.errors import NotFound, ServiceError
from portal.services.registry import Act
from tests.portal.conftest import Cast

CREDIT = Act("credit-chen", datetime(2026, 3, 2, 2, 0, tzinfo=UTC), "信用管理")


def bad_item(session: Session, key: str, **kw: object) -> CreditItem:
    values: dict[str, object] = {
        "subject_kind": "practitioner", "subject_key": key, "category": "administrative",
        "polarity": "bad", "public": False, "source": "supervision",
        "title": "行政处罚：虚构医药服务", "occurred_on": date(2025, 3, 3), **kw,
    }  # fmt: skip
    item = CreditItem(**values, **CREDIT.stamp())  # type: ignore[arg-type]
    session.add(item)
    session.flush()
    return item


def file(session: Session, cast: Cast, item: CreditItem | None, **kw: object) -> object:
    values: dict[str, object] = {
        "item_id": item.id if item else None, "subject_kind": "practitioner",
        "subject_key": cast.doctor, "ground": "wrong", "statement": "处罚已被复议撤销，信息错误",
        "applicant": "张伟", "filed_on": date(2025, 9, 26), **kw,
    }  # fmt: skip
    return objections.file_objection(session, CREDIT, **values)  # type: ignore[arg-type]


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"[\s\x00]+", "", "".join(p.extract_text() or "" for p in reader.pages))


def test_due_in_3_working_days_or_5_across_the_national_day(session: Session, cast: Cast) -> None:
    # Fri 26 Sep 2025: Sun 28 Sep is a working day (调休), 1-8 Oct are holidays.
    item = bad_item(session, cast.doctor)
    own = file(session, cast, item)
    assert own.due_on == date(2025, 9, 30)  # type: ignore[attr-defined]
    other = bad_item(session, cast.doctor, title="协议处理")
    checked = file(session, cast, other, other_unit=True)
    assert checked.due_on == date(2025, 10, 10)  # type: ignore[attr-defined]
    # Across a plain weekend: Thu 5 June → Tue 10 June (3) / Thu 12 June (5).
    assert objections.objection_due(date(2025, 6, 5), False) == date(2025, 6, 10)
    assert objections.objection_due(date(2025, 6, 5), True) == date(2025, 6, 12)


def test_open_item_is_marked_and_a_second_objection_refused(session: Session, cast: Cast) -> None:
    item = bad_item(session, cast.doctor)
    file(session, cast, item)
    assert objections.under_objection(session, [item.id or 0]) == {item.id}
    assert objections.STATE_ZH["open"] == "异议处理中"
    with pytest.raises(ServiceError, match="异议处理中"):
        file(session, cast, item)


def test_grounds_and_subject_checked(session: Session, cast: Cast) -> None:
    item = bad_item(session, cast.doctor)
    with pytest.raises(ServiceError, match="异议理由"):
        file(session, cast, item, ground="unhappy")
    with pytest.raises(ServiceError, match="请指明"):
        file(session, cast, None)
    with pytest.raises(ServiceError, match="不属于"):
        file(session, cast, item, subject_key=cast.nurse)
    with pytest.raises(NotFound):
        file(session, cast, None, ground="missing", subject_key="D99999999999")


def test_upheld_wrong_item_is_superseded_by_the_correction(session: Session, cast: Cast) -> None:
    item = bad_item(session, cast.doctor)
    objection = file(session, cast, item)
    answered = objections.answer_objection(
        session, CREDIT, objection.id, upheld=True, answer="经核实，处罚决定已撤销。",  # type: ignore[attr-defined]
        answered_on=date(2025, 9, 29), correction=Correction(withdraw=True),
    )  # fmt: skip
    assert answered.state == "upheld"
    assert answered.document_no == f"医保信用异议〔2025〕{answered.id:06d}号"
    made = session.get(CreditItem, answered.correction_item_id)
    assert made is not None and made.supersedes_id == item.id and made.withdrawn
    assert made.title == item.title and made.origin == f"objection:{answered.id}"
    assert objections.under_objection(session, [item.id or 0]) == set()
    assert objections.late_objections(session, date(2025, 12, 1)) == []
    with pytest.raises(ServiceError, match="已被更正"):
        objections.live_item(session, item.id or 0)


def test_upheld_correction_changes_fields_and_rejection_changes_nothing(
    session: Session, cast: Cast
) -> None:
    item = bad_item(session, cast.doctor)
    objection = file(session, cast, item)
    with pytest.raises(ServiceError, match="更正后的信息"):
        objections.answer_objection(
            session,
            CREDIT,
            objection.id,
            upheld=True,  # type: ignore[attr-defined]
            answer="信息有误",
            answered_on=date(2025, 9, 29),
        )
    answered = objections.answer_objection(
        session, CREDIT, objection.id, upheld=True, answer="日期有误，已更正",  # type: ignore[attr-defined]
        answered_on=date(2025, 9, 29), correction=Correction(occurred_on=date(2025, 2, 3)),
    )  # fmt: skip
    made = session.get(CreditItem, answered.correction_item_id)
    assert made is not None and made.occurred_on == date(2025, 2, 3) and not made.withdrawn
    other = bad_item(session, cast.doctor, title="协议处理：中止")
    rejected = objections.answer_objection(
        session, CREDIT, file(session, cast, other).id, upheld=False,  # type: ignore[attr-defined]
        answer="经核实，信息准确。", answered_on=date(2025, 9, 30),
    )  # fmt: skip
    assert rejected.state == "rejected" and rejected.correction_item_id is None
    rows = session.exec(select(CreditItem).where(CreditItem.supersedes_id == other.id)).all()
    assert rows == []


def test_upheld_missing_information_adds_an_item(session: Session, cast: Cast) -> None:
    objection = file(session, cast, None, ground="missing", statement="遗漏了2025年表彰")
    answered = objections.answer_objection(
        session, CREDIT, objection.id, upheld=True, answer="已补录。",  # type: ignore[attr-defined]
        answered_on=date(2025, 9, 29),
        correction=Correction(title="市医保局表彰", occurred_on=date(2025, 5, 1),
                              category="honour", polarity="good", public=True),
    )  # fmt: skip
    made = session.get(CreditItem, answered.correction_item_id)
    assert made is not None and made.supersedes_id is None and made.polarity == "good"


def test_late_objections_and_region(session: Session, cast: Cast) -> None:
    item = bad_item(session, cast.doctor)
    objection = file(session, cast, item)
    assert objections.late_objections(session, date(2025, 9, 30)) == []
    assert objections.late_objections(session, date(2025, 10, 1)) == [objection]
    assert objections.open_objections(session, "4301") == [objection]
    assert objections.open_objections(session, "4306") == []


def test_written_answer_pdf_has_the_answer(session: Session, cast: Cast) -> None:
    item = bad_item(session, cast.doctor)
    objection = file(session, cast, item)
    with pytest.raises(ServiceError, match="尚未答复"):
        objections.answer_document(session, objection)  # type: ignore[arg-type]
    answered = objections.answer_objection(
        session, CREDIT, objection.id, upheld=False, answer="经核实处罚决定有效",  # type: ignore[attr-defined]
        answered_on=date(2025, 9, 29),
    )  # fmt: skip
    pdf = objections.answer_document(session, answered)
    assert pdf.startswith(b"%PDF")
    text = text_of(pdf)
    assert "信用信息异议处理结果告知书" in text
    assert "经核实处罚决定有效" in text and "异议不成立" in text
    assert answered.document_no in text
