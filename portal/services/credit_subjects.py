"""Credit subjects outside the registry (Hunan-Credit Art. 3, 13, 15).

Institutions — the six kinds — by Unified Social Credit Code (GB 32100 checked); it is
their key. Individuals — the three kinds — by resident ID number (GB 11643) or, for
foreigners and residents of Hong Kong, Macao and Taiwan, an exit-entry document number
(Art. 15). An individual's number is never stored in the clear: sealed (AES-GCM, context
``credit_subject.document:<key>``) with a keyed hash for exact search, as practitioners' ID
numbers are (RULES §9); their key is ``P`` + the first 15 hex characters of that hash.

Practitioners and institutions already in the registry are subjects without re-entry: they
are refused here, named by their registry code instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from portal.credit_models import INDIVIDUAL_KINDS, INSTITUTION_KINDS, CreditSubject
from portal.crypto import seal, unseal
from portal.identifiers import (
    IdentifierError,
    check_credit_code,
    check_region,
    check_resident_id,
    id_digest,
    mask_id,
)
from portal.models import Institution, Practitioner
from portal.services.credit_archive import KIND_ZH
from portal.services.errors import NotFound, ServiceError, checked_text
from portal.services.registry import Act, audit

DOCUMENT_ZH = {
    "credit_code": "统一社会信用代码",
    "resident_id": "居民身份证号码",
    "exit_entry": "出入境证件号码",
}
# Passports, 港澳居民来往内地通行证, 台湾居民来往大陆通行证, 外国人永久居留身份证: letters
# and digits, 5 to 20 characters (RULES §8 Identification; the texts fix no pattern).
_EXIT_ENTRY = re.compile(r"[A-Z0-9]{5,20}", re.ASCII)


def individual_key(number: str, secret: str) -> str:
    """An individual's subject key: ``P`` + 15 hex characters of the keyed hash."""
    return "P" + id_digest(number, secret)[:15].upper()


def _document(document_type: str, number: str) -> str:
    number = number.strip().upper().replace(" ", "")
    if document_type == "resident_id":
        try:
            return check_resident_id(number).number
        except IdentifierError as exc:
            raise ServiceError("number", str(exc)) from exc
    if document_type == "exit_entry":
        if not _EXIT_ENTRY.fullmatch(number):
            raise ServiceError("number", "出入境证件号码应为 5 至 20 位字母或数字")
        return number
    raise ServiceError("document_type", "个人的证件类型应为居民身份证或出入境证件")


def create_subject(
    session: Session,
    act: Act,
    *,
    kind: str,
    name: str,
    region: str,
    number: str,
    secret: str,
    document_type: str = "",
    legal_representative: str = "",
) -> CreditSubject:
    """A subject of Art. 3 outside the registry. Institutions: ``number`` is the Unified
    Social Credit Code (Art. 13, 15); individuals: an ID or exit-entry document number."""
    if kind not in INSTITUTION_KINDS + INDIVIDUAL_KINDS:
        raise ServiceError("kind", "请选择信用主体类型（第三条所列机构或个人）")
    name = name.strip()
    if not name:
        raise ServiceError("name", "请填写主体名称或姓名")
    if len(name) > 200:
        raise ServiceError("name", "名称不超过 200 字")
    checked_text("name", name, 200)
    try:
        region = check_region(region)
    except IdentifierError as exc:
        raise ServiceError("region", str(exc)) from exc
    if len(legal_representative.strip()) > 64:
        raise ServiceError("legal_representative", "法定代表人姓名不超过 64 字")
    checked_text("legal_representative", legal_representative, 64)
    if kind in INSTITUTION_KINDS:
        try:
            code = check_credit_code(number)
        except IdentifierError as exc:
            raise ServiceError("number", str(exc)) from exc
        registered = session.exec(
            select(Institution.code).where(Institution.credit_code == code)
        ).first()
        if registered is not None:
            raise ServiceError(
                "number", f"该机构已是定点医药机构（机构编码 {registered}），无需重复录入"
            )
        subject = CreditSubject(
            subject_kind=kind, subject_key=code, name=name, region=region,
            document_type="credit_code", legal_representative=legal_representative.strip(),
            **act.stamp(),
        )  # fmt: skip
    else:
        document_type = document_type or "resident_id"
        document = _document(document_type, number)
        digest = id_digest(document, secret)
        if document_type == "resident_id":
            person = session.exec(
                select(Practitioner.national_code).where(Practitioner.id_digest == digest)
            ).first()
            if person is not None:
                raise ServiceError(
                    "number", f"此人已有医保相关人员档案（医保代码 {person}），无需重复录入"
                )
        key = individual_key(document, secret)
        subject = CreditSubject(
            subject_kind=kind, subject_key=key, name=name, region=region,
            document_type=document_type, document_digest=digest,
            document_sealed=seal(secret, document, f"credit_subject.document:{key}"),
            **act.stamp(),
        )  # fmt: skip
    taken = session.exec(
        select(CreditSubject.id)
        .where(CreditSubject.subject_kind == subject.subject_kind)
        .where(CreditSubject.subject_key == subject.subject_key)
    ).first()
    if taken is not None:
        raise ServiceError("number", f"该{KIND_ZH[kind]}已有信用档案，无需重复录入")
    session.add(subject)
    session.flush()
    audit(session, act, "credit_subject_create", "credit_subject", subject.id,
          kind=kind, key=subject.subject_key)  # fmt: skip
    return subject


def masked_document(subject: CreditSubject, secret: str) -> str:
    """An individual's number masked (first 3, last 4), an institution's code in full."""
    if subject.document_type == "credit_code":
        return subject.subject_key
    if not subject.document_sealed:
        return ""
    number = unseal(
        secret, subject.document_sealed, f"credit_subject.document:{subject.subject_key}"
    )
    return mask_id(number)


def find_by_number(session: Session, number: str, secret: str) -> list[CreditSubject]:
    """Exact search by a credit code, ID number or exit-entry document number."""
    text = number.strip().upper().replace(" ", "")
    if not text or not text.isascii():
        return []
    digest = id_digest(text, secret)
    return list(
        session.exec(
            select(CreditSubject).where(
                or_(
                    col(CreditSubject.subject_key) == text,
                    col(CreditSubject.document_digest) == digest,
                )
            )
        )
    )


def get_subject(session: Session, kind: str, key: str) -> CreditSubject:
    found = session.exec(
        select(CreditSubject)
        .where(CreditSubject.subject_kind == kind)
        .where(CreditSubject.subject_key == key.strip())
    ).first()
    if found is None:
        raise NotFound("subject_key", f"未找到信用主体 {key[:32]}")
    return found


def list_subjects(
    session: Session,
    *,
    q: str = "",
    sees_region: Callable[[str], bool] | None = None,
    secret: str = "",
    limit: int = 100,
) -> list[CreditSubject]:
    """Non-registry subjects by name (contains), key or credit code (exact), or an
    individual's number (exact, through its keyed hash); within ``sees_region``."""
    query = select(CreditSubject).order_by(col(CreditSubject.name), col(CreditSubject.id))
    text = q.strip()
    if text:
        conditions: list[Any] = [
            col(CreditSubject.name).contains(text, autoescape=True),
            col(CreditSubject.subject_key) == text.upper(),
        ]
        if secret and text.isascii():
            conditions.append(col(CreditSubject.document_digest) == id_digest(text, secret))
        query = query.where(or_(*conditions))
    rows = [
        s
        for s in session.exec(query.limit(limit * 5))
        if sees_region is None or sees_region(s.region)
    ]
    return rows[:limit]
