"""Institutions, practitioners and registrations (登记备案)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from portal.crypto import seal, unseal
from portal.identifiers import (
    PRACTICE_OF_PREFIX,
    IdentifierError,
    ResidentId,
    check_credit_code,
    check_national_code,
    check_region,
    check_resident_id,
    id_digest,
    mask_id,
    national_code_prefix,
)
from portal.models import AgreementAction, Institution, Practitioner, Registration
from portal.services import audit as audit_chain
from portal.services.errors import NotFound, ServiceError

# GB/T 2260 province prefixes → the practitioner ruleset in force there.
RULESET_OF_PROVINCE = {"43": "hunan-2025", "34": "anhui-2025", "46": "hainan-2025"}
STATUS_ZH = {"normal": "正常", "suspended": "暂停", "terminated": "终止", "cancelled": "取消"}


@dataclass(frozen=True)
class Act:
    """Who does something, when, and why: recorded on every row and in the audit log."""

    actor: str
    at: datetime
    reason: str = ""

    def stamp(self) -> dict[str, Any]:
        return {"recorded_by": self.actor, "recorded_at": self.at, "reason": self.reason}


def audit(
    session: Session, act: Act, action: str, entity: str, entity_id: int | None, **detail: Any
) -> None:
    """Write the change to the audit log: who, when, what, why, and ``detail`` (JSON).

    A service that changes a row in place passes ``before=`` and ``after=``; otherwise
    the columns of ``entity`` #``entity_id`` changed in this session and not yet flushed
    are added as before/after (secrets and sealed data never). The entry is chained and
    inserted when the transaction commits (portal.services.audit)."""
    if "before" not in detail and "after" not in detail:
        changed = audit_chain.changes(session, entity, entity_id)
        if changed:
            detail["before"], detail["after"] = changed
    audit_chain.record(
        session,
        at=act.at,
        actor=act.actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        reason=act.reason,
        detail=json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True),
    )


def ruleset_for_region(region: str) -> str:
    ruleset = RULESET_OF_PROVINCE.get(region[:2])
    if ruleset is None:
        raise ServiceError("region", f"行政区划 {region} 所在省份尚未配置规则集")
    return ruleset


def _checked(field: str, check: Any, value: str) -> str:
    try:
        result: str = check(value)
    except IdentifierError as exc:
        raise ServiceError(field, str(exc)) from exc
    return result


def create_institution(
    session: Session,
    act: Act,
    *,
    code: str,
    name: str,
    credit_code: str,
    kind: str,
    region: str,
    ownership: str,
) -> Institution:
    if not code.strip():
        raise ServiceError("code", "请填写机构编码")
    if not name.strip():
        raise ServiceError("name", "请填写机构名称")
    credit_code = _checked("credit_code", check_credit_code, credit_code)
    region = _checked("region", check_region, region)
    if kind not in ("hospital", "pharmacy"):
        raise ServiceError("kind", "机构类型应为定点医疗机构（hospital）或定点零售药店（pharmacy）")
    if ownership not in ("public", "private"):
        raise ServiceError("ownership", "所有制应为公立（public）或非公立（private）")
    if session.exec(select(Institution.id).where(Institution.code == code.strip())).first():
        raise ServiceError("code", f"机构编码 {code} 已存在")
    if session.exec(select(Institution.id).where(Institution.credit_code == credit_code)).first():
        raise ServiceError("credit_code", f"统一社会信用代码 {credit_code} 已登记")
    institution = Institution(
        code=code.strip(),
        name=name.strip(),
        credit_code=credit_code,
        kind=kind,
        region=region,
        ownership=ownership,
        ruleset=ruleset_for_region(region),
        **act.stamp(),
    )
    session.add(institution)
    session.flush()
    audit(session, act, "create", "institution", institution.id, code=institution.code)
    return institution


def create_practitioner(
    session: Session,
    act: Act,
    *,
    national_code: str,
    name: str,
    id_number: str,
    secret: str,
    category: str = "",
    scope: str = "",
    title: str = "",
    phone: str = "",
) -> Practitioner:
    """A practitioner's file. The ID number, birth date and phone are stored only sealed
    (AES-GCM), with a keyed hash of the ID number for exact search (RULES §9)."""
    national_code = _checked("national_code", check_national_code, national_code)
    resident = _checked_id(id_number)
    if not name.strip():
        raise ServiceError("name", "请填写姓名")
    digest = id_digest(resident.number, secret)
    if session.exec(
        select(Practitioner.id).where(Practitioner.national_code == national_code)
    ).first():
        raise ServiceError("national_code", f"医保相关人员代码 {national_code} 已存在")
    if session.exec(select(Practitioner.id).where(Practitioner.id_digest == digest)).first():
        raise ServiceError("id_number", "该身份证号码已有医保相关人员档案（一人一档）")
    region = national_code[len(national_code_prefix(national_code)) :][:6]
    practitioner = Practitioner(
        national_code=national_code,
        name=name.strip(),
        id_digest=digest,
        gender=resident.gender,
        practice_type=PRACTICE_OF_PREFIX[national_code_prefix(national_code)],
        category=category,
        scope=scope,
        title=title,
        region=region,
        ruleset=ruleset_for_region(region),
        **act.stamp(),
    )
    _seal_private(practitioner, resident, _checked_phone(phone), secret)
    session.add(practitioner)
    session.flush()
    audit(session, act, "create", "practitioner", practitioner.id, code=national_code)
    return practitioner


def _checked_phone(phone: str) -> str:
    phone = phone.strip().replace(" ", "").replace("-", "")
    if phone and not re.fullmatch(r"\+?\d{5,20}", phone, re.ASCII):
        raise ServiceError("phone", "联系电话应为 5 至 20 位数字")
    return phone


def _seal_private(person: Practitioner, resident: ResidentId, phone: str, secret: str) -> None:
    code = person.national_code
    person.id_number_sealed = seal(secret, resident.number, f"practitioner.id_number:{code}")
    person.birth_date_sealed = seal(
        secret, resident.birth_date.isoformat(), f"practitioner.birth_date:{code}"
    )
    if phone:
        person.phone_sealed = seal(secret, phone, f"practitioner.phone:{code}")
    person.id_reentry = False


@dataclass(frozen=True)
class PrivateData:
    """What only authorised officers see, opened from the sealed columns (RULES §9)."""

    id_masked: str  # first 3 and last 4 characters, or 待重新录入 (re-entry needed)
    birth_date: date | None
    phone: str
    id_reentry: bool


def private_data(person: Practitioner, secret: str) -> PrivateData:
    """Open a practitioner's private fields; the mask is derived here, never stored."""
    code = person.national_code

    def opened(token: str | None, column: str) -> str:
        return unseal(secret, token, f"practitioner.{column}:{code}") if token else ""

    number = opened(person.id_number_sealed, "id_number")
    born = opened(person.birth_date_sealed, "birth_date")
    return PrivateData(
        id_masked=mask_id(number) if number else "待重新录入",
        birth_date=date.fromisoformat(born) if born else None,
        phone=opened(person.phone_sealed, "phone"),
        id_reentry=person.id_reentry or not number,
    )


