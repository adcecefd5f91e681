"""The blacklist (Hunan-Credit Art. 33-35; Hunan-Rules Art. 17, 19): proposals, the prior
notice and objection, the listing decision, its periods, the end of publication, the push."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

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


def test_a_second_termination_of_someone_proposed_already_does_not_stop_the_day_s_work(
    session: Session, cast: Cast
) -> None:
    """Two published terminations of one person (two decisions): one proposal, and the daily
    job goes on with everyone else (it used to fail whole, every round, on the second)."""
    terminate(session, cast, cast.nurse)
    terminate(session, cast, cast.nurse, no="湘医保协〔2025〕91号")
    terminate(session, cast, cast.doctor, no="湘医保协〔2025〕92号")
    made = blacklist.propose_terminated(session, OFFICER, date(2025, 6, 4))
    assert sorted(m.subject_key for m in made) == sorted([cast.nurse, cast.doctor])
    assert blacklist.propose_terminated(session, OFFICER, date(2025, 6, 5)) == []


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


# --- review fixes ----------------------------------------------------------------------

LATER = Act("officer-wang", datetime(2025, 7, 1, 1, 0, tzinfo=UTC), "依法处理")


def test_an_open_objection_marks_the_listing_everywhere_it_shows(
    session: Session, cast: Cast
) -> None:
    """Hunan-Credit Art. 24: 异议申请处理期间，应当对异议信息进行标注."""
    from portal.services import credit_objections, public

    listing = listed(session, cast)
    conn = session.connection()
    assert [r["under_objection"] for r in public.blacklist(conn, date(2025, 7, 1))] == [False]
    objection = credit_objections.file_objection(
        session, LATER, item_id=listing.item_id, subject_kind="practitioner",
        subject_key=cast.nurse, ground="wrong", statement="处理决定已被复议撤销",
        applicant="李娜", filed_on=date(2025, 7, 1),
    )  # fmt: skip
    assert blacklist.under_objection(session, [listing.id or 0]) == {listing.id}
    assert [r["under_objection"] for r in public.blacklist(conn, date(2025, 7, 1))] == [True]
    (item,) = public.blacklist_events(conn, date(2025, 7, 1))
    assert item["under_objection"] is True
    credit_objections.answer_objection(
        session, LATER, objection.id or 0, upheld=False, answer="经核实，复议维持原决定",
        answered_on=date(2025, 7, 1),
    )  # fmt: skip
    session.flush()
    assert [r["under_objection"] for r in public.blacklist(conn, date(2025, 7, 1))] == [False]


def test_listing_ending_withdrawing_and_correcting_re_evaluate_the_subject(
    session: Session, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hunan-Credit Art. 19, 22: the credit facts of committed years changed."""
    from portal.services import credit_evaluation

    calls: list[tuple[str, str, list[int], str]] = []

    def spy(_s: Session, _a: Act, kind: str, key: str, years: Any = None, why: str = "") -> list:
        calls.append((kind, key, list(years or []), why))
        return []

    monkeypatch.setattr(credit_evaluation, "reevaluate_subject", spy)
    listing = listed(session, cast)
    seen = len(calls)
    assert calls[-1][:3] == ("practitioner", cast.nurse, [2025]) and "列入" in calls[-1][3]
    blacklist.correct(session, OFFICER, listing.id or 0, on=date(2026, 1, 5),
                      listed_on=date(2025, 6, 21), grounds="更正后的事由")  # fmt: skip
    assert calls[-1][:3] == ("practitioner", cast.nurse, [2025]) and "更正" in calls[-1][3]
    blacklist.withdraw(session, OFFICER, listing.id or 0, on=date(2026, 1, 6), reason="复议撤销")
    assert (
        calls[-1][:3] == ("practitioner", cast.nurse, [2025, 2026]) and "复议撤销" in calls[-1][3]
    )
    assert len(calls) == seen + 2


