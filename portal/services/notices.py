"""处理通知书: issuing processing notices and recording their delivery."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from portal.models import (
    Decision,
    LedgerEntry,
    Notice,
    Practitioner,
)
from portal.services import credit_archive, disclosure_feed, ledger
from portal.services.errors import NotFound, ServiceError
from portal.services.registry import (
    Act,
    audit,
    get_practitioner,
)
from scoring.dates import first_of_next_month
from scoring.deadlines import due_date
from scoring.model import STATUS_OF_KIND
from scoring.rulesets import practitioner_ruleset

# --- notices -------------------------------------------------------------------------


def decision_by_no(session: Session, document_no: str) -> Decision:
    found = session.exec(select(Decision).where(Decision.document_no == document_no)).first()
    if found is None:
        raise NotFound("document_no", f"未找到处理决定 {document_no}")
    return found


def scores_in(session: Session, person: Practitioner, decision: Decision) -> list[LedgerEntry]:
    """The person's live score entries in this decision (empty: not a party to it)."""
    return [
        e
        for e in ledger.live_entries(ledger.person_entries(session, person.id or 0))
        if e.decision_id == decision.id and e.kind == "score"
    ]


@dataclass(frozen=True)
class NoticeIssued:
    notice: Notice
    warnings: tuple[str, ...]


def issue_notice(
    session: Session,
    act: Act,
    *,
    decision_no: str,
    national_code: str,
    issued_on: date,
    period_start: date | None = None,
    document_no: str | None = None,
) -> NoticeIssued:
    """处理通知书 (National-Procedure Art. 31, Annex 3): points, year total and the period.

    RULES I-6: where the ruleset gives no start (Anhui, Hainan), the notice states one —
    by default its date of issue — and that date replaces the default, so no period (and no
    refused claim) reaches back before the institution could know. For Hunan the period
    starts "从次月起": a stated start before the first day of the month after the decision
    is refused here (naming that day), and one equal to it is the rule's own start, so
    nothing is corrected in the ledger for it.
    """
    decision = decision_by_no(session, decision_no)
    person = get_practitioner(session, national_code)
    ruleset = practitioner_ruleset(person.ruleset)
    ledger.lock_people(session, [person.id or 0])
    entries = scores_in(session, person, decision)
    if not entries:
        raise ServiceError("national_code", "该人员不是本处理决定的相关责任人员")
    if issued_on < decision.decision_date:
        raise ServiceError("issued_on", "出具日期不能早于处理决定日期")
    if period_start is not None and period_start < decision.decision_date:
        raise ServiceError("period_start", "暂停、终止的起始日期不能早于处理决定日期")
    taken = select(Notice.id).where(Notice.decision_id == decision.id)
    if session.exec(taken.where(Notice.practitioner_id == person.id)).first() is not None:
        raise ServiceError("national_code", "已就本处理决定向该人员出具通知书，不能重复出具")
    document_no = (document_no or "").strip() or None
    if document_no is not None:
        if len(document_no) > 64:
            raise ServiceError("document_no", "文号不能超过 64 个字符")
        if session.exec(select(Notice.id).where(Notice.document_no == document_no)).first():
            raise ServiceError("document_no", f"文号 {document_no} 已被其他通知书使用")
    warnings: list[str] = []
    if period_start is not None and ruleset.start == "next_month":
        floor = first_of_next_month(decision.decision_date)
        if period_start < floor:
            raise ServiceError(
                "period_start",
                "湖南暂停、终止“从次月起”（湘医保发〔2025〕4号第九条）：起始日期不得早于 "
                f"{floor.isoformat()}（RULES I-6）",
            )
        if period_start == floor and not any(
            json.loads(e.payload).get("effective") for e in entries
        ):
            period_start = None  # the rule's own start: nothing to state in the ledger
    elif period_start is not None and period_start < issued_on:
        warnings.append(
            f"起始日期 {period_start.isoformat()} 早于出具日期，"
            "期间将追溯至机构知晓之前（RULES I-6）"
        )
    start = period_start
    if start is None and ruleset.start == "scoring_date":
        start = issued_on
    if start is not None:
        stale = [e for e in entries if json.loads(e.payload).get("effective") != start.isoformat()]
        if stale:
            why = f"处理通知书载明的起始日期 {start.isoformat()}（RULES I-6）"
            ledger.correct_entries(
                session,
                Act(act.actor, act.at, why),
                [(e.id or 0, {"effective": start.isoformat()}) for e in stale],
                issued_on,
            )
    timeline = ledger.recompute(session, person, issued_on)
    points = ledger.case_points(session, person, timeline, decision.id or 0)
    # The period this case made or extended (a merged period names every case behind it).
    caused = [p for p in timeline.periods if str(decision.id) in p.sources]
    period = caused[-1] if caused else None
    status = "normal" if period is None else STATUS_OF_KIND[period.kind]
    warnings = [*timeline.warnings, *warnings]
    due = due_date(ruleset, "notice_issue", decision.decision_date)
    if issued_on > due.due:
        warnings.append(f"晚于规定期限 {due.due.isoformat()} 出具（{due.deadline.ref}）")
    notice = Notice(
        decision_id=decision.id or 0,
        practitioner_id=person.id or 0,
        document_no=document_no
        or f"医保记分通〔{issued_on.year}〕{decision.id:06d}-{person.id:07d}号",
        issued_on=issued_on,
        points=points,
        year_points=timeline.year_points_on(decision.decision_date),
        status=status,
        period_start=period.start if period else None,
        period_end=period.end if period else None,
        reregister_from=period.reregister_from if period else None,
        **act.stamp(),
    )
    session.add(notice)
    session.flush()
    audit(session, act, "issue_notice", "notice", notice.id, document_no=notice.document_no)
    credit_archive.sync_from_ledger(session, act, [person.id or 0])  # published: now public
    disclosure_feed.follow(session, person, issued_on, "notice", timeline)
    return NoticeIssued(notice, tuple(warnings))


