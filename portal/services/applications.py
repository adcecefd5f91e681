"""Shared by the procedures that the engine may refuse: a dry run of one more event, and the
two-step decision (institution, then agency) of repair and restoration applications.

Each decision that changes a person's history is first tried on the engine; only an
accepted one is appended to the ledger, so a refusal leaves the ledger untouched."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from portal.models import (
    Practitioner,
    RepairApplication,
    RestorationApplication,
)
from portal.services import ledger
from portal.services.errors import ServiceError
from portal.services.registry import (
    Act,
)
from scoring.engine import evaluate
from scoring.model import Event, Outcome
from scoring.rulesets import practitioner_ruleset

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


# --- dry runs ------------------------------------------------------------------------


Application = RepairApplication | RestorationApplication


def try_event(session: Session, person: Practitioner, event: Event) -> Outcome:
    """What the engine would say to one more event, without writing anything."""
    entries = ledger.live_entries(ledger.person_entries(session, person.id or 0))
    events = [ledger.entry_event(e) for e in entries] + [event]
    return evaluate(practitioner_ruleset(person.ruleset), events).outcomes[-1]


def check_step(application: Application, level: str, on: date) -> None:
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


def agency_decides(
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
    outcome = try_event(session, person, event)
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


def institution_decides(application: Application, act: Act, approve: bool, on: date) -> None:
    application.institution_decided_on = on
    application.state = "institution_approved" if approve else "refused"
    if not approve:
        application.refusal = act.reason or "所在机构审核未通过"
