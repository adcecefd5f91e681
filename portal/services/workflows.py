"""Workflows around the ledger: registration, notices, appeals, repairs, restorations,
shortenings and institutions' agreement actions.

Each decision that changes a person's history is first tried on the engine (a dry run);
only an accepted one is appended to the ledger, so a refusal leaves the ledger untouched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, select

from portal.models import (
    AgreementAction,
    Appeal,
    Decision,
    LedgerEntry,
    Notice,
    Practitioner,
    Registration,
    RepairApplication,
    RestorationApplication,
)
from portal.services import ledger
from portal.services.errors import NotFound, ServiceError
from portal.services.registry import (
    STATUS_ZH,
    Act,
    agreement_state,
    audit,
    get_institution,
    get_practitioner,
)
from scoring.dates import months_period_end
from scoring.deadlines import due_date
from scoring.engine import evaluate
from scoring.model import STATUS_OF_KIND, Event, Outcome, Repair, Restore, Shorten, StatusOn
from scoring.rulesets import practitioner_ruleset
from scoring.workdays import default_calendar

REFUSAL_ZH = {
    "not_eligible": "该途径在本规则下不可修复或不可缩减",
    "nothing_to_repair": "本年度记分为 0，无需修复",
    "route_cap": "该修复途径本年度已达上限",
    "not_restricted": "该日不处于暂停或终止状态",
    "too_early": "申请日期早于可申请恢复的日期（期满后方可申请）",
    "points_too_high": "修复后记分仍未低于规定分值",
    "cancelled": "医保支付资格已取消，不能恢复",
    "invalid_end": "新的截止日期应在当前期限之内",
}


# --- registration --------------------------------------------------------------------


def register(
    session: Session,
    act: Act,
    *,
    national_code: str,
    institution_code: str,
    registered_on: date,
    commitment_signed_on: date | None,
    principal: bool = False,
    multi_site: bool = False,
) -> Registration:
    """登记备案 (National-Procedure Art. 15, 21; Anhui-Rules Art. 23; Hunan-Rules Art. 9(3)(4)).

    Refused without a signed commitment, while the person is suspended, terminated (within
    the re-registration ban) or cancelled anywhere, or while the institution's agreement is
    suspended or terminated.
    """
    person = get_practitioner(session, national_code)
    institution = get_institution(session, institution_code)
    if commitment_signed_on is None:
        raise ServiceError(
            "commitment_signed_on",
            "未签署医保服务承诺，不得提供医保基金支付的服务（经办规程第二十一条）",
        )
    if commitment_signed_on > registered_on:
        raise ServiceError("commitment_signed_on", "服务承诺签署日期不能晚于登记备案日期")
    if principal and institution.kind != "pharmacy":
        raise ServiceError("principal", "只有定点零售药店设主要负责人登记")
    ledger.lock_people(session, [person.id or 0])
    status = _restriction_from(session, person, registered_on)
    if status is not None:
        until = ""
        if status.status == "suspended" and status.period_end:
            until = f"（暂停期至 {status.period_end.isoformat()}，期满后须申请恢复）"
        elif status.status == "terminated" and status.reregister_from:
            until = f"（{status.reregister_from.isoformat()} 起方可申请重新登记备案）"
        raise ServiceError(
            "national_code",
            f"该人员医保支付资格处于{STATUS_ZH[status.status]}状态，"
            f"任何定点医药机构均不得为其登记备案{until}",
        )
    state = agreement_state(session, institution.id or 0, registered_on)
    if state != "normal":
        raise ServiceError("institution_code", f"该机构医保协议处于{STATUS_ZH[state]}状态")
    existing = session.exec(
        select(Registration)
        .where(Registration.practitioner_id == person.id)
        .where(Registration.institution_id == institution.id)
        .where(
            (Registration.deregistered_on == None)  # noqa: E711
            | (Registration.registered_on == registered_on)
        )
    ).first()
    if existing is not None:
        raise ServiceError(
            "institution_code",
            "该人员已在本机构登记备案"
            if existing.deregistered_on is None
            else "同一日期在本机构已有一条（已取消的）登记备案，请改用其他日期",
        )
    registration = Registration(
        practitioner_id=person.id or 0,
        institution_id=institution.id or 0,
        registered_on=registered_on,
        commitment_signed_on=commitment_signed_on,
        principal=principal,
        multi_site=multi_site,
        status="normal",
        **act.stamp(),
    )
    session.add(registration)
    session.flush()
    audit(session, act, "register", "registration", registration.id, practitioner=person.id)
    return registration


def _restriction_from(session: Session, person: Practitioner, day: date) -> StatusOn | None:
    """The first restriction in force on ``day`` or after it, among the periods decided so
    far: a ban decided before a registration but starting after it still refuses it."""
    timeline = ledger.timeline_of(session, person)
    for moment in sorted({day, *(p.start for p in timeline.periods if p.start > day)}):
        status = timeline.status_on(moment)
        if status.status != "normal":
            return status
    return None


def deregister(session: Session, act: Act, registration_id: int, on: date) -> Registration:
    """取消登记备案 (National-Procedure Art. 18): the record stays, marked with the date."""
    registration = session.get(Registration, registration_id)
    if registration is None:
        raise NotFound("registration_id", f"未找到登记备案 {registration_id}")
    if registration.deregistered_on is not None:
        raise ServiceError("registration_id", "该登记备案已取消")
    if on < registration.registered_on:
        raise ServiceError("on", "取消日期不能早于登记备案日期")
    if not act.reason.strip():
        raise ServiceError("reason", "请填写取消登记备案的原因")
    registration.deregistered_on = on
    registration.deregistered_reason = act.reason[:200]
    session.add(registration)
    audit(session, act, "deregister", "registration", registration.id, on=on)
    return registration


# --- notices -------------------------------------------------------------------------


def _decision(session: Session, document_no: str) -> Decision:
    found = session.exec(select(Decision).where(Decision.document_no == document_no)).first()
    if found is None:
        raise NotFound("document_no", f"未找到处理决定 {document_no}")
    return found


def _scores_in(session: Session, person: Practitioner, decision: Decision) -> list[LedgerEntry]:
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
    starts "从次月起"; a stated start before then is refused by the engine.
    """
    decision = _decision(session, decision_no)
    person = get_practitioner(session, national_code)
    ruleset = practitioner_ruleset(person.ruleset)
    ledger.lock_people(session, [person.id or 0])
    entries = _scores_in(session, person, decision)
    if not entries:
        raise ServiceError("national_code", "该人员不是本处理决定的相关责任人员")
    if issued_on < decision.decision_date:
        raise ServiceError("issued_on", "出具日期不能早于处理决定日期")
    if period_start is not None and period_start < decision.decision_date:
        raise ServiceError("period_start", "暂停、终止的起始日期不能早于处理决定日期")
    taken = select(Notice.id).where(Notice.decision_id == decision.id)
    if session.exec(taken.where(Notice.practitioner_id == person.id)).first() is not None:
        raise ServiceError("national_code", "已就本处理决定向该人员出具通知书，不能重复出具")
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
    warnings = list(timeline.warnings)
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
    return NoticeIssued(notice, tuple(warnings))


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