def default_start(
    ruleset_id: str, decision_date: date, issued_on: date, stated: date | None = None
) -> date:
    """The start the notice form prefills (RULES I-6): Hunan's "从次月起", the first day of
    the month after the decision, unless the case already states a later one; Anhui and
    Hainan, which give none, the date of issue (a start recorded with the case there is
    only a placeholder until the notice is issued, see ledger.record_case)."""
    if practitioner_ruleset(ruleset_id).start == "next_month":
        return stated or first_of_next_month(decision_date)
    return issued_on


@dataclass(frozen=True)
class NoticePreview:
    document_no: str
    points: int
    year_points: int
    status: str
    period_start: date | None
    period_end: date | None
    reregister_from: date | None
    warnings: tuple[str, ...]


def preview_notice(
    engine: Engine,
    *,
    actor: str,
    decision_no: str,
    national_code: str,
    issued_on: date,
    period_start: date | None = None,
    document_no: str | None = None,
) -> NoticePreview:
    """What issuing this notice would state, with nothing saved: issue_notice itself runs in
    a transaction that is always rolled back, so the preview and the notice cannot disagree.
    A refusal is the same ServiceError that issuing would raise."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            issued = issue_notice(
                session,
                Act(actor, datetime.now(UTC), "预览"),
                decision_no=decision_no,
                national_code=national_code,
                issued_on=issued_on,
                period_start=period_start,
                document_no=document_no,
            )
            n = issued.notice
            return NoticePreview(
                n.document_no, n.points, n.year_points, n.status, n.period_start,
                n.period_end, n.reregister_from, issued.warnings,
            )  # fmt: skip
        finally:
            session.rollback()


def record_delivery(
    session: Session, act: Act, notice_no: str, delivered_on: date, delivered_to: str
) -> Notice:
    """送达 (National-Procedure Art. 33): the appeal deadline runs from receipt (Art. 41)."""
    notice = session.exec(select(Notice).where(Notice.document_no == notice_no)).first()
    if notice is None:
        raise NotFound("notice_no", f"未找到通知书 {notice_no}")
    if notice.delivered_on is not None:
        raise ServiceError("notice_no", f"该通知书已于 {notice.delivered_on.isoformat()} 送达")
    if delivered_on < notice.issued_on:
        raise ServiceError("delivered_on", "送达日期不能早于出具日期")
    if not delivered_to.strip():
        raise ServiceError("delivered_to", "请填写签收机构或人员")
    person = session.get(Practitioner, notice.practitioner_id)
    assert person is not None
    notice.delivered_on = delivered_on
    notice.delivered_to = delivered_to.strip()
    notice.appeal_due = due_date(practitioner_ruleset(person.ruleset), "appeal", delivered_on).due
    session.add(notice)
    audit(session, act, "deliver_notice", "notice", notice.id, on=delivered_on)
    return notice
