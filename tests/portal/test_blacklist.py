"""The blacklist (Hunan-Credit Art. 33-35; Hunan-Rules Art. 17, 19): proposals, the prior
notice and objection, the listing decision, its periods, the end of publication, the push."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from portal.credit_models import BlacklistEvent, BlacklistListing, CreditItem, CreditSubject
from portal.models import WebhookOutbox
from portal.services import blacklist
from portal.services.errors import ServiceError
from portal.services.ledger import Finding, record_case
from portal.services.notices import issue_notice
from portal.services.registry import Act
from portal.services.webhooks import BLACKLIST_TOPIC, subscribe
from tests.portal.conftest import OFFICER, Cast

DECISION = date(2025, 6, 2)  # a Monday


def terminate(session: Session, cast: Cast, code: str, no: str = "湘医保协〔2025〕90号") -> None:
    """12 points in one case: terminated (Hunan-Rules Art. 9(4)); the notice publishes it."""
    record_case(
        session,
        OFFICER,
        institution_code=cast.hospital_a,
        decision_type="agreement_action",
        legal_basis="服务协议第三十八条",
        document_no=no,
        decision_date=DECISION,
        amount=None,
        findings=[Finding(code, points=12)],
        as_of=DECISION,
    )
    issue_notice(session, OFFICER, decision_no=no, national_code=code, issued_on=date(2025, 6, 3))


def listed(session: Session, cast: Cast, on: date = date(2025, 6, 20)) -> BlacklistListing:
    terminate(session, cast, cast.nurse)
    (proposal,) = blacklist.propose_terminated(session, OFFICER, date(2025, 6, 4))
    blacklist.issue_prior_notice(session, OFFICER, proposal.id or 0, on=date(2025, 6, 5))
    return blacklist.list_subject(session, OFFICER, proposal.id or 0, listed_on=on)


def test_terminated_practitioners_are_proposed_once_due_in_20_working_days(
    session: Session, cast: Cast
) -> None:
    terminate(session, cast, cast.nurse)
    made = blacklist.propose_terminated(session, OFFICER, date(2025, 6, 4))
    assert [m.subject_key for m in made] == [cast.nurse]
    proposal = made[0]
    assert proposal.state == "proposed" and proposal.name == "李娜"
    assert (
        proposal.origin
        and proposal.origin.startswith("decision:")
        and cast.nurse in proposal.origin
    )
    # 20 working days after Mon 2 June 2025 (a Dragon Boat holiday; it does not count).
    assert proposal.due_on == date(2025, 6, 30)
    assert blacklist.propose_terminated(session, OFFICER, date(2025, 6, 5)) == []
    assert blacklist.working_days_left(date(2025, 6, 27), proposal.due_on) == 1
    assert blacklist.working_days_left(date(2025, 7, 1), proposal.due_on) == -1


def test_a_notice_gives_5_working_days_to_object_and_listing_waits_for_them(
    session: Session, cast: Cast
) -> None:
    terminate(session, cast, cast.nurse)
    (proposal,) = blacklist.propose_terminated(session, OFFICER, date(2025, 6, 4))
    with pytest.raises(ServiceError, match="事先告知"):
        blacklist.list_subject(session, OFFICER, proposal.id or 0, listed_on=date(2025, 6, 20))
    noticed = blacklist.issue_prior_notice(session, OFFICER, proposal.id or 0, on=date(2025, 6, 5))
    assert noticed.objection_due_on == date(2025, 6, 12) and noticed.notice_no
    with pytest.raises(ServiceError, match="期满后方可"):
        blacklist.list_subject(session, OFFICER, proposal.id or 0, listed_on=date(2025, 6, 12))
    blacklist.record_objection(
        session,
        OFFICER,
        proposal.id or 0,
        statement="处理决定已被复议撤销",
        received_on=date(2025, 6, 9),
    )
    assert blacklist.answer_due(noticed) == date(2025, 6, 16)
    with pytest.raises(ServiceError, match="尚未答复"):
        blacklist.list_subject(session, OFFICER, proposal.id or 0, listed_on=date(2025, 6, 20))
    answered = blacklist.answer_objection(
        session,
        OFFICER,
        proposal.id or 0,
        answer="经核实，复议维持原决定",
        upheld=False,
        on=date(2025, 6, 13),
    )
    assert answered.objection_answer.startswith("异议不成立")
    done = blacklist.list_subject(session, OFFICER, proposal.id or 0, listed_on=date(2025, 6, 13))
    assert done.state == "listed" and done.publish_until == date(2028, 6, 13)


def test_an_upheld_objection_ends_the_procedure_with_nothing_public(
    session: Session, cast: Cast
) -> None:
    terminate(session, cast, cast.nurse)
    (proposal,) = blacklist.propose_terminated(session, OFFICER, date(2025, 6, 4))
    blacklist.issue_prior_notice(session, OFFICER, proposal.id or 0, on=date(2025, 6, 5))
    blacklist.record_objection(
        session, OFFICER, proposal.id or 0, statement="不服", received_on=date(2025, 6, 12)
    )
    out = blacklist.answer_objection(
        session,
        OFFICER,
        proposal.id or 0,
        answer="处理决定已撤销",
        upheld=True,
        on=date(2025, 6, 13),
    )
    assert out.state == "withdrawn"
    assert session.exec(select(BlacklistEvent)).all() == []


def test_the_listing_writes_a_public_serious_item_and_a_listed_event(
    session: Session, cast: Cast
) -> None:
    listing = listed(session, cast)
    item = session.get(CreditItem, listing.item_id)
    assert item is not None and item.category == "dishonest_list"
    assert item.public and item.serious and item.polarity == "bad"
    assert item.occurred_on == date(2025, 6, 20)
    (event,) = blacklist.events_of(session, listing.id or 0)
    assert (event.type, event.code, event.status) == ("listed", cast.nurse, "listed")
    assert (event.period_start, event.period_end) == (date(2025, 6, 20), date(2028, 6, 20))
    assert listing.document_no.startswith("医保失信决〔2025〕")


def test_a_29_february_listing_is_published_until_1_march(session: Session, cast: Cast) -> None:
    terminate(session, cast, cast.nurse)
    (proposal,) = blacklist.propose_terminated(session, OFFICER, date(2025, 6, 4))
    blacklist.issue_prior_notice(session, OFFICER, proposal.id or 0, on=date(2025, 6, 5))
    done = blacklist.list_subject(session, OFFICER, proposal.id or 0, listed_on=date(2028, 2, 29))
    assert done.publish_until == date(2031, 3, 1)


def test_repair_ends_publication_and_the_period_end_removes(session: Session, cast: Cast) -> None:
    listing = listed(session, cast)
    with pytest.raises(ServiceError, match="尚未届满"):
        blacklist.end_publication(session, OFFICER, listing.id or 0, "removed", date(2026, 6, 20))
    blacklist.end_publication(session, OFFICER, listing.id or 0, "repaired", date(2026, 7, 1))
    assert listing.state == "repaired" and listing.ended_on == date(2026, 7, 1)
    assert blacklist.repaired_mark(date(2026, 7, 1)) == "2026年07月01日修复"
    types = [e.type for e in blacklist.events_of(session, listing.id or 0)]
    assert types == ["listed", "repaired"]


def test_end_publications_is_idempotent(session: Session, cast: Cast) -> None:
    listing = listed(session, cast)
    assert blacklist.end_publications(session, OFFICER, date(2028, 6, 19)) == []
    assert blacklist.end_publications(session, OFFICER, date(2028, 6, 25)) == [listing.id]
    assert blacklist.end_publications(session, OFFICER, date(2028, 6, 26)) == []
    last = blacklist.events_of(session, listing.id or 0)[-1]
    assert (last.type, last.effective_on) == ("removed", date(2028, 6, 20))


def test_withdraw_and_correct_replace_the_last_event(session: Session, cast: Cast) -> None:
    listing = listed(session, cast)
    blacklist.correct(
        session, OFFICER, listing.id or 0, on=date(2025, 6, 25), listed_on=date(2025, 6, 21)
    )
    assert listing.publish_until == date(2028, 6, 21)
    first, corrected = blacklist.events_of(session, listing.id or 0)
    assert corrected.type == "corrected" and corrected.replaces_id == first.id
    assert corrected.status == "listed" and corrected.period_start == date(2025, 6, 21)
    blacklist.withdraw(session, OFFICER, listing.id or 0, on=date(2025, 7, 1), reason="复议撤销")
    *_, gone = blacklist.events_of(session, listing.id or 0)
    assert (gone.type, gone.status, gone.replaces_id) == ("withdrawn", "withdrawn", corrected.id)
    withdrawn = session.exec(select(CreditItem).where(CreditItem.withdrawn)).one()
    assert withdrawn.supersedes_id == listing.item_id


def _person(session: Session, key: str) -> None:
    session.add(
        CreditSubject(
            subject_kind="other_individual",
            subject_key=key,
            name="赵某",
            region="430102",
            document_type="resident_id",
            **OFFICER.stamp(),
        )
    )
    session.flush()


def test_art_33_4_persons_are_barred_for_5_years_and_shown_without_their_key(
    session: Session, cast: Cast
) -> None:
    hospital = blacklist.propose(
        session,
        OFFICER,
        subject_kind="designated_hospital",
        subject_key=cast.hospital_a,
        grounds="骗取医保基金，造成基金重大损失",
        basis="湖南信用办法第三十三条",
        authority="长沙市医疗保障局",
        proposed_on=date(2025, 6, 2),
    )
    _person(session, "P0123456789ABCDE")
    person = blacklist.propose(
        session,
        OFFICER,
        subject_kind="other_individual",
        subject_key="P0123456789ABCDE",
        grounds="医院的法定代表人",
        basis="湖南信用办法第三十三条第（四）项",
        authority="长沙市医疗保障局",
        proposed_on=date(2025, 6, 2),
        role="legal_representative",
        related_listing_id=hospital.id,
    )
    for x in (hospital, person):
        blacklist.issue_prior_notice(session, OFFICER, x.id or 0, on=date(2025, 6, 3))
        blacklist.list_subject(session, OFFICER, x.id or 0, listed_on=date(2025, 6, 20))
    assert person.bar_until == date(2030, 6, 20) and hospital.bar_until is None
    assert blacklist.related_persons(session, hospital.id or 0) == [person]
    (event,) = blacklist.events_of(session, person.id or 0)
    assert event.code == f"BL{person.id:08d}" and "P0123456789ABCDE" not in json.dumps(
        blacklist.feed_item(event)
    )
    with pytest.raises(ServiceError, match="个人"):
        blacklist.propose(
            session,
            OFFICER,
            subject_kind="designated_pharmacy",
            subject_key=cast.pharmacies[0],
            grounds="x",
            basis="y",
            authority="z",
            proposed_on=date(2025, 6, 2),
            role="principal",
            related_listing_id=hospital.id,
        )


def test_every_event_is_pushed_signed_to_the_credit_sharing_platform(
    session: Session, cast: Cast
) -> None:
    at = Act("admin", datetime(2025, 6, 1, tzinfo=UTC))
    subscribe(
        session,
        at,
        platform="省社会信用信息共享交换平台",
        url="https://credit.example/hook",
        secret="s" * 20,
        codes=[BLACKLIST_TOPIC],
    )
    subscribe(
        session,
        at,
        platform="挂号平台",
        url="https://reg.example/hook",
        secret="s" * 20,
        codes=[cast.doctor],
    )
    listing = listed(session, cast)
    blacklist.end_publication(session, OFFICER, listing.id or 0, "repaired", date(2026, 7, 1))
    payloads = [json.loads(p) for p in session.exec(sa_select(WebhookOutbox.payload)).scalars()]
    assert [p["item"]["type"] for p in payloads] == ["listed", "repaired"]
    assert all(p["event"] == "blacklist_changed" for p in payloads)
    assert payloads[0]["item"]["code"] == cast.nurse


def test_a_subject_has_one_open_listing(session: Session, cast: Cast) -> None:
    listed(session, cast)
    with pytest.raises(ServiceError, match="未办结或公示中"):
        blacklist.propose(
            session,
            OFFICER,
            subject_kind="practitioner",
            subject_key=cast.nurse,
            grounds="x",
            basis="y",
            authority="z",
            proposed_on=date(2025, 7, 1),
        )
    with pytest.raises(ServiceError, match="未找到信用主体"):
        blacklist.propose(
            session,
            OFFICER,
            subject_kind="practitioner",
            subject_key="D43019999999",
            grounds="x",
            basis="y",
            authority="z",
            proposed_on=date(2025, 7, 1),
        )


def test_the_cli_proposes_and_ends_idempotently(tmp_path: Path) -> None:
    from tests.portal.test_cli import run

    db = tmp_path / "cli.db"
    assert run(db, "demo-data", "--practitioners", "400", "--seed", "3").returncode == 0
    first = run(db, "blacklist", "propose-terminated")
    assert first.returncode == 0, first.stderr
    again = run(db, "blacklist", "propose-terminated")
    assert again.returncode == 0 and "proposed: 0" in again.stdout
    ended = run(db, "blacklist", "end-publications", "--on", "2099-01-01")
    assert ended.returncode == 0 and "removed:" in ended.stdout
    assert "removed: 0" in run(db, "blacklist", "end-publications", "--on", "2099-01-01").stdout
