"""The disclosures feed: every public change of a status is an item, written with the change,
and replaying the feed gives the public state (spec/DESIGN.md "Feeds")."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from portal.identifiers import make_credit_code, make_resident_id
from portal.models import Decision, DisclosureEvent, LedgerEntry
from portal.services import disclosure_feed
from portal.services.appeals import decide_appeal, file_appeal
from portal.services.disclosure_feed import PublicPeriod, diff
from portal.services.ledger import Finding, correct_entry, record_case, status_on
from portal.services.notices import issue_notice
from portal.services.registrations import register
from portal.services.registry import create_institution, create_practitioner
from portal.services.restorations import apply_restoration, decide_restoration
from portal.services.shortening import shorten_period
from tests.portal.conftest import HOSPITAL_ADMIN, OFFICER, SECRET, Cast

TODAY = date(2026, 3, 15)
D = date


MAY_31 = D(2025, 5, 31)


def _period(key: str = "1", end: date | None = MAY_31, **kw: object) -> PublicPeriod:
    fields: dict[str, object] = {
        "key": key, "kind": "suspension", "start": D(2025, 4, 1), "end": end,
        "reregister_from": None, "restored_on": None, "document_no": "文1",
    }  # fmt: skip
    fields.update(kw)
    return PublicPeriod(**fields)  # type: ignore[arg-type]


def test_diff_names_each_kind_of_public_change() -> None:
    on = D(2025, 6, 1)
    assert [c.type for c in diff([], [_period()], on, "notice")] == ["suspended"]
    assert diff([], [_period()], on, "notice")[0].effective == D(2025, 4, 1)
    restored = diff([_period()], [_period(restored_on=D(2025, 6, 9))], on, "restoration")
    assert [(c.type, c.effective) for c in restored] == [("restored", D(2025, 6, 9))]
    shorter = diff([_period()], [_period(end=D(2025, 4, 30))], on, "shortening")
    assert [(c.type, c.period.end) for c in shorter] == [("shortened", D(2025, 4, 30))]
    fixed = diff([_period()], [_period(kind="termination", end=None)], on, "correction")
    assert [c.type for c in fixed] == ["corrected"]
    gone = diff([_period()], [], on, "appeal")
    assert [(c.type, c.effective) for c in gone] == [("withdrawn", on)]
    assert diff([_period()], [_period()], on, "correction") == []


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


def notice(session: Session, no: str, code: str, on: date) -> None:
    issue_notice(session, OFFICER, decision_no=no, national_code=code, issued_on=on)


def people(session: Session, cast: Cast, n: int) -> list[str]:
    codes = []
    for i in range(n):
        code = f"D430102{i + 50:05d}"
        create_practitioner(
            session,
            HOSPITAL_ADMIN,
            national_code=code,
            name=f"测试{i}",
            id_number=make_resident_id("430102", D(1985, 1, 1 + i), 20 + i, "male"),
            secret=SECRET,
        )
        register(
            session,
            HOSPITAL_ADMIN,
            national_code=code,
            institution_code=cast.hospital_a,
            registered_on=D(2024, 1, 1),
            commitment_signed_on=D(2024, 1, 1),
        )
        codes.append(code)
    return codes


def scenario(session: Session, cast: Cast) -> dict[str, str]:
    """Suspensions, a termination, a restoration, a correction, an upheld appeal and a
    notice issued after "today"; every case with a notice published (a case alone is not)."""
    restored, terminated, pending, appealed, corrected, future = people(session, cast, 6)
    case(session, cast, "湘医保协〔2025〕1号", D(2025, 3, 5), restored, 9)
    notice(session, "湘医保协〔2025〕1号", restored, D(2025, 3, 10))
    case(session, cast, "湘医保协〔2025〕2号", D(2025, 9, 19), terminated, 12)
    notice(session, "湘医保协〔2025〕2号", terminated, D(2025, 9, 24))
    case(session, cast, "湘医保协〔2025〕3号", D(2025, 10, 10), appealed, 9)
    notice(session, "湘医保协〔2025〕3号", appealed, D(2025, 10, 13))
    appeal = file_appeal(
        session, OFFICER, decision_no="湘医保协〔2025〕3号", national_code=appealed,
        received_on=D(2025, 10, 20),
    )  # fmt: skip
    assert appeal.id is not None
    decide_appeal(session, OFFICER, appeal.id, upheld=True, decided_on=D(2025, 11, 20), points=3)
    case(session, cast, "湘医保协〔2025〕4号", D(2025, 8, 1), corrected, 9)
    notice(session, "湘医保协〔2025〕4号", corrected, D(2025, 8, 5))
    case(session, cast, "湘医保协〔2025〕5号", D(2025, 11, 3), pending, 9)
    notice(session, "湘医保协〔2025〕5号", pending, D(2025, 11, 5))
    decision = session.exec(select(Decision).where(Decision.document_no == "湘医保协〔2025〕4号"))
    entry = session.exec(
        select(LedgerEntry).where(LedgerEntry.decision_id == decision.one().id)
    ).one()
    correct_entry(session, OFFICER, entry.id or 0, {"points": 12}, D(2025, 12, 1))
    application = apply_restoration(
        session, HOSPITAL_ADMIN, national_code=restored, applied_on=D(2026, 1, 5)
    )
    assert application.id is not None
    decide_restoration(
        session, HOSPITAL_ADMIN, application.id, approve=True, on=D(2026, 1, 6),
        level="institution",
    )  # fmt: skip
    decide_restoration(
        session, OFFICER, application.id, approve=True, on=D(2026, 1, 8), level="agency"
    )
    shortened = hainan_shortened(session)
    # Last: the feed stops before an item not public yet, so what is recorded after this
    # notice waits for its issue date (see test_a_later_change_waits_for_a_future_notice).
    case(session, cast, "湘医保协〔2026〕6号", D(2026, 3, 10), future, 9)
    notice(session, "湘医保协〔2026〕6号", future, D(2026, 3, 18))
    session.flush()
    return {
        "restored": restored, "terminated": terminated, "pending": pending,
        "appealed": appealed, "corrected": corrected, "future": future,
        "shortened": shortened,
    }  # fmt: skip


def hainan_shortened(session: Session) -> str:
    """A Haikou doctor suspended 4 months from the notice (Hainan-Rules Art. 24(3); RULES
    I-6), the period shortened to 31 August (Hainan-Rules Art. 16)."""
    code = "D46010600001"
    create_institution(
        session, HOSPITAL_ADMIN, code="H46010600001", name="海口市人民医院",
        credit_code=make_credit_code("460106", "MB0000009"), kind="hospital",
        region="460106", ownership="public",
    )  # fmt: skip
    create_practitioner(
        session, HOSPITAL_ADMIN, national_code=code, name="符强", secret=SECRET,
        id_number=make_resident_id("460106", D(1979, 9, 9), 4, "male"),
    )  # fmt: skip
    register(
        session, HOSPITAL_ADMIN, national_code=code, institution_code="H46010600001",
        registered_on=D(2025, 4, 1), commitment_signed_on=D(2025, 4, 1),
    )  # fmt: skip
    record_case(
        session, OFFICER, institution_code="H46010600001", decision_type="agreement_action",
        legal_basis="服务协议", document_no="琼医保协〔2025〕7号",
        decision_date=D(2025, 6, 2), amount=None,
        findings=[Finding(code, points=10)], as_of=D(2025, 6, 2),
    )  # fmt: skip
    notice(session, "琼医保协〔2025〕7号", code, D(2025, 6, 3))
    shorten_period(session, OFFICER, national_code=code, on=D(2025, 7, 1), new_end=D(2025, 8, 31))
    return code


def replay(session: Session, on: date) -> dict[str, dict[str, object]]:
    conn = session.connection()
    state: dict[str, dict[str, object]] = {}
    since = 0
    while True:
        page = disclosure_feed.items(conn, on, since=since, limit=2)
        for item in page:
            assert item["published"] <= on
            if item["effective"] <= on:
                state[str(item["code"])] = item
        if len(page) < 2:
            return state
        since = int(page[-1]["id"])


def test_replaying_the_feed_gives_every_status(session: Session, cast: Cast) -> None:
    who = scenario(session, cast)
    state = replay(session, TODAY)
    everyone = [*who.values(), cast.doctor, cast.nurse, cast.principal]
    for code in everyone:
        expected = status_on(session, code, TODAY).status
        assert state.get(code, {}).get("status", "normal") == expected, code
    assert state[who["terminated"]]["status"] == "terminated"
    assert state[who["pending"]]["status"] == "suspended"  # ended, not restored (I-8)
    assert state[who["restored"]]["type"] == "restored"
    assert state[who["appealed"]]["type"] == "withdrawn"
    assert state[who["corrected"]]["status"] == "terminated"
    assert state[who["shortened"]]["type"] == "shortened"
    assert state[who["shortened"]]["status"] == "suspended"  # until restored (I-8)
    assert state[who["shortened"]]["period_end"] == D(2025, 8, 31)
    assert who["future"] not in state  # issued on 18 March: not public on the 15th
    later = replay(session, D(2026, 4, 2))
    assert later[who["future"]]["status"] == "suspended"
    assert later[who["future"]]["published"] == D(2026, 3, 18)


def test_corrections_replace_what_they_correct(session: Session, cast: Cast) -> None:
    who = scenario(session, cast)
    items = session.exec(
        select(DisclosureEvent)
        .where(DisclosureEvent.code == who["corrected"])
        .order_by(DisclosureEvent.id)  # type: ignore[arg-type]
    ).all()
    first, last = items[0], items[-1]
    assert (first.type, first.status, first.published_on) == (
        "suspended", "suspended", D(2025, 8, 5)
    )  # fmt: skip
    assert last.type == "corrected" and last.replaces_id == first.id
    withdrawn = session.exec(
        select(DisclosureEvent).where(DisclosureEvent.code == who["appealed"])
    ).all()
    assert [i.type for i in withdrawn] == ["suspended", "withdrawn"]
    assert withdrawn[1].replaces_id == withdrawn[0].id and withdrawn[1].status == "normal"


def test_a_case_without_a_notice_is_not_in_the_feed(session: Session, cast: Cast) -> None:
    (code,) = people(session, cast, 1)
    case(session, cast, "湘医保协〔2025〕9号", D(2025, 3, 5), code, 9)
    assert disclosure_feed.items(session.connection(), TODAY) == []


def test_month_extract_plus_changes_is_the_next_extract(session: Session, cast: Cast) -> None:
    scenario(session, cast)
    conn = session.connection()
    columns = disclosure_feed.EXTRACT_COLUMNS
    for year, month in ((2025, 9), (2025, 11), (2025, 12), (2026, 1), (2026, 2)):
        first, last = disclosure_feed.month_bounds(year, month)
        before = disclosure_feed.extract(conn, first - timedelta(days=1))
        state = {r["code"]: {c: r[c] for c in columns} for r in before}
        for item in disclosure_feed.changes(conn, first, last):
            state[item["code"]] = {c: item[c] for c in columns}
        applied = {k: v for k, v in state.items() if v["status"] != "normal"}
        expected = {
            r["code"]: {c: r[c] for c in columns} for r in disclosure_feed.extract(conn, last)
        }
        assert applied == expected, (year, month)


def test_backfill_writes_the_same_feed(session: Session, cast: Cast) -> None:
    who = scenario(session, cast)
    live = replay(session, TODAY)
    assert disclosure_feed.backfill(session) == 0  # idempotent: nothing new
    assert live[who["terminated"]]["document_no"]


@pytest.mark.parametrize(
    "statement",
    ["UPDATE disclosure_event SET status = 'normal'", "DELETE FROM disclosure_event"],
)
def test_items_are_append_only(session: Session, cast: Cast, statement: str) -> None:
    """A published item is never rewritten: a correction is a new item (DESIGN
    "Append-only tables")."""
    scenario(session, cast)
    session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement))
    session.rollback()


def test_a_later_change_waits_for_a_future_notice(session: Session, cast: Cast) -> None:
    """The feed stops before the first item not public yet, so that no cursor passes it
    (DESIGN "Feeds": ``published`` ≤ today); a change recorded after a notice dated in
    three days is served from that day on."""
    waiting, later = people(session, cast, 2)
    case(session, cast, "湘医保协〔2026〕7号", D(2026, 3, 10), waiting, 9)
    notice(session, "湘医保协〔2026〕7号", waiting, D(2026, 3, 18))
    case(session, cast, "湘医保协〔2026〕8号", D(2026, 1, 5), later, 9)
    notice(session, "湘医保协〔2026〕8号", later, D(2026, 1, 9))
    conn = session.connection()
    assert disclosure_feed.items(conn, TODAY) == []
    assert disclosure_feed.latest(conn, TODAY) == 0
    codes = [i["code"] for i in disclosure_feed.items(conn, D(2026, 3, 18))]
    assert codes == [waiting, later]


def test_an_agreement_action_s_linked_periods_are_in_the_feed(session: Session, cast: Cast) -> None:
    """The institution's agreement suspended: its responsible persons' linked suspensions are
    public from the decision (RULES §5.4); reinstated early, the shorter period is a
    ``shortened`` item (Hunan-Rules Art. 10); the replay matches the status every day."""
    from portal.services.agreements import record_agreement_action

    record_agreement_action(
        session, OFFICER, institution_code=cast.hospital_a, action="suspended",
        decided_on=D(2025, 6, 2), effective_from=D(2025, 6, 2), until=D(2025, 8, 31),
        document_no="湘医保协〔2025〕90号", responsible=[cast.doctor, cast.nurse],
    )  # fmt: skip
    june = replay(session, D(2025, 6, 10))
    for code in (cast.doctor, cast.nurse):
        assert june[code]["type"] == "suspended" and june[code]["status"] == "suspended"
        assert june[code]["document_no"] == "湘医保协〔2025〕90号"
        assert june[code]["period_end"] == D(2025, 8, 31)
    assert cast.principal not in june  # no responsibility: stays normal
    record_agreement_action(
        session, OFFICER, institution_code=cast.hospital_a, action="reinstated",
        decided_on=D(2025, 7, 15), effective_from=D(2025, 7, 15), until=None,
        document_no="湘医保协〔2025〕95号", responsible=[cast.doctor, cast.nurse],
    )  # fmt: skip
    items = session.exec(select(DisclosureEvent).where(DisclosureEvent.code == cast.doctor)).all()
    assert [i.type for i in items][-1] == "shortened"
    assert items[-1].period_end == D(2025, 7, 14) and items[-1].replaces_id == items[0].id
    for day in (D(2025, 6, 10), D(2025, 7, 14), D(2025, 7, 20), D(2025, 9, 5)):
        state = replay(session, day)
        for code in (cast.doctor, cast.nurse, cast.principal):
            expected = status_on(session, code, day).status
            assert state.get(code, {}).get("status", "normal") == expected, (code, day)
