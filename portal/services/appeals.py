"""申诉: appeals against points or statuses, escalation, the expert panel, decisions."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from portal.models import (
    Appeal,
    Notice,
    Practitioner,
)
from portal.services import blacklist, credit_archive, disclosure_feed, ledger
from portal.services.errors import NotFound, ServiceError
from portal.services.notices import decision_by_no, scores_in
from portal.services.registry import (
    Act,
    audit,
    get_practitioner,
)
from scoring.deadlines import due_date
from scoring.rulesets import practitioner_ruleset
from scoring.workdays import default_calendar

# --- appeals -------------------------------------------------------------------------


def file_appeal(
    session: Session, act: Act, *, decision_no: str, national_code: str, received_on: date
) -> Appeal:
    """申诉 within 10 working days of receiving the notice (National-Procedure Art. 41;
    Hunan-Rules Art. 18: "逾期未申诉的，视为无异议")."""
    decision = decision_by_no(session, decision_no)
    person = get_practitioner(session, national_code)
    ledger.lock_people(session, [person.id or 0])
    if not scores_in(session, person, decision):
        raise ServiceError("national_code", "该人员不是本处理决定的相关责任人员，不能就其申诉")
    if received_on < decision.decision_date:
        raise ServiceError("received_on", "收到申诉日期不能早于处理决定日期")
    earlier = session.exec(
        select(Appeal)
        .where(Appeal.decision_id == decision.id)
        .where(Appeal.practitioner_id == person.id)
    ).first()
    if earlier is not None:
        raise ServiceError(
            "decision_no", f"已于 {earlier.received_on.isoformat()} 就本处理决定提出申诉"
        )
    notice = session.exec(
        select(Notice)
        .where(Notice.decision_id == decision.id)
        .where(Notice.practitioner_id == person.id)
    ).first()
    if notice is not None and notice.appeal_due is not None and received_on > notice.appeal_due:
        raise ServiceError(
            "received_on",
            f"已超过申诉期限（{notice.appeal_due.isoformat()}），逾期未申诉的视为无异议",
        )
    ruleset = practitioner_ruleset(person.ruleset)
    explain = ruleset.deadlines.get("appeal_explain")
    appeal = Appeal(
        decision_id=decision.id or 0,
        practitioner_id=person.id or 0,
        received_on=received_on,
        in_time=True,
        state="received",
        explain_due=due_date(ruleset, explain.id, received_on).due if explain else None,
        resolve_due=due_date(ruleset, "appeal_resolve", received_on).due,
        **act.stamp(),
    )
    session.add(appeal)
    session.flush()
    audit(session, act, "file_appeal", "appeal", appeal.id, decision=decision.document_no)
    return appeal


def _appeal(session: Session, appeal_id: int) -> Appeal:
    appeal = session.get(Appeal, appeal_id, with_for_update=True)
    if appeal is None:
        raise NotFound("appeal_id", f"未找到申诉 {appeal_id}")
    if appeal.state in ("upheld", "rejected"):
        raise ServiceError("appeal_id", "该申诉已办结")
    return appeal


def escalate_appeal(session: Session, act: Act, appeal_id: int, on: date) -> Appeal:
    """Unresolved after the agency's explanation → the administrative department
    (Hunan-Rules Art. 18)."""
    appeal = _appeal(session, appeal_id)
    if appeal.state != "received":
        raise ServiceError("appeal_id", "只有经办机构正在处理的申诉才能提交行政部门")
    if on < appeal.received_on:
        raise ServiceError("on", "提交日期不能早于收到申诉日期")
    appeal.state = "escalated"
    appeal.escalated_on = on
    session.add(appeal)
    audit(session, act, "escalate_appeal", "appeal", appeal.id, on=on)
    return appeal


def expert_panel(
    session: Session, act: Act, appeal_id: int, start: date, end: date | None = None
) -> Appeal:
    """An expert panel pauses the 20-working-day clock (National-Procedure Art. 44).

    When the panel's end is known, the working days left at its start run on after it.
    """
    appeal = _appeal(session, appeal_id)
    if start < appeal.received_on:
        raise ServiceError("start", "专家评估开始日期不能早于收到申诉日期")
    if end is not None and end < start:
        raise ServiceError("end", "专家评估结束日期不能早于开始日期")
    appeal.state = "expert_panel"
    appeal.expert_panel_from = start
    appeal.expert_panel_until = end
    if end is not None:
        cal = default_calendar()
        used, day = 0, appeal.received_on
        while day < start:
            day = cal.add_working_days(day, 1)
            if day < start:
                used += 1
        left = max(1, 20 - used)
        appeal.resolve_due = cal.add_working_days(end, left)
    else:
        appeal.resolve_due = None
    session.add(appeal)
    audit(session, act, "expert_panel", "appeal", appeal.id, start=start, end=end)
    return appeal


def decide_appeal(
    session: Session,
    act: Act,
    appeal_id: int,
    *,
    upheld: bool,
    decided_on: date,
    points: int | None = None,
) -> Appeal:
    """The outcome. Upheld: the case's points are replaced from the start (RULES I-13) and
    everything is recomputed; the ledger keeps what was recorded before."""
    appeal = _appeal(session, appeal_id)
    if decided_on < appeal.received_on:
        raise ServiceError("decided_on", "办结日期不能早于收到申诉日期")
    person = session.get(Practitioner, appeal.practitioner_id)
    assert person is not None
    ledger.lock_people(session, [person.id or 0])
    if upheld:
        if points is None or not 0 <= points <= 12:
            raise ServiceError("points", "申诉成立时请填写更正后的本次记分（0 至 12 分，0 为撤销）")
        entry = ledger.append(
            session, act, person, "appeal", decided_on, {"points": points}, appeal.decision_id
        )
        appeal.ledger_entry_id = entry.id
        appeal.outcome_points = points
        timeline = ledger.recompute(session, person, decided_on)
        credit_archive.sync_from_ledger(session, act, [person.id or 0])  # the item follows
        disclosure_feed.follow(session, person, decided_on, "appeal", timeline)
        blacklist.termination_reconsidered(
            session, act, appeal.decision_id, person.national_code, decided_on
        )
    appeal.state = "upheld" if upheld else "rejected"
    appeal.decided_on = decided_on
    session.add(appeal)
    audit(session, act, "decide_appeal", "appeal", appeal.id, upheld=upheld, points=points)
    if upheld:  # the points changed: committed credit years follow (Hunan-Credit Art. 19, 22)
        from portal.services.credit_evaluation import reevaluate_subject

        why = f"申诉成立（第 {appeal.id} 号），本次记分更正为 {points} 分（{decided_on}）"
        reevaluate_subject(session, act, "practitioner", person.national_code, why=why)
    return appeal