def test_the_end_of_publication_re_evaluates_the_years_it_spans(
    session: Session, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.services import credit_evaluation

    calls: list[list[int]] = []

    def spy(*_a: Any, years: Any = None, why: str = "") -> list[Any]:
        calls.append(list(years or []))
        return []

    monkeypatch.setattr(credit_evaluation, "reevaluate_subject", spy)
    listing = listed(session, cast)
    blacklist.end_publications(session, OFFICER, date(2028, 6, 20))
    assert listing.state == "removed" and calls[-1] == [2025, 2026, 2027, 2028]


def _appeal_upheld(session: Session, cast: Cast, points: int) -> None:
    from portal.services.appeals import decide_appeal, file_appeal

    appeal = file_appeal(session, OFFICER, decision_no="湘医保协〔2025〕90号",
                         national_code=cast.nurse, received_on=date(2025, 6, 6))  # fmt: skip
    decide_appeal(session, LATER, appeal.id or 0, upheld=True, decided_on=date(2025, 7, 1),
                  points=points)  # fmt: skip


def test_an_upheld_appeal_withdraws_the_termination_listing_with_a_public_withdrawal(
    session: Session, cast: Cast
) -> None:
    listing = listed(session, cast)
    (first,) = blacklist.events_of(session, listing.id or 0)
    _appeal_upheld(session, cast, points=4)  # no longer terminated
    assert listing.state == "withdrawn" and listing.ended_on == date(2025, 7, 1)
    _, gone = blacklist.events_of(session, listing.id or 0)
    assert (gone.type, gone.replaces_id) == ("withdrawn", first.id)
    from portal.services import public

    assert public.blacklist(session.connection(), date(2025, 7, 2)) == []


def test_an_upheld_appeal_that_keeps_the_termination_keeps_the_listing(
    session: Session, cast: Cast
) -> None:
    listing = listed(session, cast)
    _appeal_upheld(session, cast, points=12)
    assert listing.state == "listed"


def test_an_upheld_appeal_withdraws_a_proposal_with_nothing_public(
    session: Session, cast: Cast
) -> None:
    terminate(session, cast, cast.nurse)
    (proposal,) = blacklist.propose_terminated(session, OFFICER, date(2025, 6, 4))
    _appeal_upheld(session, cast, points=0)
    assert proposal.state == "withdrawn"
    assert session.exec(select(BlacklistEvent)).all() == []


def test_voiding_the_termination_in_the_ledger_withdraws_the_listing(
    session: Session, cast: Cast
) -> None:
    from portal.models import LedgerEntry
    from portal.services.ledger import correct_entries

    listing = listed(session, cast)
    entries = session.exec(
        select(LedgerEntry).where(LedgerEntry.kind != "void").order_by(col(LedgerEntry.id))
    ).all()
    correct_entries(session, Act("officer-wang", LATER.at, "录入错误，作废"),
                    [(e.id or 0, None) for e in entries], date(2025, 7, 1))  # fmt: skip
    assert listing.state == "withdrawn"
    assert blacklist.events_of(session, listing.id or 0)[-1].type == "withdrawn"


def test_a_late_objection_is_still_taken_before_the_decision_and_holds_it(
    session: Session, cast: Cast
) -> None:
    """Hunan-Credit Art. 35 sets the 5-working-day answer, no filing deadline."""
    terminate(session, cast, cast.nurse)
    (proposal,) = blacklist.propose_terminated(session, OFFICER, date(2025, 6, 4))
    noticed = blacklist.issue_prior_notice(session, OFFICER, proposal.id or 0, on=date(2025, 6, 5))
    assert noticed.objection_due_on == date(2025, 6, 12)
    late = blacklist.record_objection(session, OFFICER, proposal.id or 0, statement="迟到的异议",
                                      received_on=date(2025, 6, 16))  # fmt: skip
    assert late.objection_on == date(2025, 6, 16)
    assert blacklist.answer_due(late) == date(2025, 6, 23)  # 5 working days after receipt
    with pytest.raises(ServiceError, match="尚未答复"):
        blacklist.list_subject(session, OFFICER, proposal.id or 0, listed_on=date(2025, 6, 17))
    blacklist.answer_objection(session, OFFICER, proposal.id or 0, answer="经核实不成立",
                               upheld=False, on=date(2025, 6, 18))  # fmt: skip
    done = blacklist.list_subject(session, OFFICER, proposal.id or 0, listed_on=date(2025, 6, 18))
    assert done.state == "listed"
    with pytest.raises(ServiceError, match="尚未作出决定"):
        blacklist.record_objection(session, OFFICER, proposal.id or 0, statement="再议",
                                   received_on=date(2025, 6, 19))  # fmt: skip


def test_the_prior_notice_does_not_say_a_late_objection_is_waived(
    session: Session, cast: Cast, tmp_path: Path
) -> None:
    import subprocess

    from portal.services import blacklist_documents

    terminate(session, cast, cast.nurse)
    (proposal,) = blacklist.propose_terminated(session, OFFICER, date(2025, 6, 4))
    noticed = blacklist.issue_prior_notice(session, OFFICER, proposal.id or 0, on=date(2025, 6, 5))
    path = tmp_path / "notice.pdf"
    path.write_bytes(blacklist_documents.prior_notice_pdf(noticed, cast.nurse))
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    text = "".join(out.stdout.decode("utf-8").split())
    assert "视为放弃" not in text
    assert "可在2025年6月12日前" in text and "逾期提出的，在本机关作出决定前仍予核实" in text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("grounds", "事由\x00"),
        ("basis", "依据\x07"),
        ("measures", "措施\x1b"),
        ("authority", "长" * 201),
        ("grounds", "长" * 4001),
    ],
)
def test_control_characters_and_over_long_text_are_refused_naming_the_field(
    session: Session, cast: Cast, field: str, value: str
) -> None:
    text = {"grounds": "事由", "basis": "依据", "authority": "长沙市医疗保障局", "measures": ""}
    with pytest.raises(ServiceError) as refused:
        blacklist.propose(
            session, OFFICER, subject_kind="practitioner", subject_key=cast.nurse,
            proposed_on=date(2025, 6, 4), **{**text, field: value},
        )  # fmt: skip
    assert refused.value.field == field
    assert session.exec(select(BlacklistListing)).all() == []


