"""Credit archives (Hunan-Credit Art. 3, 9-16, 24, 27): items are never overwritten, marks
are derived, the ledger feeds the archive without re-entry, individuals' numbers sealed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from portal.credit_models import CreditItem, CreditObjection, CreditRepair
from portal.identifiers import make_credit_code, make_resident_id
from portal.services import credit_archive as archive
from portal.services import credit_commitments as commitments
from portal.services import credit_subjects as subjects
from portal.services.agreements import record_agreement_action
from portal.services.errors import NotFound, ServiceError
from portal.services.ledger import Finding, correct_entry, record_case
from portal.services.notices import issue_notice
from portal.services.registry import Act
from tests.portal.conftest import OFFICER, SECRET, Cast

EMPLOYER_CODE = make_credit_code("430102", "MA4Q00007", "91")


def _item(session: Session, cast: Cast, **over: object) -> CreditItem:
    values: dict[str, object] = dict(
        subject_kind="designated_hospital", subject_key=cast.hospital_a, category="honour",
        polarity="good", public=True, source="shared_platform", title="省级诚信示范单位",
        occurred_on=date(2025, 3, 1), source_unit="湖南省发展和改革委员会",
    )  # fmt: skip
    values.update(over)
    return archive.record_item(session, OFFICER, **values)  # type: ignore[arg-type]


def test_registry_people_and_places_are_subjects_without_reentry(
    session: Session, cast: Cast
) -> None:
    hospital = archive.subject(session, "designated_hospital", cast.hospital_a)
    assert (hospital.name, hospital.registry, hospital.kind_zh) == (
        "长沙市第一医院",
        True,
        "定点医疗机构",
    )
    pharmacy = archive.subject(session, "designated_pharmacy", cast.pharmacies[0])
    assert pharmacy.region == "430103"
    assert archive.subject(session, "practitioner", cast.doctor).name == "张伟"
    with pytest.raises(NotFound):  # a hospital is not a pharmacy
        archive.subject(session, "designated_pharmacy", cast.hospital_a)


def test_record_item_names_the_wrong_field_in_chinese(session: Session, cast: Cast) -> None:
    for field, over in (
        ("category", {"category": "gossip"}),
        ("source", {"source": "rumour"}),
        ("polarity", {"polarity": "neutral"}),
        ("title", {"title": "  "}),
        ("subject_key", {"subject_key": "H99999999999"}),
        ("serious", {"serious": True}),  # a good item cannot be serious dishonesty
    ):
        with pytest.raises(ServiceError) as caught:
            _item(session, cast, **over)
        assert caught.value.field == field
        assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message)


def test_an_item_is_never_rewritten_in_the_database(
    engine: Engine, session: Session, cast: Cast
) -> None:
    item = _item(session, cast)
    session.commit()
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text("UPDATE credit_item SET title = 'x' WHERE id = :id"), {"id": item.id})
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text("DELETE FROM credit_item WHERE id = :id"), {"id": item.id})
    assert session.get(CreditItem, item.id).title == "省级诚信示范单位"  # type: ignore[union-attr]


def test_supersede_and_withdraw_add_rows_and_keep_the_history(session: Session, cast: Cast) -> None:
    item = _item(session, cast)
    fixing = Act(OFFICER.actor, OFFICER.at, "发文单位名称有误")
    with pytest.raises(ServiceError) as no_reason:
        archive.supersede_item(session, OFFICER.__class__(OFFICER.actor, OFFICER.at), item.id or 0,
                               title="x")  # fmt: skip
    assert no_reason.value.field == "reason"
    newer = archive.supersede_item(session, fixing, item.id or 0, source_unit="湖南省信用办")
    [view] = archive.current_items(session, "designated_hospital", cast.hospital_a)
    assert view.item.id == newer.id and view.item.source_unit == "湖南省信用办"
    assert [h.id for h in view.history] == [item.id]
    with pytest.raises(ServiceError):  # only the newest version can change
        archive.supersede_item(session, fixing, item.id or 0, title="再改")
    archive.withdraw_item(session, Act(OFFICER.actor, OFFICER.at, "重复录入"), newer.id or 0)
    assert archive.current_items(session, "designated_hospital", cast.hospital_a) == []
    assert len(session.exec(select(CreditItem)).all()) == 3  # nothing was removed


def test_marks_objection_open_and_repair_ends_publication(session: Session, cast: Cast) -> None:
    bad = _item(session, cast, category="violation", polarity="bad", title="违规结算被处理")
    objection = CreditObjection(
        item_id=bad.id, subject_kind="designated_hospital", subject_key=cast.hospital_a,
        ground="wrong", statement="金额有误", applicant="刘洋", filed_on=date(2025, 6, 2),
        due_on=date(2025, 6, 5), state="open", **OFFICER.stamp(),
    )  # fmt: skip
    session.add(objection)
    session.flush()
    [view] = archive.current_items(session, "designated_hospital", cast.hospital_a)
    assert view.marks == ("异议处理中",) and view.published
    objection.state = "rejected"
    session.add(objection)
    session.add(
        CreditRepair(
            item_id=bad.id,
            subject_kind="designated_hospital",
            subject_key=cast.hospital_a,
            applicant="刘洋",
            applied_on=date(2026, 3, 1),
            correction="已退回违规费用",
            state="approved",
            decided_on=date(2026, 3, 9),
            **OFFICER.stamp(),
        )
    )
    session.flush()
    [view] = archive.current_items(session, "designated_hospital", cast.hospital_a)
    assert view.marks == ("2026年03月09日修复",)
    assert view.published is False and view.item.public is True


def _case(session: Session, cast: Cast, no: str = "湘医保罚〔2025〕70号") -> None:
    record_case(
        session, OFFICER, institution_code=cast.hospital_a,
        decision_type="administrative_penalty", legal_basis="《条例》第三十八条",
        document_no=no, decision_date=date(2025, 4, 8), amount=None,
        findings=[Finding(cast.nurse, points=3)], as_of=date(2025, 4, 8),
    )  # fmt: skip


def test_the_ledger_feeds_the_archive_once(session: Session, cast: Cast) -> None:
    _case(session, cast)
    [view] = archive.current_items(session, "practitioner", cast.nurse)
    assert view.item.category == "violation" and view.item.polarity == "bad"
    assert "湘医保罚〔2025〕70号" in view.item.title and "3分" in view.item.title
    # No indicator: the evaluation reads the decision from the ledger (never twice).
    assert view.item.indicator == "" and view.item.source == "supervision"
    assert view.item.origin and view.item.origin.endswith(f":{cast.nurse}")
    assert archive.sync_from_ledger(session, OFFICER) == 0  # idempotent
    assert len(archive.current_items(session, "practitioner", cast.nurse)) == 1


def test_a_decision_against_an_institution_reaches_its_archive_once(
    session: Session, cast: Cast
) -> None:
    """The facts its evaluation deducts for are items it can see, object to and repair."""
    _case(session, cast)
    [view] = archive.current_items(session, "designated_hospital", cast.hospital_a)
    assert view.item.category == "violation" and "湘医保罚〔2025〕70号" in view.item.title
    assert view.item.public is False and view.item.indicator == ""
    assert "《条例》第三十八条" in view.item.detail
    assert archive.sync_institution_decisions(session, OFFICER) == 0  # idempotent


def test_a_ledger_correction_supersedes_and_a_void_withdraws(session: Session, cast: Cast) -> None:
    _case(session, cast)
    entry = session.exec(text("SELECT id FROM ledger_entry ORDER BY id DESC")).first()  # type: ignore[call-overload]
    fixed = correct_entry(session, Act(OFFICER.actor, OFFICER.at, "记分有误"), entry[0],
                          {"points": 2}, date(2025, 4, 9))  # fmt: skip
    [view] = archive.current_items(session, "practitioner", cast.nurse)
    assert "2分" in view.item.title and len(view.history) == 1
    correct_entry(session, Act(OFFICER.actor, OFFICER.at, "处理决定撤销"), fixed.id or 0, None,
                  date(2025, 4, 10))  # fmt: skip
    assert archive.current_items(session, "practitioner", cast.nurse) == []


def test_a_published_notice_makes_the_item_public(session: Session, cast: Cast) -> None:
    record_case(
        session, OFFICER, institution_code=cast.hospital_a, decision_type="agreement_action",
        legal_basis="服务协议第十条", document_no="湘医保协〔2025〕3号",
        decision_date=date(2025, 4, 8), amount=None,
        findings=[Finding(cast.nurse, points=12)], as_of=date(2025, 4, 8),
    )  # fmt: skip
    [before] = archive.current_items(session, "practitioner", cast.nurse)
    assert before.item.category == "agreement" and before.item.public is False
    issue_notice(session, OFFICER, decision_no="湘医保协〔2025〕3号",
                 national_code=cast.nurse, issued_on=date(2025, 4, 10))  # fmt: skip
    [after] = archive.current_items(session, "practitioner", cast.nurse)
    assert after.item.public is True and after.history[0].id == before.item.id


def test_an_institutions_agreement_action_reaches_its_archive(session: Session, cast: Cast) -> None:
    record_agreement_action(
        session, OFFICER, institution_code=cast.hospital_b, action="suspended",
        decided_on=date(2025, 5, 1), effective_from=date(2025, 5, 1),
        until=date(2025, 7, 31), document_no="湘医保协〔2025〕9号",
    )  # fmt: skip
    [view] = archive.current_items(session, "designated_hospital", cast.hospital_b)
    assert view.item.origin and view.item.origin.startswith("agreement_action:")
    assert "中止医保协议" in view.item.title and view.item.category == "agreement"
    assert archive.sync_agreement_actions(session, OFFICER) == 0


def test_subjects_outside_the_registry_by_code_and_number(
    engine: Engine, session: Session, cast: Cast, tmp_path: Path
) -> None:
    employer = subjects.create_subject(
        session, OFFICER, kind="insured_employer", name="长沙某某科技有限公司",
        region="430102", number=EMPLOYER_CODE, secret=SECRET, legal_representative="赵六",
    )  # fmt: skip
    assert employer.subject_key == EMPLOYER_CODE
    with pytest.raises(ServiceError) as bad_code:
        subjects.create_subject(session, OFFICER, kind="pharma_company", name="某药业",
                                region="430102", number=EMPLOYER_CODE[:-1] + "0",
                                secret=SECRET)  # fmt: skip
    assert bad_code.value.field == "number"
    number = make_resident_id("430104", date(1966, 1, 2), 41, "male")
    person = subjects.create_subject(
        session, OFFICER, kind="insured_person", name="钱七", region="430104", number=number,
        secret=SECRET,
    )  # fmt: skip
    assert person.subject_key.startswith("P") and len(person.subject_key) == 16
    assert subjects.find_by_number(session, number, SECRET) == [person]
    assert subjects.masked_document(person, SECRET) == number[:3] + "*" * 11 + number[-4:]
    foreigner = subjects.create_subject(
        session, OFFICER, kind="other_individual", name="John Smith", region="430104",
        number="E12345678", document_type="exit_entry", secret=SECRET,
    )  # fmt: skip
    assert subjects.find_by_number(session, "e12345678", SECRET) == [foreigner]
    with pytest.raises(ServiceError) as again:
        subjects.create_subject(session, OFFICER, kind="insured_person", name="钱七",
                                region="430104", number=number, secret=SECRET)  # fmt: skip
    assert again.value.field == "number"
    with pytest.raises(ServiceError) as practitioner:  # the registry has him: no re-entry
        subjects.create_subject(session, OFFICER, kind="practitioner", name="张伟",
                                region="430102", number=cast.doctor_id, secret=SECRET)  # fmt: skip
    assert cast.doctor in practitioner.value.message
    assert archive.subject(session, "insured_person", person.subject_key).name == "钱七"
    session.commit()
    if engine.dialect.name == "sqlite":
        raw = Path(str(engine.url.database)).read_bytes()
        assert number.encode() not in raw and b"E12345678" not in raw


def test_commitment_signed_kept_or_breached(session: Session, cast: Cast) -> None:
    first = commitments.create_template(session, OFFICER, subject_kind="designated_hospital",
                                        title="定点医疗机构信用承诺书",
                                        text="本机构承诺遵守医疗保障法律法规。")  # fmt: skip
    second = commitments.create_template(session, OFFICER, subject_kind="designated_hospital",
                                         title="定点医疗机构信用承诺书（2025版）",
                                         text="本机构承诺合理诊疗、如实结算。")  # fmt: skip
    assert (first.version, second.version) == (1, 2)
    signed = commitments.sign(
        session, OFFICER, subject_kind="designated_hospital", subject_key=cast.hospital_a,
        template_id=first.id or 0, signed_by="院长 刘某", signed_on=date(2025, 1, 5),
    )  # fmt: skip
    assert signed.signed_text == "本机构承诺遵守医疗保障法律法规。"
    with pytest.raises(ServiceError) as wrong_kind:
        commitments.sign(session, OFFICER, subject_kind="designated_pharmacy",
                         subject_key=cast.pharmacies[0], template_id=first.id or 0,
                         signed_by="店长", signed_on=date(2025, 1, 5))  # fmt: skip
    assert wrong_kind.value.field == "template_id"
    event = commitments.record_fulfilment(session, OFFICER, signed.id or 0, outcome="breached",
                                          on=date(2025, 5, 20), detail="虚构服务")  # fmt: skip
    [view] = archive.current_items(session, "designated_hospital", cast.hospital_a)
    assert view.item.id == event.item_id
    assert (view.item.category, view.item.indicator) == ("commitment", "commitment_broken")
    with pytest.raises(ServiceError):  # recorded once
        commitments.record_fulfilment(session, OFFICER, signed.id or 0, outcome="kept",
                                      on=date(2025, 5, 21))  # fmt: skip
    [shown] = commitments.commitments_of(session, "designated_hospital", cast.hospital_a)
    assert shown.outcome_zh == "未履行（违反承诺）"


def test_the_cli_back_fills_the_archives_from_demo_data_once(tmp_path: Path) -> None:
    """Demo data is written past the services (bulk inserts): the sync finds its decisions."""
    from tests.portal.test_cli import run

    db = tmp_path / "portal.db"
    assert run(db, "db", "upgrade").returncode == 0
    made = run(db, "demo-data", "--practitioners", "300", "--seed", "3", "--as-of", "2026-11-01")
    assert made.returncode == 0, made.stderr
    first = run(db, "credit", "archive", "sync")
    assert first.returncode == 0, first.stderr
    written = int(first.stdout.split("written: ")[1].split(" ")[0].replace(",", ""))
    assert written > 0
    again = run(db, "credit", "archive", "sync")
    assert again.returncode == 0 and "written: 0 practitioner items, 0 institution" in again.stdout


def test_an_upheld_appeal_changes_the_item_and_to_zero_withdraws_it(
    session: Session, cast: Cast
) -> None:
    from portal.services.appeals import decide_appeal, file_appeal

    for no, points in (("湘医保罚〔2025〕70号", 1), ("湘医保罚〔2025〕71号", 0)):
        _case(session, cast, no)
        issue_notice(session, OFFICER, decision_no=no, national_code=cast.nurse,
                     issued_on=date(2025, 4, 9))  # fmt: skip
        appeal = file_appeal(session, OFFICER, decision_no=no, national_code=cast.nurse,
                             received_on=date(2025, 4, 11))  # fmt: skip
        decide_appeal(session, OFFICER, appeal.id or 0, upheld=True,
                      decided_on=date(2025, 4, 20), points=points)  # fmt: skip
    [view] = archive.current_items(session, "practitioner", cast.nurse)  # 71号: withdrawn
    assert "70号" in view.item.title and "记1分（申诉更正）" in view.item.title


def test_a_new_secret_reseals_subjects_numbers_and_keeps_their_keys(
    engine: Engine, session: Session, cast: Cast
) -> None:
    """``portal secret rotate``: an individual's number opens and is found under the new
    secret; the subject's key (which items and results name) stays as it was."""
    from portal.services.secrets import rotate

    number = make_resident_id("430104", date(1966, 1, 2), 41, "male")
    person = subjects.create_subject(
        session, OFFICER, kind="insured_person", name="钱七", region="430104", number=number,
        secret=SECRET,
    )  # fmt: skip
    session.commit()
    key = person.subject_key
    new_secret = "another-secret-for-credit-subjects"
    rotate(engine, SECRET, new_secret)
    session.expire_all()
    [found] = subjects.find_by_number(session, number, new_secret)
    assert found.subject_key == key
    assert subjects.masked_document(found, new_secret) == number[:3] + "*" * 11 + number[-4:]
    assert subjects.find_by_number(session, number, SECRET) == []  # the old hash is gone
