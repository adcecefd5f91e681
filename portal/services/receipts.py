"""Signed check receipts (spec/DESIGN.md "Receipts"): a platform or claim auditor that
checks a practitioner gets a compact JWS (RFC 7515) signed with EdDSA over Ed25519
(RFC 8037), header ``{"alg": "EdDSA", "kid": …}``, whose payload says what the portal
answered: ``id, code, name, status, payable, on, checked_at, data_version, iss``
(``reason`` too when not payable). Anyone verifies it offline with the key published at
``/.well-known/jwks.json``.

Keys: the private half sealed under PORTAL_SECRET (``portal.crypto``); ``portal keys
rotate`` retires the current key (``valid_to``) and makes a new one; retired keys stay
published with their validity. A receipt is stored as issued and never changes (the table
is append-only); its page compares it with the answer today and says when a later
correction changed it.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Connection, insert, inspect, select, update

from portal.clock import CHINA
from portal.crypto import seal, unseal
from portal.models import Receipt, ReceiptKey, table
from portal.services import ledger_chain, public

KEYS, RECEIPTS = table(ReceiptKey), table(Receipt)
PURPOSE_LONGEST = 200


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _context(kid: str) -> str:
    return f"receipt_key:{kid}"


def make_key(conn: Connection, secret: str, actor: str, now: datetime | None = None) -> str:
    """Retire the current key (if any) and make a new one; its ``kid``."""
    now = now or datetime.now(UTC)
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes_raw()
    public_x = _b64(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    kid = f"{now.astimezone(CHINA):%Y%m%d}-{secrets.token_hex(4)}"
    conn.execute(update(KEYS).where(KEYS.c.valid_to.is_(None)).values(valid_to=now))
    conn.execute(
        insert(KEYS).values(
            kid=kid,
            public_x=public_x,
            private_sealed=seal(secret, _b64(raw), _context(kid)),
            valid_from=now,
            valid_to=None,
            created_by=actor,
        )
    )
    return kid


def ensure_key(conn: Connection, secret: str) -> None:
    """A first key when there is none (``portal serve`` at start): random, never a default.
    A database not yet migrated (no key table) is left alone."""
    if not inspect(conn).has_table("receipt_key"):
        return
    if conn.execute(select(KEYS.c.id).limit(1)).first() is None:
        make_key(conn, secret, "portal")


def jwks(conn: Connection) -> dict[str, Any]:
    """Every key, current and retired, as a JWKS (RFC 7517) with its validity."""
    keys = []
    for row in conn.execute(select(KEYS).order_by(KEYS.c.id.desc())):
        keys.append(
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": row.public_x,
                "kid": row.kid,
                "use": "sig",
                "alg": "EdDSA",
                "valid_from": _day(row.valid_from),
                "valid_to": _day(row.valid_to) if row.valid_to is not None else None,
            }
        )
    return {"keys": keys}


def _day(at: datetime) -> str:
    moment = at if at.utcoffset() is not None else at.replace(tzinfo=UTC)
    return moment.astimezone(CHINA).date().isoformat()


def sign(header: dict[str, Any], payload: dict[str, Any], private: Ed25519PrivateKey) -> str:
    """A compact JWS: base64url(header) . base64url(payload) . base64url(signature)."""
    head = _b64(json.dumps(header, separators=(",", ":")).encode("utf-8"))
    body = _b64(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    signature = private.sign(f"{head}.{body}".encode("ascii"))
    return f"{head}.{body}.{_b64(signature)}"


def payload_of(jws: str) -> dict[str, Any]:
    """The payload of a stored receipt (it was signed here; not a verification)."""
    return dict(json.loads(_unb64(jws.split(".")[1])))


class NoKey(RuntimeError):
    """No signing key: run ``portal keys rotate`` (``portal serve`` makes the first)."""


@dataclass(frozen=True)
class Issued:
    id: str
    jws: str
    payload: dict[str, Any]


def issue(
    conn: Connection, secret: str, *, code: str, on: date, purpose: str, iss: str,
    now: datetime | None = None,
) -> Issued | None:  # fmt: skip
    """Sign what the status API answers for ``code`` on ``on``, store it, return it; None
    for an unknown code. The caller's connection commits."""
    answer = public.fast_status(conn, code, on)
    if answer is None:
        return None
    key = conn.execute(
        select(KEYS.c.kid, KEYS.c.private_sealed).where(KEYS.c.valid_to.is_(None))
    ).first()
    if key is None:
        raise NoKey("no receipt key: run `portal keys rotate`")
    private = Ed25519PrivateKey.from_private_bytes(
        _unb64(unseal(secret, key.private_sealed, _context(key.kid)))
    )
    now = now or datetime.now(UTC)
    version = ledger_chain.data_version(conn)
    receipt_id = secrets.token_urlsafe(16)
    payload: dict[str, Any] = {
        "id": receipt_id,
        "code": answer["code"],
        "name": answer["name"],
        "status": answer["status"],
        "payable": answer["payable"],
        "on": on.isoformat(),
        "checked_at": now.astimezone(CHINA).isoformat(timespec="seconds"),
        "data_version": {"entry": version.entry, "hash": version.hash},
        "iss": iss,
        **public.freshness(public.data_as_of(conn), now.astimezone(CHINA).date()),
    }
    if not answer["payable"] and answer.get("reason"):
        payload["reason"] = answer["reason"]
    if purpose:
        payload["purpose"] = purpose
    jws = sign({"alg": "EdDSA", "kid": key.kid}, payload, private)
    conn.execute(
        insert(RECEIPTS).values(
            id=receipt_id,
            code=answer["code"],
            on=on,
            purpose=purpose,
            kid=key.kid,
            jws=jws,
            issued_at=now,
        )
    )
    return Issued(receipt_id, jws, payload)


@dataclass(frozen=True)
class Shown:
    """A receipt as its page shows it: what it said, and what the portal answers now."""

    id: str
    jws: str
    payload: dict[str, Any]
    now: dict[str, Any] | None
    changed: bool


def show(conn: Connection, receipt_id: str) -> Shown | None:
    row = conn.execute(select(RECEIPTS).where(RECEIPTS.c.id == receipt_id)).first()
    if row is None:
        return None
    payload = payload_of(row.jws)
    now = public.fast_status(conn, row.code, row.on)
    changed = now is None or (now["status"], now["payable"]) != (
        payload["status"],
        payload["payable"],
    )
    return Shown(row.id, row.jws, payload, now, changed)