def test_every_later_text_field_is_checked_too(session: Session, cast: Cast) -> None:
    terminate(session, cast, cast.nurse)
    (proposal,) = blacklist.propose_terminated(session, OFFICER, date(2025, 6, 4))
    pid = proposal.id or 0
    with pytest.raises(ServiceError) as refused:
        blacklist.issue_prior_notice(session, OFFICER, pid, on=date(2025, 6, 5), notice_no="告\x00")
    assert refused.value.field == "notice_no" and proposal.state == "proposed"
    blacklist.issue_prior_notice(session, OFFICER, pid, on=date(2025, 6, 5))
    with pytest.raises(ServiceError) as refused:
        blacklist.record_objection(session, OFFICER, pid, statement="不服\x00",
                                   received_on=date(2025, 6, 6))  # fmt: skip
    assert refused.value.field == "statement" and proposal.objection_on is None
    blacklist.record_objection(
        session, OFFICER, pid, statement="不服", received_on=date(2025, 6, 6)
    )
    with pytest.raises(ServiceError) as refused:
        blacklist.answer_objection(session, OFFICER, pid, answer="x" * 4001, upheld=False,
                                   on=date(2025, 6, 9))  # fmt: skip
    assert refused.value.field == "answer" and not proposal.objection_answer
    blacklist.answer_objection(session, OFFICER, pid, answer="不成立", upheld=False,
                               on=date(2025, 6, 9))  # fmt: skip
    with pytest.raises(ServiceError) as refused:
        blacklist.list_subject(session, OFFICER, pid, listed_on=date(2025, 6, 9),
                               document_no="决\x00")  # fmt: skip
    assert refused.value.field == "document_no" and proposal.state == "noticed"
    listing = blacklist.list_subject(session, OFFICER, pid, listed_on=date(2025, 6, 9))
    for field in ("grounds", "basis", "measures", "authority", "name"):
        with pytest.raises(ServiceError) as refused:
            blacklist.correct(session, OFFICER, pid, on=date(2025, 6, 10), **{field: "更\x00正"})
        assert refused.value.field == field
    with pytest.raises(ServiceError) as refused:
        blacklist.withdraw(session, OFFICER, pid, on=date(2025, 6, 10), reason="撤\x00销")
    assert refused.value.field == "reason" and listing.state == "listed"
    assert len(blacklist.events_of(session, pid)) == 1


def test_propose_terminated_keeps_to_the_officers_region(session: Session, cast: Cast) -> None:
    terminate(session, cast, cast.nurse)
    day = date(2025, 6, 4)
    yueyang = blacklist.propose_terminated(
        session, OFFICER, day, sees_region=lambda r: r[:4] == "4306"
    )
    assert yueyang == []
    made = blacklist.propose_terminated(
        session, OFFICER, day, sees_region=lambda r: r[:4] == "4301"
    )
    assert [m.subject_key for m in made] == [cast.nurse]
