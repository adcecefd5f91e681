"""Signed check receipts (spec/DESIGN.md "Receipts"): sign, verify offline with the published
key and an independent JOSE library, tamper and fail; the printable page with its QR code;
a later correction shown beside the receipt; key rotation keeps old receipts verifiable;
bad input named; the receipt limit; nothing private in a receipt."""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlmodel import Session

from portal.app import create_app
from portal.db import make_engine, upgrade
from portal.services.ledger import Finding, record_case
from portal.settings import Settings
from tests.portal.conftest import OFFICER, SECRET, make_cast
from tests.portal.test_cli import run
from tests.public_site.conftest import UNLIMITED

BASE = "https://mi.example.cn"


def verify(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """Verify as a platform would, offline, with joserfc and the published JWKS only."""
    with warnings.catch_warnings():  # joserfc flags "EdDSA" in favour of RFC 9864's "Ed25519"
        warnings.simplefilter("ignore")
        found = jws.deserialize_compact(token, KeySet.import_key_set(jwks), algorithms=["EdDSA"])
    assert found.protected["alg"] == "EdDSA" and found.protected["kid"]
    return dict(json.loads(found.payload))


@pytest.fixture
async def site(demo_url: str) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(
        Settings(database_url=demo_url, secret=SECRET, base_url=BASE), limits=UNLIMITED
    )
    async with AsyncTestClient(app=app) as c:
        yield c


async def test_a_receipt_verifies_offline_and_fails_when_tampered(
    site: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    code = codes["suspended"]
    made = await site.post(
        "/api/v1/receipts",
        json={"code": code.lower(), "on": date.today().isoformat(), "purpose": "挂号核验"},
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert set(body) == {"id", "jws", "url"}
    assert body["url"] == f"{BASE}/receipts/{body['id']}" == made.headers["location"]
    keys = (await site.get("/.well-known/jwks.json")).json()
    payload = verify(body["jws"], keys)
    status = (await site.get(f"/api/v1/practitioners/{code}/status")).json()
    assert payload["id"] == body["id"] and payload["code"] == code
    assert (payload["name"], payload["status"], payload["payable"]) == (
        status["name"], status["status"], status["payable"],
    )  # fmt: skip
    assert payload["status"] == "suspended" and payload["payable"] is False
    assert payload["reason"] == "suspended" and payload["iss"] == BASE
    assert payload["checked_at"].endswith("+08:00") and payload["purpose"] == "挂号核验"
    version = payload["data_version"]
    assert isinstance(version["entry"], int) and len(version["hash"]) == 64
    # Tampering with the payload (say, "payable": true) breaks the signature.
    head, claims, signature = body["jws"].split(".")
    forged = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    forged["payable"] = True
    forged_claims = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    with pytest.raises(BadSignatureError):
        verify(f"{head}.{forged_claims}.{signature}", keys)
    # Nothing private: the stored person's ID number, phone and birth date are not in it.
    assert not any(ch in json.dumps(payload) for ch in ("id_number", "phone", "birth"))


async def test_the_page_prints_the_receipt_with_a_qr_code_linking_to_itself(
    site: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    made = (await site.post("/api/v1/receipts", json={"code": codes["normal"]})).json()
    page = await site.get(f"/receipts/{made['id']}")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "医保支付资格查询凭证" in page.text and codes["normal"] in page.text
    assert "<svg" in page.text and made["url"] in page.text and made["jws"] in page.text
    assert "已因更正或后续决定而变化" not in page.text
    for missing in ("/receipts/AAAAAAAAAAAAAAAAAAAAAA", "/receipts/x", "/receipts/%3Cscript%3E"):
        gone = await site.get(missing)
        assert gone.status_code == 404 and "未找到该查询凭证" in gone.text, missing


async def test_bad_input_is_named_and_changes_nothing(
    site: AsyncTestClient[Any], codes: dict[str, str], demo_url: str
) -> None:
    engine = make_engine(demo_url)
    with engine.connect() as conn:
        before = conn.execute(text("SELECT COUNT(*) FROM receipt")).scalar_one()
    cases: list[tuple[Any, int, str | None]] = [
        ({"code": "D4301"}, 400, "code"),
        ({"code": 12}, 400, "code"),
        ({"code": "D43019999999"}, 404, "code"),
        ({"code": codes["normal"], "on": "2025-13-01"}, 400, "on"),
        ({"code": codes["normal"], "on": 20250101}, 400, "on"),
        ({"code": codes["normal"], "purpose": "x" * 201}, 400, "purpose"),
        ({"code": codes["normal"], "purpose": "a\x00b"}, 400, "purpose"),
        ({"code": codes["normal"], "extra": 1}, 400, "extra"),
        ([codes["normal"]], 400, "body"),
    ]
    for body, status, field in cases:
        answer = await site.post("/api/v1/receipts", json=body)
        assert answer.status_code == status, (body, answer.text)
        assert answer.json()["field"] == field, body
    wrong_type = await site.post(
        "/api/v1/receipts", content=b"code=1", headers={"content-type": "text/plain"}
    )
    assert wrong_type.status_code == 415
    too_big = await site.post("/api/v1/receipts", json={"code": "D" * 5000})
    assert too_big.status_code == 413
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM receipt")).scalar_one() == before
    engine.dispose()


async def test_issuing_has_its_own_limit(demo_url: str, codes: dict[str, str]) -> None:
    limits = {**UNLIMITED, "receipts": (2, 60.0)}
    app = create_app(Settings(database_url=demo_url, secret=SECRET), limits=limits)
    async with AsyncTestClient(app=app) as site:
        answers = [
            (await site.post("/api/v1/receipts", json={"code": codes["normal"]})).status_code
            for _ in range(3)
        ]
        assert answers == [201, 201, 429]
        refused = await site.post("/api/v1/receipts", json={"code": codes["normal"]})
        assert refused.status_code == 429 and "retry-after" in refused.headers
        assert (await site.get("/.well-known/jwks.json")).status_code == 200


async def test_a_later_correction_shows_on_the_receipt_page_and_rotation_keeps_it_valid(
    tmp_path: Path,
) -> None:
    db = tmp_path / "portal.db"
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        cast = make_cast(session)
        session.commit()
    app = create_app(Settings(database_url=url, secret=SECRET), limits=UNLIMITED)
    async with AsyncTestClient(app=app) as site:
        on = "2025-06-01"
        made = (await site.post("/api/v1/receipts", json={"code": cast.nurse, "on": on})).json()
        first_keys = (await site.get("/.well-known/jwks.json")).json()
        assert verify(made["jws"], first_keys)["status"] == "normal"
        with Session(engine, expire_on_commit=False) as session:
            record_case(
                session,
                OFFICER,
                institution_code=cast.hospital_a,
                decision_type="administrative_penalty",
                legal_basis="《条例》第三十八条",
                document_no="湘医保罚〔2025〕61号",
                decision_date=date(2025, 4, 8),
                amount=None,
                findings=[Finding(cast.nurse, points=12)],
                as_of=date(2025, 4, 8),
            )
            session.commit()
        page = await site.get(f"/receipts/{made['id']}")
        assert "已因更正或后续决定而变化" in page.text
        assert f'href="/practitioners/{cast.nurse}?on={on}"' in page.text
        rotated = run(db, "keys", "rotate")
        assert rotated.returncode == 0, rotated.stderr
        keys = (await site.get("/.well-known/jwks.json")).json()["keys"]
        assert len(keys) == 2 and keys[0]["valid_to"] is None
        assert keys[1]["kid"] == first_keys["keys"][0]["kid"] and keys[1]["valid_to"]
        assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and k["x"] for k in keys)
        assert verify(made["jws"], {"keys": keys})["id"] == made["id"]  # old receipt still OK
        later = (await site.post("/api/v1/receipts", json={"code": cast.nurse, "on": on})).json()
        header = json.loads(base64.urlsafe_b64decode(later["jws"].split(".")[0] + "=="))
        assert header == {"alg": "EdDSA", "kid": keys[0]["kid"]}
        assert verify(later["jws"], {"keys": keys})["status"] == "terminated"  # 12 points
    with engine.begin() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(text("UPDATE receipt SET jws = 'x'"))
    with engine.connect() as conn:  # the private half is sealed: not readable from a copy
        sealed = conn.execute(text("SELECT private_sealed FROM receipt_key")).scalars().all()
    assert all(not s.startswith(("MC4", "-----")) for s in sealed)
    engine.dispose()


async def test_a_new_secret_reseals_the_receipt_key(tmp_path: Path) -> None:
    from portal.services.secrets import rotate

    url = f"sqlite:///{tmp_path / 'portal.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        cast = make_cast(session)
        session.commit()
    app = create_app(Settings(database_url=url, secret=SECRET), limits=UNLIMITED)
    async with AsyncTestClient(app=app) as site:
        old = (await site.post("/api/v1/receipts", json={"code": cast.nurse})).json()
        keys = (await site.get("/.well-known/jwks.json")).json()
    new_secret = "a-brand-new-secret-for-this-test"
    report = rotate(engine, SECRET, new_secret)
    assert report.resealed >= 1
    app = create_app(Settings(database_url=url, secret=new_secret), limits=UNLIMITED)
    async with AsyncTestClient(app=app) as site:
        made = await site.post("/api/v1/receipts", json={"code": cast.nurse})
        assert made.status_code == 201  # the same key, opened with the new secret
        assert (await site.get("/.well-known/jwks.json")).json() == keys
        assert verify(made.json()["jws"], keys)["code"] == cast.nurse
        assert verify(old["jws"], keys)["id"] == old["id"]
    engine.dispose()
