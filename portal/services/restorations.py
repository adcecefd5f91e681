"""资格恢复: restoration applications, timed by the application date (RULES I-12)."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from portal.models import (
    Practitioner,
    Registration,
    RestorationApplication,
)
from portal.services import disclosure_feed, ledger
from portal.services.applications import (
    REFUSAL_ZH,
    agency_decides,
    check_step,
    institution_decides,
)
from portal.services.errors import NotFound, ServiceError
from portal.services.registry import (
    Act,
    audit,
    get_practitioner,
)
from scoring.deadlines import due_date
from scoring.model import Restore
from scoring.rulesets import practitioner_ruleset

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
    check_step(application, level, on)
    if level == "institution":
        institution_decides(application, act, approve, on)
    else:
        person = session.get(Practitioner, application.practitioner_id)
        assert person is not None
        before = ledger.status_on(session, person.national_code, on).status
        outcome = agency_decides(
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
            disclosure_feed.follow(session, person, on, "restoration")
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