# --- dry runs ------------------------------------------------------------------------


def _try(session: Session, person: Practitioner, event: Event) -> Outcome:
    """What the engine would say to one more event, without writing anything."""
    entries = ledger.live_entries(ledger.person_entries(session, person.id or 0))
    events = [ledger.entry_event(e) for e in entries] + [event]
    return evaluate(practitioner_ruleset(person.ruleset), events).outcomes[-1]


# --- appeals -------------------------------------------------------------------------


def file_appeal(
    session: Session, act: Act, *, decision_no: str, national_code: str, received_on: date
) -> Appeal:
    """申诉 within 10 working days of receiving the notice (National-Procedure Art. 41;
    Hunan-Rules Art. 18: "逾期未申诉的，视为无异议")."""
    decision = _decision(session, decision_no)
    person = get_practitioner(session, national_code)
    ledger.lock_people(session, [person.id or 0])
    if not _scores_in(session, person, decision):
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
        ledger.recompute(session, person, decided_on)
    appeal.state = "upheld" if upheld else "rejected"
    appeal.decided_on = decided_on
    session.add(appeal)
    audit(session, act, "decide_appeal", "appeal", appeal.id, upheld=upheld, points=points)
    return appeal


# --- repairs -------------------------------------------------------------------------


def apply_repair(
    session: Session,
    act: Act,
    *,
    national_code: str,
    route: str,
    param: str | int | None,
    applied_on: date,
) -> RepairApplication:
    """记分修复申请 (Hunan-Rules Art. 12; Anhui-Rules Art. 30; Hainan-Rules Art. 27-28)."""
    person = get_practitioner(session, national_code)
    ruleset = practitioner_ruleset(person.ruleset)
    spec = ruleset.routes.get(route)
    if spec is None:
        raise ServiceError(
            "route", f"本规则集没有修复途径 {route}；可选：{'、'.join(ruleset.routes)}"
        )
    if spec.param is not None and (param is None or str(param) == ""):
        raise ServiceError("param", "请填写该修复途径所需的成绩、级别或分值")
    if spec.param in ("score", "points"):
        try:
            value = int(str(param))
        except ValueError:
            raise ServiceError("param", "应为整数") from None
        high = 100 if spec.param == "score" else 12
        if not (0 if spec.param == "score" else 1) <= value <= high:
            raise ServiceError("param", f"超出范围（最大 {high}）")
        param = value
    elif spec.param is not None and str(param) not in spec.choices():
        raise ServiceError("param", f"可选：{'、'.join(spec.choices())}")
    application = RepairApplication(
        practitioner_id=person.id or 0,
        route=route,
        param="" if param is None else str(param),
        applied_on=applied_on,
        state="applied",
        **act.stamp(),
    )
    session.add(application)
    session.flush()
    audit(session, act, "apply_repair", "repair_application", application.id, route=route)
    return application


