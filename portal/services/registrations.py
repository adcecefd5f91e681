"""登记备案: registering and deregistering practitioners at institutions."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from portal.models import (
    Practitioner,
    Registration,
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
from scoring.model import StatusOn

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
