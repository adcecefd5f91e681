"""The append-only tables (spec/DESIGN.md "Append-only tables") refuse every rewrite, on
SQLite and PostgreSQL alike: UPDATE, DELETE, REPLACE / INSERT OR REPLACE, UPSERT and
TRUNCATE (migrations 0003 and 0006). A new row still goes in."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from portal.db import alembic_config, make_engine
from portal.services.ledger import Finding, record_case
from tests.portal.conftest import OFFICER, Cast, database_urls

TABLES = ("ledger_entry", "decision", "audit_log", "credit_item")  # the case feeds the archive
TEXT_COLUMN = {
    "ledger_entry": "payload",
    "decision": "legal_basis",
    "audit_log": "reason",
    "credit_item": "detail",
}


@pytest.fixture
def recorded(session: Session, cast: Cast) -> dict[str, int]:
    """A case with its decision, ledger entry and audit rows; the id of one row per table."""
    record_case(
        session,
        OFFICER,
        institution_code=cast.hospital_a,
        decision_type="administrative_penalty",
        legal_basis="《条例》第三十八条",
        document_no="湘医保罚〔2025〕60号",
        decision_date=date(2025, 4, 8),
        amount=None,
        findings=[Finding(cast.nurse, points=3)],
        as_of=date(2025, 4, 8),
    )
    session.commit()
    ids = {t: int(session.execute(text(f"SELECT MAX(id) FROM {t}")).scalar_one()) for t in TABLES}
    session.commit()
    return ids


def _snapshot(engine: Engine, name: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {name} ORDER BY id"))]


def _row(engine: Engine, name: str, row_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        return dict(
            conn.execute(text(f"SELECT * FROM {name} WHERE id = :id"), {"id": row_id})
            .one()
            ._mapping
        )


def _insert(verb: str, name: str, row: dict[str, Any], tail: str = "") -> str:
    columns = ", ".join(row)
    values = ", ".join(f":{c}" for c in row)
    return f"{verb} INTO {name} ({columns}) VALUES ({values}) {tail}"


def _refused(
    engine: Engine, statement: str, params: dict[str, Any] | None = None, label: str = ""
) -> None:
    """The database refuses the statement, by an append-only trigger (not another error)."""
    try:
        with engine.begin() as conn:
            conn.execute(text(statement), params or {})
    except DBAPIError as exc:
        assert "append-only" in str(exc.orig), (label, str(exc.orig))
        return
    pytest.fail(f"not refused ({label}): {statement}")


def _rewrites(engine: Engine, name: str, row_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, statement, parameters) of every way to rewrite the row on this database."""
    row = _row(engine, name, row_id)
    changed = {**row, TEXT_COLUMN[name]: "rewritten"}
    column = TEXT_COLUMN[name]
    ways: list[tuple[str, str, dict[str, Any]]] = [
        ("update", f"UPDATE {name} SET {column} = 'rewritten' WHERE id = :id", {"id": row_id}),
        ("update all", f"UPDATE {name} SET {column} = 'rewritten'", {}),
        ("delete", f"DELETE FROM {name} WHERE id = :id", {"id": row_id}),
        ("delete all", f"DELETE FROM {name}", {}),
        (
            "upsert",
            _insert("INSERT", name, changed, f"ON CONFLICT (id) DO UPDATE SET {column} = 'x'"),
            changed,
        ),
        (
            "upsert on the whole row",
            _insert(
                "INSERT",
                name,
                changed,
                f"ON CONFLICT (id) DO UPDATE SET {column} = excluded.{column}",
            ),
            changed,
        ),
    ]
    if name == "decision":  # the other unique key
        ways.append(
            (
                "upsert on document_no",
                _insert(
                    "INSERT",
                    name,
                    {**changed, "id": row_id + 1000},
                    "ON CONFLICT (document_no) DO UPDATE SET legal_basis = excluded.legal_basis",
                ),
                {**changed, "id": row_id + 1000},
            )
        )
    if engine.dialect.name == "sqlite":
        ways += [
            ("insert or replace", _insert("INSERT OR REPLACE", name, changed), changed),
            ("replace into", _insert("REPLACE", name, changed), changed),
        ]
        if name == "decision":  # REPLACE on the unique document number, under a new id
            moved = {**changed, "id": row_id + 1000}
            ways.append(("replace by document_no", _insert("REPLACE", name, moved), moved))
    else:
        cascade = " CASCADE" if name != "audit_log" else ""
        ways.append(("truncate", f"TRUNCATE {name}{cascade}", {}))
    return ways


@pytest.mark.parametrize("name", TABLES)
def test_every_rewrite_is_refused_and_the_row_is_unchanged(
    engine: Engine, recorded: dict[str, int], name: str
) -> None:
    before = _snapshot(engine, name)
    assert before
    ways = _rewrites(engine, name, recorded[name])
    expected = {"update", "delete", "upsert"} | (
        {"insert or replace", "replace into"} if engine.dialect.name == "sqlite" else {"truncate"}
    )
    assert expected <= {label for label, _, _ in ways}
    for label, statement, params in ways:
        _refused(engine, statement, params, f"{name}: {label}")
        assert _snapshot(engine, name) == before, (name, label)