Application = RepairApplication | RestorationApplication


def _check_step(application: Application, level: str, on: date) -> None:
    """Two steps, in order: the institution, then the agency."""
    expected = {"institution": "applied", "agency": "institution_approved"}.get(level)
    if expected is None:
        raise ServiceError("level", "审核层级应为 institution 或 agency")
    if application.state != expected:
        raise ServiceError(
            "application_id", "该申请不在待本级审核状态（先由所在机构审核，再由经办机构审核）"
        )
    if on < application.applied_on:
        raise ServiceError("on", "审核日期不能早于申请日期")


def _agency_decides(
    session: Session,
    act: Act,
    application: Application,
    *,
    approve: bool,
    event: Event,
    kind: str,
    payload: dict[str, object],
) -> Outcome:
    """Try the event on the engine; append it only when approved and accepted."""
    person = session.get(Practitioner, application.practitioner_id)
    assert person is not None
    ledger.lock_people(session, [person.id or 0])
    outcome = _try(session, person, event)
    application.agency_decided_on = event.date
    if approve and outcome.accepted:
        entry = ledger.append(session, act, person, kind, event.date, payload)
        application.ledger_entry_id = entry.id
        application.state = "approved"
        ledger.recompute(session, person, event.date)
    else:
        application.state = "refused"
        application.refusal = (
            REFUSAL_ZH.get(outcome.reason or "", outcome.reason or "")
            if approve
            else act.reason or "经办机构审核未通过"
        )
    return outcome


def _institution_decides(application: Application, act: Act, approve: bool, on: date) -> None:
    application.institution_decided_on = on
    application.state = "institution_approved" if approve else "refused"
    if not approve:
        application.refusal = act.reason or "所在机构审核未通过"


def decide_repair(
    session: Session, act: Act, application_id: int, *, approve: bool, on: date, level: str
) -> RepairApplication:
    """Institution first, then the agency (Hunan-Rules Art. 12; National-Procedure Art. 38).

    The agency's approval is tried on the engine: a route worth nothing, a year with no
    points or a used-up cap is refused with the reason, and nothing enters the ledger.
    """
    application = session.get(RepairApplication, application_id, with_for_update=True)
    if application is None:
        raise NotFound("application_id", f"未找到修复申请 {application_id}")
    _check_step(application, level, on)
    if level == "institution":
        _institution_decides(application, act, approve, on)
        application.institution_decided_by = act.actor
    else:
        application.agency_decided_by = act.actor
        person = session.get(Practitioner, application.practitioner_id)
        assert person is not None
        route = practitioner_ruleset(person.ruleset).routes[application.route]
        param: str | int | None = application.param or None
        if param is not None and route.param in ("score", "points"):
            param = int(param)
        outcome = _agency_decides(
            session,
            act,
            application,
            approve=approve,
            event=Repair(on, route.id, param),
            kind="repair",
            payload={"route": route.id, "param": param},
        )
        if application.state == "approved":
            application.granted = outcome.granted
    session.add(application)
    audit(
        session,
        act,
        f"decide_repair_{level}",
        "repair_application",
        application.id,
        approve=approve,
    )
    return application


