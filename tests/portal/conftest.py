"""A real database per test: a SQLite file, or a fresh schema on the PostgreSQL server
named by TEST_DATABASE_URL (`make test` sets it when 127.0.0.1:5432 answers).

The cast (STYLE.md): an agency officer, an institution's administrator, a doctor at two
hospitals, and a pharmacy principal heading three pharmacies.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from portal.db import make_engine, upgrade
from portal.identifiers import make_credit_code, make_resident_id
from portal.services.registrations import register
from portal.services.registry import Act, create_institution, create_practitioner

SECRET = "test-secret-0123456789"
OFFICER = Act("officer-wang", datetime(2025, 6, 1, 1, 0, tzinfo=UTC), "依法处理")
HOSPITAL_ADMIN = Act("admin-li", datetime(2025, 6, 1, 1, 0, tzinfo=UTC), "机构维护")


def database_urls() -> list[str]:
    urls = ["sqlite"]
    if os.environ.get("TEST_DATABASE_URL"):
        urls.append("postgresql")
    return urls


@pytest.fixture(params=database_urls())
def engine(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path}/portal.db")  # type: ignore[str-bytes-safe]
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    url = os.environ["TEST_DATABASE_URL"]
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    eng = make_engine(url, schema=schema)
    try:
        upgrade(eng)
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s
        s.rollback()


@dataclass
class Cast:
    hospital_a: str = "H43010200001"
    hospital_b: str = "H43010500002"
    pharmacies: tuple[str, ...] = ("P43010300001", "P43010300002", "P43010300003")
    doctor: str = "D43010200001"  # at both hospitals
    nurse: str = "N43010200002"
    principal: str = "HY430103000001"  # heads the three pharmacies
    doctor_id: str = make_resident_id("430102", date(1980, 5, 17), 12, "male")


@pytest.fixture
def cast(session: Session) -> Cast:
    return make_cast(session)


def make_cast(session: Session) -> Cast:
    """Two hospitals, three pharmacies, a doctor at both hospitals, a nurse, a principal."""
    c = Cast()
    create_institution(
        session,
        HOSPITAL_ADMIN,
        code=c.hospital_a,
        name="长沙市第一医院",
        credit_code=make_credit_code("430102", "MB1A00001"),
        kind="hospital",
        region="430102",
        ownership="public",
    )
    create_institution(
        session,
        HOSPITAL_ADMIN,
        code=c.hospital_b,
        name="长沙市雨花区人民医院",
        credit_code=make_credit_code("430111", "MB1A00002"),
        kind="hospital",
        region="430111",
        ownership="public",
    )
    for n, code in enumerate(c.pharmacies, start=1):
        create_institution(
            session,
            HOSPITAL_ADMIN,
            code=code,
            name=f"老百姓大药房第{n}分店",
            credit_code=make_credit_code("430103", f"MA4L0000{n}", "91"),
            kind="pharmacy",
            region="430103",
            ownership="private",
        )
    create_practitioner(
        session,
        HOSPITAL_ADMIN,
        national_code=c.doctor,
        name="张伟",
        id_number=c.doctor_id,
        secret=SECRET,
        title="主治医师",
    )
    create_practitioner(
        session,
        HOSPITAL_ADMIN,
        national_code=c.nurse,
        name="李娜",
        id_number=make_resident_id("430102", date(1990, 2, 3), 7, "female"),
        secret=SECRET,
    )
    create_practitioner(
        session,
        HOSPITAL_ADMIN,
        national_code=c.principal,
        name="王芳",
        id_number=make_resident_id("430103", date(1975, 11, 30), 3, "female"),
        secret=SECRET,
    )
    signed = date(2025, 3, 1)
    for hospital in (c.hospital_a, c.hospital_b):
        register(
            session,
            HOSPITAL_ADMIN,
            national_code=c.doctor,
            institution_code=hospital,
            registered_on=signed,
            commitment_signed_on=signed,
            multi_site=True,
        )
    register(
        session,
        HOSPITAL_ADMIN,
        national_code=c.nurse,
        institution_code=c.hospital_a,
        registered_on=signed,
        commitment_signed_on=signed,
    )
    for pharmacy in c.pharmacies:
        register(
            session,
            HOSPITAL_ADMIN,
            national_code=c.principal,
            institution_code=pharmacy,
            registered_on=signed,
            commitment_signed_on=signed,
            principal=True,
        )
    session.commit()
    return c