def reenter_id_number(
    session: Session,
    act: Act,
    person: Practitioner,
    id_number: str,
    secret: str,
    phone: str = "",
) -> Practitioner:
    """Store the ID number of a person recorded before sealing (migration 0005).

    It must be the number the kept hash was made from; after a secret rotation the hash
    of such a person could not be remade (``unknown:``), and any valid number is taken."""
    resident = _checked_id(id_number)
    digest = id_digest(resident.number, secret)
    if not person.id_digest.startswith("unknown:") and person.id_digest != digest:
        raise ServiceError("id_number", "与该医保代码已登记的身份证件号码不一致")
    other = session.exec(select(Practitioner.id).where(Practitioner.id_digest == digest)).first()
    if other is not None and other != person.id:
        raise ServiceError("id_number", "该身份证号码已有医保相关人员档案（一人一档）")
    person.id_digest = digest
    person.gender = resident.gender
    _seal_private(person, resident, _checked_phone(phone), secret)
    session.add(person)
    audit(session, act, "reenter_id_number", "practitioner", person.id, code=person.national_code)
    return person


def _checked_id(id_number: str) -> ResidentId:
    try:
        return check_resident_id(id_number)
    except IdentifierError as exc:
        raise ServiceError("id_number", str(exc)) from exc


def get_practitioner(session: Session, national_code: str) -> Practitioner:
    code = national_code.strip().upper()
    found = session.exec(select(Practitioner).where(Practitioner.national_code == code)).first()
    if found is None:
        raise NotFound("national_code", f"未找到医保相关人员代码 {code}")
    return found


def find_by_id_number(session: Session, id_number: str, secret: str) -> Practitioner | None:
    """Exact match only: the number itself is never stored."""
    digest = id_digest(_checked_id(id_number).number, secret)
    return session.exec(select(Practitioner).where(Practitioner.id_digest == digest)).first()


def get_institution(session: Session, code: str) -> Institution:
    found = session.exec(select(Institution).where(Institution.code == code.strip())).first()
    if found is None:
        raise NotFound("institution_code", f"未找到机构编码 {code}")
    return found


def agreement_state(session: Session, institution_id: int, on: date) -> str:
    """The institution's agreement on ``on``: normal, suspended or terminated."""
    actions = session.exec(
        select(AgreementAction)
        .where(AgreementAction.institution_id == institution_id)
        .where(AgreementAction.effective_from <= on)
        .order_by(AgreementAction.effective_from, AgreementAction.id)  # type: ignore[arg-type]
    ).all()
    superseded = {a.supersedes_id for a in actions if a.supersedes_id}
    state = "normal"
    for action in actions:
        if action.id in superseded:
            continue
        if action.action == "reinstated":
            state = "normal"
        elif action.action == "suspended":
            state = "suspended" if action.until is None or on <= action.until else "normal"
        elif action.action == "terminated":
            state = "terminated"
    return state


def active_registrations(session: Session, practitioner_id: int) -> list[Registration]:
    return list(
        session.exec(
            select(Registration)
            .where(Registration.practitioner_id == practitioner_id)
            .where(Registration.deregistered_on == None)  # noqa: E711
        ).all()
    )