# --- restorations --------------------------------------------------------------------


def apply_restoration(
    session: Session, act: Act, *, national_code: str, applied_on: date
) -> RestorationApplication:
    """资格恢复申请; the agency evaluates within 10 working days (Hunan-Rules Art. 13)."""
    person = get_practitioner(session, national_code)
    ruleset = practitioner_ruleset(person.ruleset)
    status = ledger.status_on(session, person.national_code, applied_on)
    if status.status in ("normal", "cancelled"):
        reason = "cancelled" if status.status == "cancelled" else "not_restricted"
        raise ServiceError("national_code", REFUSAL_ZH[reason])
    application = RestorationApplication(
        practitioner_id=person.id or 0,
        applied_on=applied_on,
        evaluate_due=due_date(ruleset, "restoration_evaluate", applied_on).due,
        state="applied",
        **act.stamp(),
    )
    session.add(application)
    session.flush()
    audit(session, act, "apply_restoration", "restoration_application", application.id)
    return application


def decide_restoration(
    session: Session, act: Act, application_id: int, *, approve: bool, on: date, level: str
) -> RestorationApplication:
    """The institution's opinion, then the agency's evaluation (RULES I-12)."""
    application = session.get(RestorationApplication, application_id, with_for_update=True)
    if application is None:
        raise NotFound("application_id", f"未找到恢复申请 {application_id}")
    _check_step(application, level, on)
    if level == "institution":
        _institution_decides(application, act, approve, on)
    else:
        person = session.get(Practitioner, application.practitioner_id)
        assert person is not None
        before = ledger.status_on(session, person.national_code, on).status
        outcome = _agency_decides(
            session,
            act,
            application,
            approve=approve,
            event=Restore(on, application.applied_on),
            kind="restore",
            payload={"applied": application.applied_on.isoformat()},
        )
        if application.state == "approved":
            application.effective = outcome.effective
            if before == "terminated":
                _close_registrations(session, act, person, outcome.effective or on)
    session.add(application)
    audit(session, act, f"decide_restoration_{level}", "restoration_application", application.id)
    return application


def _close_registrations(session: Session, act: Act, person: Practitioner, on: date) -> None:
    """A restored termination needs a new commitment and a new registration (Hunan-Rules
    Art. 14; National-Procedure Art. 39): the old registrations end."""
    for registration in session.exec(
        select(Registration)
        .where(Registration.practitioner_id == person.id)
        .where(Registration.deregistered_on == None)  # noqa: E711
    ).all():
        registration.deregistered_on = max(on, registration.registered_on)
        registration.deregistered_reason = "终止资格已恢复，须重新作出承诺和登记备案"
        session.add(registration)
        audit(session, act, "deregister", "registration", registration.id, on=on)


def shorten_period(
    session: Session, act: Act, *, national_code: str, on: date, new_end: date
) -> Outcome:
    """缩减暂停或终止期限 where the rules provide it (Hainan-Rules Art. 16; RULES §7)."""
    person = get_practitioner(session, national_code)
    ledger.lock_people(session, [person.id or 0])
    outcome = _try(session, person, Shorten(on, new_end))
    if not outcome.accepted:
        raise ServiceError("new_end", REFUSAL_ZH.get(outcome.reason or "", outcome.reason or ""))
    ledger.append(session, act, person, "shorten", on, {"end": new_end.isoformat()})
    ledger.recompute(session, person, on)
    return outcome


# --- institutions' agreement actions -------------------------------------------------


