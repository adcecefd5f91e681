"""Private fields at rest: AES-GCM under a key derived from ``PORTAL_SECRET``.

ID numbers, birth dates and phone numbers are stored only sealed (RULES §9; Hunan-Credit
Art. 5, 36): a copy of the database without the secret reveals none of them and does not
narrow an ID number to a small set (no mask, no clear birth date is kept). Exact search
on an ID number uses a keyed hash (a "blind index", :func:`portal.identifiers.id_digest`).

A sealed value is ``v1.<base64url(nonce ‖ ciphertext ‖ tag)>``; the associated data names
the table, column and row key (the national code), so a sealed value copied to another
row or column does not open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1"
_INFO = b"medins-portal/private-fields/v1"
_CHECK_INFO = b"medins-portal/secret-check/v1"


class SealError(ValueError):
    """A sealed value does not open with this secret (wrong secret, or tampered)."""


@lru_cache(maxsize=8)
def _cipher(secret: str) -> AESGCM:
    key = HKDF(hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode("utf-8"))
    return AESGCM(key)


def seal(secret: str, value: str, context: str) -> str:
    """Encrypt ``value``; ``context`` (e.g. ``practitioner.id_number:D43…``) is bound to it."""
    nonce = os.urandom(12)
    sealed = _cipher(secret).encrypt(nonce, value.encode("utf-8"), context.encode("utf-8"))
    return f"{VERSION}." + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def unseal(secret: str, token: str, context: str) -> str:
    version, _, body = token.partition(".")
    if version != VERSION:
        raise SealError(f"unknown sealed-value version {version!r}")
    try:
        raw = base64.urlsafe_b64decode(body.encode("ascii"))
        plain = _cipher(secret).decrypt(raw[:12], raw[12:], context.encode("utf-8"))
    except (InvalidTag, ValueError) as exc:
        raise SealError("the value does not open with this secret") from exc
    return plain.decode("utf-8")


def secret_check(secret: str) -> str:
    """A value stored beside the data that proves which secret sealed it (not the secret)."""
    key = HKDF(hashes.SHA256(), length=32, salt=None, info=_CHECK_INFO).derive(
        secret.encode("utf-8")
    )
    return hmac.new(key, b"portal-secret-check", hashlib.sha256).hexdigest()


def csrf_secret(secret: str) -> str:
    """The admin's CSRF key: derived from PORTAL_SECRET, never the secret itself."""
    key = HKDF(hashes.SHA256(), length=32, salt=None, info=b"medins-portal/csrf/v1")
    return key.derive(secret.encode("utf-8")).hex()


def seal_bytes(key: bytes, content: bytes, context: str) -> bytes:
    """Encrypt bytes under a data key (not the secret): nonce ‖ ciphertext ‖ tag. Large,
    append-only data (attachments) is sealed this way, under a key that is itself sealed
    with the secret (``portal.services.secrets.file_key``), so a new secret re-seals one
    key, not every file."""
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, content, context.encode("utf-8"))


def unseal_bytes(key: bytes, sealed: bytes, context: str) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:12], sealed[12:], context.encode("utf-8"))
    except (InvalidTag, ValueError) as exc:
        raise SealError("the file does not open with this key") from exc
