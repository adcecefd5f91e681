"""The secret that seals private fields: checked on every start, rotated on demand."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from portal.credit_models import CreditSubject
from portal.crypto import SealError, seal, secret_check, unseal
from portal.db import session_scope
from portal.identifiers import id_digest
from portal.models import PortalMeta, Practitioner, ReceiptKey
from portal.services.registry import Act, audit

CHECK_KEY = "secret_check"
COLUMNS = ("id_number", "birth_date", "phone")


class SecretMismatch(RuntimeError):
    """The configured secret is not the one this database was sealed with."""


def check_secret(engine: Engine, secret: str) -> None:
    """Refuse to run with a secret other than the one that sealed the data.

    A database without a check value (new, or sealed nothing yet) records this secret's."""
    if not inspect(engine).has_table("portal_meta"):
        return
    expected = secret_check(secret)
    with session_scope(engine, write=False) as session:
        row = session.get(PortalMeta, CHECK_KEY)
        if row is None:
            session.add(PortalMeta(key=CHECK_KEY, value=expected))
        elif row.value != expected:
            raise SecretMismatch(
                "PORTAL_SECRET 与本数据库加密时使用的密钥不一致 / PORTAL_SECRET is not the "
                "secret this database was sealed with (use the old one, or `portal secret "
                "rotate` to change it)"
            )


@dataclass
class RotateReport:
    practitioners: int = 0
    resealed: int = 0  # private fields opened with the old secret and sealed with the new
    unknown_digests: int = 0  # ID numbers awaiting re-entry: their hash cannot be remade


def rotate(
    engine: Engine,
    old: str,
    new: str,
    actor: str = "cli",
    progress: Callable[[int], None] | None = None,
) -> RotateReport:
    """Re-seal every private field and remake every ID-number hash under ``new``.

    All in one transaction: an interruption leaves the old secret in force. A person whose
    ID number awaits re-entry keeps no number to hash: the hash becomes ``unknown:<code>``
    and the next import or edit stores the number (portal.services.registry)."""
    if old == new:
        raise ValueError("the new secret is the same as the old one")
    check_secret(engine, old)
    report = RotateReport()
    with session_scope(engine, write=True) as session:
        for person in session.exec(select(Practitioner).order_by(Practitioner.id)):  # type: ignore[arg-type]
            report.practitioners += 1
            _reseal(person, old, new, report)
            session.add(person)
            if progress and report.practitioners % 1000 == 0:
                progress(1000)
        for subject in session.exec(  # credit subjects' ID / exit-entry numbers
            select(CreditSubject).where(col(CreditSubject.document_sealed).is_not(None))
        ):
            context = f"credit_subject.document:{subject.subject_key}"
            try:
                number = unseal(old, subject.document_sealed or "", context)
            except SealError as exc:
                raise SecretMismatch(f"credit subject {subject.subject_key} does not open") from exc
            # The key stays (items and results name it); the search hash follows the secret.
            subject.document_sealed = seal(new, number, context)
            subject.document_digest = id_digest(number, new)
            session.add(subject)
            report.resealed += 1
        for key in session.exec(select(ReceiptKey)):  # the receipt keys' private halves
            context = f"receipt_key:{key.kid}"
            try:
                key.private_sealed = seal(new, unseal(old, key.private_sealed, context), context)
            except SealError as exc:
                raise SecretMismatch(f"receipt key {key.kid} does not open") from exc
            session.add(key)
            report.resealed += 1
        sealed_key = session.get(PortalMeta, FILE_KEY)
        if sealed_key is not None:  # the data key of attachments (their bytes stay as they are)
            try:
                plain = unseal(old, sealed_key.value, FILE_KEY_CONTEXT)
            except SealError as exc:
                raise SecretMismatch("the file key does not open") from exc
            sealed_key.value = seal(new, plain, FILE_KEY_CONTEXT)
            session.add(sealed_key)
            report.resealed += 1
        row = session.get(PortalMeta, CHECK_KEY)
        assert row is not None
        row.value = secret_check(new)
        session.add(row)
        audit(
            session,
            Act(actor, datetime.now(UTC), "更换加密密钥"),
            "rotate_secret",
            "practitioner",
            None,
            practitioners=report.practitioners,
            resealed=report.resealed,
        )
    if progress:
        progress(report.practitioners % 1000)
    return report


def _reseal(person: Practitioner, old: str, new: str, report: RotateReport) -> None:
    code = person.national_code
    number = ""
    for column in COLUMNS:
        token = getattr(person, f"{column}_sealed")
        if not token:
            continue
        context = f"practitioner.{column}:{code}"
        try:
            plain = unseal(old, token, context)
        except SealError as exc:
            raise SecretMismatch(f"practitioner {code}: {column} does not open") from exc
        setattr(person, f"{column}_sealed", seal(new, plain, context))
        report.resealed += 1
        if column == "id_number":
            number = plain
    if number:
        person.id_digest = id_digest(number, new)
    else:
        person.id_digest = f"unknown:{code}"
        report.unknown_digests += 1


FILE_KEY = "file_key"
FILE_KEY_CONTEXT = "portal_meta.file_key"


def file_key(session: Session, secret: str) -> bytes:
    """The data key that seals attachments (portal.crypto.seal_bytes), itself sealed with
    the secret in ``portal_meta``; made (random) on first use."""
    row = session.get(PortalMeta, FILE_KEY)
    if row is None:
        try:
            with session.begin_nested():
                fresh = base64.b64encode(os.urandom(32)).decode("ascii")
                session.add(PortalMeta(key=FILE_KEY, value=seal(secret, fresh, FILE_KEY_CONTEXT)))
        except IntegrityError:  # another request made it first
            pass
        row = session.get(PortalMeta, FILE_KEY)
        assert row is not None
    return base64.b64decode(unseal(secret, row.value, FILE_KEY_CONTEXT))