def record_agreement_action(
    session: Session,
    act: Act,
    *,
    institution_code: str,
    action: str,
    decided_on: date,
    effective_from: date,
    until: date | None,
    document_no: str,
    responsible: list[str] | tuple[str, ...] = (),
) -> AgreementAction:
    """中止 / 解除 / 恢复 an institution's agreement, and what follows for its responsible
    persons (National-Procedure Art. 34; Anhui-Rules Art. 21-22; Hunan-Rules Art. 10).

    Suspended: each responsible person is suspended for the agreement's suspension (Hainan-
    Rules Art. 25 caps it at 6 months). Terminated: each is terminated. Reinstated early:
    the linked suspensions end the day before, while a person's own suspension runs on
    (Hunan-Rules Art. 10). Persons without responsibility stay normal.
    """
    institution = get_institution(session, institution_code)
    if action not in ("suspended", "terminated", "reinstated"):
        raise ServiceError(
            "action", "协议处理应为中止（suspended）、解除（terminated）或恢复（reinstated）"
        )
    if effective_from < decided_on:
        raise ServiceError("effective_from", "生效日期不能早于决定日期")
    if until is not None and until < effective_from:
        raise ServiceError("until", "截止日期不能早于生效日期")
    if action == "suspended" and until is None:
        raise ServiceError("until", "中止医保协议须载明中止期限的截止日期")
    if (
        action == "suspended"
        and until is not None
        and institution.ruleset == "hainan-2025"
        and until > months_period_end(effective_from, 6)
    ):
        raise ServiceError("until", "中止医保协议不超过6个月（海南细则第二十五条）")
    if not document_no.strip():
        raise ServiceError("document_no", "请填写文书编号")
    used = select(AgreementAction.id).where(AgreementAction.document_no == document_no.strip())
    if session.exec(used).first() is not None:
        raise ServiceError("document_no", f"文书编号 {document_no} 已登记")
    people = []
    for i, code in enumerate(responsible):
        try:
            person = get_practitioner(session, code)
        except NotFound as exc:
            raise ServiceError(f"responsible[{i}]", exc.message) from exc
        here = session.exec(
            select(Registration.id)
            .where(Registration.practitioner_id == person.id)
            .where(Registration.institution_id == institution.id)
            .where(Registration.registered_on <= effective_from)
        ).first()
        if here is None:
            raise ServiceError(
                f"responsible[{i}]", f"{person.name}未在该机构登记备案，不能因该机构协议处理而受限"
            )
        people.append(person)
    if action == "reinstated":
        # Every linked suspension from this institution ends, whoever is named.
        linked = select(LedgerEntry.practitioner_id).where(LedgerEntry.kind == "linked")
        ids = {pid for pid in session.exec(linked).all()}
        people = [p for p in (session.get(Practitioner, pid) for pid in sorted(ids)) if p]
    record = AgreementAction(
        institution_id=institution.id or 0,
        action=action,
        decided_on=decided_on,
        effective_from=effective_from,
        until=until,
        document_no=document_no.strip(),
        **act.stamp(),
    )
    session.add(record)
    session.flush()
    audit(session, act, f"agreement_{action}", "institution", institution.id, document=document_no)
    ledger.lock_people(session, [p.id or 0 for p in people])
    for person in people:
        if action == "reinstated":
            _end_linked(session, act, person, institution.code, effective_from)
            continue  # a correction replays the person itself
        else:
            payload = {
                "kind": "suspension" if action == "suspended" else "termination",
                "start": effective_from.isoformat(),
                "end": until.isoformat() if action == "suspended" and until else None,
                "institution": institution.code,
                "cause": f"{institution.name}医保协议{'中止' if action == 'suspended' else '解除'}"
                f"（{document_no.strip()}）",
            }
            ledger.append(session, act, person, "linked", decided_on, payload)
        ledger.recompute(session, person, decided_on)
    return record


def _end_linked(
    session: Session, act: Act, person: Practitioner, institution_code: str, reinstated: date
) -> None:
    """End the person's linked suspensions from this institution the day before it was
    reinstated (a correction that supersedes the entry; the old one stays)."""
    last = reinstated - timedelta(days=1)
    for entry in ledger.live_entries(ledger.person_entries(session, person.id or 0)):
        data = json.loads(entry.payload)
        if entry.kind != "linked" or data.get("institution") != institution_code:
            continue
        if data["kind"] == "suspension" and data["end"] and date.fromisoformat(data["end"]) > last:
            end = max(last, date.fromisoformat(data["start"]))
            ledger.correct_entry(
                session,
                Act(
                    act.actor,
                    act.at,
                    f"机构恢复定点，关联暂停于 {end.isoformat()} 截止（湘细则第十条）",
                ),
                entry.id or 0,
                {"end": end.isoformat()},
                reinstated,
            )
