"""The points ledger as a hash chain (portal.services.ledger_chain; migration 0011): every
entry a service writes is chained at commit, a rolled-back one is not, the demo loader
chains its bulk rows, entries already there are chained by the migration, and tampering —
a rewritten entry, removed newest links, an entry written around the chain — is named by
``verify`` and makes ``portal ledger verify`` exit 1."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from portal.db import alembic_config
from portal.services import ledger_chain
from portal.services.ledger import Finding, record_case
from tests.portal.conftest import OFFICER, Cast
from tests.portal.test_cli import run


def _case(session: Session, cast: Cast, no: int, points: int = 3) -> None:
    record_case(
        session,
        OFFICER,
        institution_code=cast.hospital_a,
        decision_type="administrative_penalty",
        legal_basis="《条例》第三十八条",
        document_no=f"湘医保罚〔2025〕{no}号",
        decision_date=date(2025, 4, 8),
        amount=None,
        findings=[Finding(cast.nurse, points=points)],
        as_of=date(2025, 4, 8),
    )


def _newest_entry(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT MAX(id) FROM ledger_entry")).scalar_one())


def test_every_committed_entry_is_chained_and_the_head_names_the_newest(
    session: Session, cast: Cast, engine: Engine
) -> None:
    _case(session, cast, 1)
    session.commit()
    _case(session, cast, 2)
    session.commit()
    report = ledger_chain.verify(engine)
    assert report.ok and report.count == report.entries >= 2
    with engine.connect() as conn:
        version = ledger_chain.data_version(conn)
    assert version.entry == _newest_entry(engine)
    assert version.hash == report.head_hash and len(version.hash) == 64


def test_a_rolled_back_case_leaves_no_link(session: Session, cast: Cast, engine: Engine) -> None:
    _case(session, cast, 1)
    session.commit()
    before = ledger_chain.verify(engine).count
    with session.begin_nested():
        _case(session, cast, 2)
        session.rollback()
    session.commit()
    _case(session, cast, 3)
    session.rollback()
    report = ledger_chain.verify(engine)
    assert report.ok and report.count == before


def test_a_rewritten_entry_is_named(session: Session, cast: Cast, engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("tampering is simulated on a SQLite file (dropping its triggers)")
    _case(session, cast, 1)
    session.commit()
    _case(session, cast, 2)
    session.commit()
    first = _newest_entry(engine) - 1
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER ledger_no_update"))
        conn.execute(
            text("UPDATE ledger_entry SET payload = replace(payload, '3', '1') WHERE id = :i"),
            {"i": first},
        )
    report = ledger_chain.verify(engine)
    assert not report.ok and f"ledger entry #{first}" in (report.broken or "")


def test_removed_newest_links_and_entries_around_the_chain_are_named(
    session: Session, cast: Cast, engine: Engine
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("tampering is simulated on a SQLite file (dropping its triggers)")
    _case(session, cast, 1)
    session.commit()
    _case(session, cast, 2)
    session.commit()
    newest = _newest_entry(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER ledger_chain_no_delete"))
        conn.execute(text("DELETE FROM ledger_chain WHERE entry_id = :i"), {"i": newest})
    report = ledger_chain.verify(engine)
    assert "newest links removed" in (report.broken or "")
    assert report.unchained == [newest]


def test_the_migration_chains_the_entries_already_there(
    session: Session, cast: Cast, engine: Engine
) -> None:
    _case(session, cast, 1)
    _case(session, cast, 2, points=6)
    session.commit()
    session.close()
    config = alembic_config(engine)
    command.downgrade(config, "0010")  # as before 0011: entries, no chain
    command.upgrade(config, "head")
    report = ledger_chain.verify(engine)
    assert report.ok and report.count == report.entries >= 2


def test_demo_data_is_chained_and_the_command_line_names_a_broken_chain(tmp_path: Path) -> None:
    db = tmp_path / "portal.db"
    made = run(db, "demo-data", "--practitioners", "300", "--seed", "3", "--as-of", "2026-11-01")
    assert made.returncode == 0, made.stderr
    ok = run(db, "ledger", "verify")
    assert ok.returncode == 0 and "the ledger chain is intact" in ok.stdout, ok.stdout
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TRIGGER ledger_no_update")
        conn.execute(
            "UPDATE ledger_entry SET reason = '改' WHERE id = (SELECT MIN(id) FROM ledger_entry)"
        )
    broken = run(db, "ledger", "verify")
    assert broken.returncode == 1 and "the ledger chain is broken" in broken.stdout
    assert "请保全数据库" in broken.stderr


def test_the_database_refuses_rewriting_links_or_moving_the_head_back(
    session: Session, cast: Cast, engine: Engine
) -> None:
    _case(session, cast, 1)
    session.commit()
    for statement in (
        "UPDATE ledger_chain SET hash = prev_hash",
        "DELETE FROM ledger_chain",
        "UPDATE ledger_head SET count = 0",
        "DELETE FROM ledger_head",
        "INSERT INTO ledger_head (id, count, entry_id, hash) VALUES (2, 99, NULL, 'x')",
    ):
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text(statement))
    assert ledger_chain.verify(engine).ok
