"""Private data at rest: a copy of the database without the secret gives nothing away.

The attack this stops (found by the hardening probe): from a copy of the SQLite file, the
stored mask (3 + 4 characters) and the clear birth date left at most 91 checksum-valid ID
numbers per person, and the development key confirmed the right one.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine
from sqlmodel import Session, select

from portal.crypto import SealError, unseal
from portal.db import alembic_config, make_engine, session_scope, upgrade
from portal.identifiers import id_check_char, id_digest, make_resident_id
from portal.models import Practitioner
from portal.services.errors import ServiceError
from portal.services.registry import (
    Act,
    create_practitioner,
    find_by_id_number,
    private_data,
    reenter_id_number,
)
from portal.services.secrets import SecretMismatch, check_secret, rotate
from tests.portal.conftest import SECRET

ACT = Act("officer-wang", datetime(2026, 11, 2, 1, 0, tzinfo=UTC), "登记")
OLD_DEV_KEY = "dev-only-secret-change-me"  # what the portal used to accept silently
PEOPLE = [
    (f"D430102{n:05d}", make_resident_id("430102", date(1970 + n, 1 + n % 12, 1 + n), n, "male"),
     f"1390731{n:04d}")
    for n in range(1, 21)
]  # fmt: skip


def _fill(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        for code, number, phone in PEOPLE:
            create_practitioner(
                session, ACT, national_code=code, name="测试", id_number=number, secret=SECRET,
                phone=phone,
            )  # fmt: skip


def _cells(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return [
            str(value)
            for t in tables
            for row in conn.execute(f'SELECT * FROM "{t}"')
            for value in row
            if value is not None
        ]


def _candidates(region: str, gender: str, born: date | None, masked: str | None) -> int:
    """How many checksum-valid ID numbers fit what the copy shows (the probe's method)."""
    if born is None:
        return 10**6  # a birth date in ~100 years x 500 sequences: far beyond a small set
    count = 0
    for order in range(1000):
        if (order % 2 == 1) != (gender == "male"):
            continue
        first17 = f"{region}{born:%Y%m%d}{order:03d}"
        number = first17 + id_check_char(first17)
        if masked is None or (number[:3] == masked[:3] and number[-4:] == masked[-4:]):
            count += 1
    return count


def test_a_copy_of_the_database_reveals_no_id_number_birth_date_or_phone(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/portal.db")
    upgrade(engine)
    _fill(engine)
    engine.dispose()
    copy = tmp_path / "stolen.db"
    shutil.copy(tmp_path / "portal.db", copy)
    cells = " ".join(_cells(copy))
    raw = copy.read_bytes()
    for _code, number, phone in PEOPLE:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        for secret_text in (number, number[6:14], born.isoformat(), phone):
            assert secret_text not in cells
        assert number.encode() not in raw and phone.encode() not in raw
        assert born.isoformat().encode() not in raw
    with sqlite3.connect(copy) as conn:
        columns = {r[1]: r[2] for r in conn.execute("PRAGMA table_info(practitioner)")}
        rows = conn.execute("SELECT national_code, gender, id_digest FROM practitioner").fetchall()
    assert not {"id_masked", "birth_date", "phone", "id_number"} & set(columns)
    for code, gender, digest in rows:
        # Nothing in the copy narrows the number to a small set ...
        assert _candidates(code[1:7], gender, None, None) > 100_000
        # ... and the old development key no longer confirms a guess.
        number = next(n for c, n, _p in PEOPLE if c == code)
        assert digest != id_digest(number, OLD_DEV_KEY)


def test_sealed_values_open_only_with_the_secret_and_only_in_their_own_row(
    engine: Engine,
) -> None:
    _fill(engine)
    with Session(engine) as session:
        a, b = session.exec(select(Practitioner).order_by(Practitioner.id).limit(2)).all()
    assert private_data(a, SECRET).phone == PEOPLE[0][2]
    assert private_data(a, SECRET).id_masked == PEOPLE[0][1][:3] + "*" * 11 + PEOPLE[0][1][-4:]
    assert a.id_number_sealed is not None and b.id_number_sealed is not None
    with pytest.raises(SealError):
        unseal(OLD_DEV_KEY, a.id_number_sealed, f"practitioner.id_number:{a.national_code}")
    with pytest.raises(SealError):  # copied into another person's row, it does not open
        unseal(SECRET, a.id_number_sealed, f"practitioner.id_number:{b.national_code}")


def test_rotation_reseals_and_rehashes_under_the_new_secret(engine: Engine) -> None:
    _fill(engine)
    new = "another-secret-9876543210"
    report = rotate(engine, SECRET, new)
    assert (report.practitioners, report.resealed, report.unknown_digests) == (20, 60, 0)
    with pytest.raises(SecretMismatch):
        check_secret(engine, SECRET)
    check_secret(engine, new)
    with Session(engine) as session:
        found = find_by_id_number(session, PEOPLE[3][1], new)
        assert found is not None and found.national_code == PEOPLE[3][0]
        assert find_by_id_number(session, PEOPLE[3][1], SECRET) is None
        assert private_data(found, new).phone == PEOPLE[3][2]
        with pytest.raises(SealError):
            private_data(found, SECRET)


def test_a_wrong_secret_is_refused_before_anything_is_read(engine: Engine) -> None:
    _fill(engine)
    check_secret(engine, SECRET)
    with pytest.raises(SecretMismatch, match="PORTAL_SECRET"):
        check_secret(engine, "some-other-secret-123")


def test_the_migration_seals_birth_dates_and_marks_id_numbers_for_reentry(
    tmp_path: Path,
) -> None:
    """Rows written before 0005 held a mask and a clear birth date, never the number."""
    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    command.upgrade(alembic_config(engine), "0004")
    code, number, _phone = PEOPLE[0]
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO practitioner (recorded_by, recorded_at, reason, national_code, name,"
                " id_digest, id_masked, gender, birth_date, practice_type, category, scope, title,"
                " region, ruleset) VALUES ('x', '2025-01-01 00:00:00', '', :code, '张伟', :digest,"
                " :masked, 'male', :born, 'doctor', '', '', '', '430102', 'hunan-2025')"
            ),
            {
                "code": code,
                "digest": id_digest(number, SECRET),
                "masked": number[:3] + "*" * 11 + number[-4:],
                "born": f"{number[6:10]}-{number[10:12]}-{number[12:14]}",
            },
        )
    with pytest.raises(RuntimeError, match="PORTAL_SECRET"):
        upgrade(engine)
    upgrade(engine, SECRET)
    with Session(engine) as session:
        person = session.exec(select(Practitioner)).one()
        private = private_data(person, SECRET)
        assert private.id_reentry and private.id_masked == "待重新录入"
        assert private.birth_date == date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        with pytest.raises(ServiceError, match="不一致"):
            reenter_id_number(session, ACT, person, PEOPLE[1][1], SECRET)
        reenter_id_number(session, ACT, person, number, SECRET)
        session.commit()
        assert private_data(person, SECRET).id_masked == number[:3] + "*" * 11 + number[-4:]
        assert not person.id_reentry
    cells = " ".join(_cells(tmp_path / "old.db"))
    assert number[6:14] not in cells.replace("-", "") and number not in cells
    check_secret(engine, SECRET)
    engine.dispose()