def test_replace_and_upsert_leave_a_ledger_entry_as_it_was(
    engine: Engine, recorded: dict[str, int]
) -> None:
    """The issue's case: INSERT OR REPLACE rewrote a ledger entry past the 0003 triggers."""
    row = _row(engine, "ledger_entry", recorded["ledger_entry"])
    rewritten = {**row, "payload": '{"points": 12}'}
    verbs = ["INSERT OR REPLACE", "REPLACE"] if engine.dialect.name == "sqlite" else []
    for verb in verbs:
        _refused(engine, _insert(verb, "ledger_entry", rewritten), rewritten)
    upsert = "ON CONFLICT (id) DO UPDATE SET payload = excluded.payload"
    _refused(engine, _insert("INSERT", "ledger_entry", rewritten, upsert), rewritten)
    assert _row(engine, "ledger_entry", recorded["ledger_entry"]) == row


@pytest.mark.parametrize("name", TABLES)
def test_a_new_row_still_goes_in(engine: Engine, recorded: dict[str, int], name: str) -> None:
    row = _row(engine, name, recorded[name])
    fresh = {**row, "id": recorded[name] + 1}
    if name == "decision":
        fresh["document_no"] = "湘医保罚〔2025〕61号"
    if name == "credit_item":
        fresh["origin"] = None  # unique when set
    with engine.begin() as conn:
        conn.execute(text(_insert("INSERT", name, fresh)), fresh)
    assert _row(engine, name, recorded[name] + 1)[TEXT_COLUMN[name]] == row[TEXT_COLUMN[name]]
    assert _row(engine, name, recorded[name]) == row


def test_the_service_still_records_cases(
    session: Session, cast: Cast, recorded: dict[str, int]
) -> None:
    result = record_case(
        session,
        OFFICER,
        institution_code=cast.hospital_b,
        decision_type="administrative_penalty",
        legal_basis="《条例》第三十八条",
        document_no="湘医保罚〔2025〕62号",
        decision_date=date(2025, 4, 9),
        amount=None,
        findings=[Finding(cast.doctor, points=2)],
        as_of=date(2025, 4, 9),
    )
    session.commit()
    assert result.points[cast.doctor] == 2


def test_a_plain_insert_with_a_taken_key_is_still_refused(
    engine: Engine, recorded: dict[str, int]
) -> None:
    row = _row(engine, "decision", recorded["decision"])
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text(_insert("INSERT", "decision", row)), row)
    assert _row(engine, "decision", recorded["decision"]) == row


def _triggers(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        else:
            query = (
                "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
            )
        return set(conn.execute(text(query)).scalars())


@pytest.fixture(params=database_urls())
def at_0005(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Engine]:
    """A database migrated to 0005 only (later migrations have downgrades of their own)."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path}/portal.db")  # type: ignore[str-bytes-safe]
        command.upgrade(alembic_config(eng), "0005")
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
        command.upgrade(alembic_config(eng), "0005")
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_0006_adds_the_triggers_and_its_downgrade_drops_them(at_0005: Engine) -> None:
    engine = at_0005
    from_0003 = (
        {"ledger_no_update", "ledger_no_delete"}
        if engine.dialect.name == "sqlite"
        else {"ledger_append_only"}
    )
    assert _triggers(engine) == from_0003
    stamp = "'officer-wang', '2025-06-01 01:00:00', '依法处理'"
    with engine.begin() as conn:  # a row in each table, or no row trigger fires
        conn.execute(
            text(
                "INSERT INTO institution (recorded_by, recorded_at, reason, code, name, "
                f"credit_code, kind, region, ownership, ruleset) VALUES ({stamp}, "
                "'H43010200001', '长沙市第一医院', '12430102MB1A00001X', 'hospital', '430102', "
                "'public', 'hunan-2025')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO decision (recorded_by, recorded_at, reason, institution_id, "
                f"decision_type, legal_basis, document_no, decision_date, ruleset) VALUES "
                f"({stamp}, (SELECT MAX(id) FROM institution), 'administrative_penalty', "
                "'《条例》第三十八条', '湘医保罚〔2025〕60号', '2025-04-08', 'hunan-2025')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, entity, entity_id, reason, detail) "
                "VALUES ('2025-06-01 01:00:00', 'officer-wang', 'record_case', 'decision', 1, "
                "'依法处理', '{}')"
            )
        )
    command.upgrade(alembic_config(engine), "0006")
    added = _triggers(engine)
    assert from_0003 < added
    _refused(engine, "UPDATE decision SET legal_basis = legal_basis")
    _refused(engine, "DELETE FROM audit_log")
    command.downgrade(alembic_config(engine), "0005")
    assert _triggers(engine) == from_0003
    with engine.begin() as conn:  # as before 0006
        conn.execute(text("UPDATE decision SET legal_basis = legal_basis"))
        conn.execute(text("DELETE FROM audit_log"))
    command.upgrade(alembic_config(engine), "0006")
    assert _triggers(engine) == added
