"""The audit log is a hash chain anchored by its head (portal.services.audit, migration
0008): every entry verifies, any edit, removal or insertion behind the portal's back is
named by ``verify``, concurrent writers keep one exact chain, and the database refuses
rewrites of the audit and query logs and any step back of the head."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, insert, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from portal.db import alembic_config, make_engine, session_scope
from portal.models import AuditHead, AuditLog, Registration, table
from portal.services import audit as chain
from portal.services.accounts import create_account, get_account, set_password
from portal.services.ledger import Finding, lock_people, record_case
from portal.services.querylog import record_query
from portal.services.registrations import deregister
from portal.services.registry import Act, audit, get_practitioner
from tests.portal.conftest import OFFICER, SECRET, Cast, database_urls

PORTAL = Path(sys.executable).with_name("portal")


def _rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(table(AuditLog)).order_by(table(AuditLog).c.id)))


def _head(engine: Engine) -> tuple[int, str]:
    with Session(engine) as session:
        head = session.get(AuditHead, 1)
        assert head is not None
        return head.count, head.hash


def _behind_the_portals_back(engine: Engine, *statements: str, **params: Any) -> None:
    """Run ``statements`` with audit_log's append-only triggers out of the way (as someone
    with the database's own password could)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        else:
            for name in ("no_update", "no_delete", "no_replace"):
                conn.execute(text(f"DROP TRIGGER audit_log_{name}"))
        for statement in statements:
            conn.execute(text(statement), params)


def _record(engine: Engine, actor: str, n: int) -> None:
    """n entries through audit(), in one transaction of their own."""
    act = Act(actor, datetime.now(UTC), "测试")
    with session_scope(engine, write=True) as session:
        for i in range(n):
            audit(session, act, "test_entry", "practitioner", None, i=i)


# --- the chain -----------------------------------------------------------------------------


def test_every_change_is_an_entry_of_one_chain(engine: Engine, cast: Cast) -> None:
    rows = _rows(engine)
    assert len(rows) >= 10  # the cast's institutions, practitioners and registrations
    prev = chain.GENESIS
    for n, row in enumerate(rows, start=1):
        assert (row.seq, row.prev_hash) == (n, prev)
        content = {k: getattr(row, k) for k in ("at", "actor", "action", "entity",
                                                "entity_id", "reason", "detail")}  # fmt: skip
        assert chain.entry_hash(seq=n, prev_hash=prev, **content) == row.hash
        prev = row.hash
    assert _head(engine) == (len(rows), prev)
    report = chain.verify(engine)
    assert report.ok and report.count == len(rows), report


def test_the_hash_covers_every_field_and_the_previous_hash() -> None:
    base: dict[str, Any] = {
        "seq": 7, "at": datetime(2025, 6, 1, 1, 0, tzinfo=UTC), "actor": "officer-wang",
        "action": "record_case", "entity": "decision", "entity_id": 3, "reason": "依法处理",
        "detail": '{"document_no": "湘医保罚〔2025〕60号"}', "prev_hash": "a" * 64,
    }  # fmt: skip
    digest = chain.entry_hash(**base)
    assert len(digest) == 64 and int(digest, 16) >= 0
    changed = {"seq": 8, "at": base["at"] + timedelta(microseconds=1), "actor": "x",
               "action": "x", "entity": "x", "entity_id": None, "reason": "",
               "detail": "{}", "prev_hash": "b" * 64}  # fmt: skip
    for key, value in changed.items():
        assert chain.entry_hash(**{**base, key: value}) != digest, key
    # The same moment written in China time or read back naive from SQLite: the same hash.
    china = base["at"].astimezone(chain.CHINA)
    assert chain.entry_hash(**{**base, "at": china}) == digest
    assert chain.entry_hash(**{**base, "at": base["at"].replace(tzinfo=None)}) == digest


def test_entries_are_written_at_commit_and_go_with_a_rollback(engine: Engine) -> None:
    act = Act("officer-wang", datetime.now(UTC), "测试")
    with Session(engine) as session:
        audit(session, act, "rolled_back", "practitioner", None)
        session.rollback()
        audit(session, act, "kept", "practitioner", None)
        inner = session.begin_nested()
        audit(session, act, "in_a_savepoint_rolled_back", "practitioner", None)
        inner.rollback()
        with session.begin_nested():
            audit(session, act, "in_a_savepoint_released", "practitioner", None)
        assert session.exec(select(AuditLog)).all() == []  # not before the commit
        session.commit()
    with Session(engine) as session:
        audit(session, act, "never_committed", "practitioner", None)  # closed without commit
    assert [r.action for r in _rows(engine)] == ["kept", "in_a_savepoint_released"]
    assert chain.verify(engine).ok


def test_a_change_in_place_carries_before_and_after(
    engine: Engine, session: Session, cast: Cast
) -> None:
    person = get_practitioner(session, cast.nurse)
    registration = session.exec(
        select(Registration).where(Registration.practitioner_id == person.id)
    ).one()
    deregister(session, Act("admin-li", datetime.now(UTC), "离职"), registration.id or 0,
               date(2025, 6, 30))  # fmt: skip
    session.commit()
    detail = json.loads(_rows(engine)[-1].detail)
    assert detail["before"] == {"deregistered_on": None, "deregistered_reason": ""}
    assert detail["after"] == {"deregistered_on": "2025-06-30", "deregistered_reason": "离职"}


def test_before_and_after_never_hold_a_password_hash(engine: Engine, session: Session) -> None:
    act = Act("cli", datetime.now(UTC), "测试")
    create_account(session, act, username="zhoumin", role="province_admin",
                   password="Correct-Horse-Battery-9", must_change=True)  # fmt: skip
    session.commit()
    account = get_account(session, "zhoumin")
    set_password(session, act, account, "Correct-Horse-Battery-9", "Brand-New-Secret-42")
    session.commit()
    last = _rows(engine)[-1]
    assert last.action == "change_password"
    assert json.loads(last.detail) == {
        "before": {"must_change_password": True}, "after": {"must_change_password": False},
    }  # fmt: skip
    assert "argon2" not in "".join(r.detail for r in _rows(engine))


def test_the_services_pass_before_and_after_of_their_own(engine: Engine, session: Session) -> None:
    from portal.services.accounts import deactivate

    act = Act("cli", datetime.now(UTC), "离职")
    account = create_account(session, act, username="liming", role="agency_officer",
                             password="Correct-Horse-Battery-9", region="4301")  # fmt: skip
    deactivate(session, act, account)
    session.commit()
    detail = json.loads(_rows(engine)[-1].detail)
    assert detail["before"] == {"state": "active"} and detail["after"] == {"state": "deactivated"}


# --- verify names the first broken link ---------------------------------------------------------


def test_verify_names_an_entry_changed_behind_the_portals_back(engine: Engine, cast: Cast) -> None:
    target = _rows(engine)[4].id
    _behind_the_portals_back(engine, "UPDATE audit_log SET reason = '改过' WHERE id = :id",
                             id=target)  # fmt: skip
    report = chain.verify(engine)
    assert report.broken is not None and report.broken.entry_id == target, report
    assert "does not match its hash" in report.broken.reason
    assert report.count == 4


def test_verify_names_an_entry_whose_hash_was_recomputed_after_a_change(
    engine: Engine, cast: Cast
) -> None:
    """Rewriting the content and its hash breaks the next link instead."""
    rows = _rows(engine)
    row = rows[2]
    content = {k: getattr(row, k) for k in ("at", "actor", "action", "entity", "entity_id",
                                            "detail")}  # fmt: skip
    forged = chain.entry_hash(seq=row.seq, prev_hash=row.prev_hash, reason="改过", **content)
    _behind_the_portals_back(
        engine, "UPDATE audit_log SET reason = '改过', hash = :hash WHERE id = :id",
        hash=forged, id=row.id,
    )  # fmt: skip
    broken = chain.verify(engine).broken
    assert broken is not None and broken.entry_id == rows[3].id, broken
    assert f"entry #{row.id}" in broken.reason


def test_verify_names_the_entry_after_a_deleted_one(engine: Engine, cast: Cast) -> None:
    rows = _rows(engine)
    _behind_the_portals_back(engine, "DELETE FROM audit_log WHERE id = :id", id=rows[3].id)
    broken = chain.verify(engine).broken
    assert broken is not None and broken.entry_id == rows[4].id, broken
    assert "1 entries missing" in broken.reason and f"entry #{rows[2].id}" in broken.reason


def test_verify_catches_the_newest_entries_deleted(engine: Engine, cast: Cast) -> None:
    rows = _rows(engine)
    _behind_the_portals_back(engine, "DELETE FROM audit_log WHERE id >= :id", id=rows[-2].id)
    report = chain.verify(engine)
    assert report.broken is not None and report.broken.entry_id is None, report
    assert report.broken.seq == len(rows) - 1
    assert f"the newest 2 after entry #{rows[-3].id} are missing" in report.broken.reason


def test_verify_names_an_inserted_entry(engine: Engine, cast: Cast) -> None:
    rows = _rows(engine)
    last = rows[-1]
    forged: dict[str, Any] = {
        "at": datetime.now(UTC), "actor": "intruder", "action": "create",
        "entity": "practitioner", "entity_id": 99, "reason": "", "detail": "{}",
        "seq": last.seq + 1, "prev_hash": last.hash, "hash": "f" * 64,
    }  # fmt: skip
    with engine.begin() as conn:  # an insert: the append-only triggers let it in
        conn.execute(insert(table(AuditLog)), forged)
    broken = chain.verify(engine).broken
    assert broken is not None and broken.entry_id == last.id + 1, broken
    assert "does not match its hash" in broken.reason


def test_verify_names_an_inserted_entry_even_with_a_well_made_hash(
    engine: Engine, cast: Cast
) -> None:
    """Whoever knows the recipe can hash a forged entry; the head still does not count it."""
    last = _rows(engine)[-1]
    forged: dict[str, Any] = {
        "at": datetime.now(UTC), "actor": "intruder", "action": "create",
        "entity": "practitioner", "entity_id": 99, "reason": "", "detail": "{}",
    }  # fmt: skip
    digest = chain.entry_hash(seq=last.seq + 1, prev_hash=last.hash, **forged)
    with engine.begin() as conn:
        conn.execute(
            insert(table(AuditLog)),
            {**forged, "seq": last.seq + 1, "prev_hash": last.hash, "hash": digest},
        )
    broken = chain.verify(engine).broken
    assert broken is not None and broken.entry_id == last.id + 1, broken
    assert "beyond the head" in broken.reason


def test_verify_names_an_entry_written_around_audit(engine: Engine, cast: Cast) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(table(AuditLog)),
            {"at": datetime.now(UTC), "actor": "bulk", "action": "x", "entity": "x",
             "entity_id": None, "reason": "", "detail": "{}"},
        )  # fmt: skip
    broken = chain.verify(engine).broken
    assert broken is not None and "not chained" in broken.reason
    assert broken.entry_id == _rows(engine)[-1].id


def test_append_chains_rows_written_on_a_connection(engine: Engine, cast: Cast) -> None:
    """Bulk writers on a Connection (demo data) chain their rows the same way."""
    before = _head(engine)[0]
    row = {
        "at": datetime.now(UTC),
        "actor": "demo",
        "action": "demo_data",
        "entity": "practitioner",
        "entity_id": None,
        "reason": "演示数据",
        "detail": "{}",
    }
    with engine.begin() as conn:
        assert chain.append(conn, [row, row]) == before + 2
    report = chain.verify(engine)
    assert report.ok and report.count == before + 2


def test_the_head_moves_forward_only(engine: Engine, cast: Cast) -> None:
    count, _ = _head(engine)
    ways = [
        "UPDATE audit_head SET count = count - 1",
        "UPDATE audit_head SET hash = 'x'",  # the same count, another hash
        "DELETE FROM audit_head",
        "INSERT INTO audit_head (id, count, hash) VALUES (2, 1, 'x')",
    ]
    ways.append(
        "INSERT OR REPLACE INTO audit_head (id, count, hash) VALUES (1, 0, 'x')"
        if engine.dialect.name == "sqlite"
        else "TRUNCATE audit_head"
    )
    for statement in ways:
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text(statement))
    assert _head(engine)[0] == count


@pytest.mark.parametrize("name", ["audit_log", "query_log"])
def test_the_audit_and_query_logs_refuse_every_rewrite(
    engine: Engine, session: Session, cast: Cast, name: str
) -> None:
    record_query(session, OFFICER, subject=cast.doctor, what="private_data", purpose="核查申诉材料")
    session.commit()
    column = "reason" if name == "audit_log" else "purpose"
    with engine.connect() as conn:
        row = dict(conn.execute(text(f"SELECT * FROM {name} ORDER BY id LIMIT 1")).one()._mapping)
    columns, values = ", ".join(row), ", ".join(f":{c}" for c in row)
    ways = [
        f"UPDATE {name} SET {column} = 'x'",
        f"DELETE FROM {name}",
        f"INSERT INTO {name} ({columns}) VALUES ({values}) "
        f"ON CONFLICT (id) DO UPDATE SET {column} = 'x'",
    ]
    if engine.dialect.name == "sqlite":
        ways += [f"INSERT OR REPLACE INTO {name} ({columns}) VALUES ({values})",
                 f"REPLACE INTO {name} ({columns}) VALUES ({values})"]  # fmt: skip
    else:
        ways.append(f"TRUNCATE {name}")
    for statement in ways:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement), row)
    assert chain.verify(engine).ok


# --- concurrent writers -----------------------------------------------------------------------


def test_concurrent_writers_keep_one_exact_chain(engine: Engine, cast: Cast) -> None:
    before = _head(engine)[0]
    jobs = [(f"writer-{w}", 1 + (w + n) % 3) for w in range(8) for n in range(15)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda job: _record(engine, *job), jobs))
    expected = before + sum(n for _, n in jobs)
    report = chain.verify(engine)
    assert report.ok, report
    assert report.count == expected and _head(engine)[0] == expected
    seqs = [r.seq for r in _rows(engine)]
    assert seqs == list(range(1, expected + 1))  # ids follow the chain


def test_concurrent_cases_for_one_doctor_keep_the_chain(engine: Engine, cast: Cast) -> None:
    def case(n: int) -> None:
        day = date(2025, 4, 1) + timedelta(days=n)
        with session_scope(engine, write=True) as session:
            record_case(
                session, OFFICER, institution_code=cast.hospital_a,
                decision_type="agreement_action", legal_basis="服务协议",
                document_no=f"并发审计〔2025〕{n}号", decision_date=day, amount=None,
                findings=[Finding(cast.doctor, points=1), Finding(cast.nurse, points=1)],
                as_of=day,
            )  # fmt: skip

    before = _head(engine)[0]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(case, range(16)))
    report = chain.verify(engine)
    assert report.ok, report
    # the decision, per person one ledger entry and its credit archive item, and the
    # decision's item in the institution's archive
    assert report.count == before + 16 * 6


def test_the_head_is_the_last_lock_so_row_locks_cannot_deadlock(
    engine: Engine, session: Session, cast: Cast
) -> None:
    """X locks person A, writes an entry, then needs person B, which Y holds while it
    writes its own entry. Were the head locked when an entry is written, X would hold it
    waiting for B and Y would wait for it holding B: a deadlock. It is locked at commit."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite has one writer at a time)")
    a = get_practitioner(session, cast.doctor).id or 0
    b = get_practitioner(session, cast.nurse).id or 0
    session.rollback()
    x_wrote, y_locked = threading.Event(), threading.Event()
    act = Act("officer-wang", datetime.now(UTC), "测试")

    def x() -> None:
        with session_scope(engine, write=True) as s:
            lock_people(s, [a])
            audit(s, act, "x_first", "practitioner", a)
            x_wrote.set()
            assert y_locked.wait(10)
            lock_people(s, [b])
            audit(s, act, "x_second", "practitioner", b)

    def y() -> None:
        with session_scope(engine, write=True) as s:
            lock_people(s, [b])
            y_locked.set()
            assert x_wrote.wait(10)
            audit(s, act, "y", "practitioner", b)

    before = _head(engine)[0]
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = [pool.submit(x), pool.submit(y)]
        for future in done:
            future.result(timeout=30)  # a deadlock would raise here
    actions = [r.action for r in _rows(engine)[before:]]
    assert sorted(actions) == ["x_first", "x_second", "y"]
    assert actions[0] == "y"  # Y committed first: X waited for B
    assert chain.verify(engine).ok


# --- the migration --------------------------------------------------------------------------


@pytest.fixture(params=database_urls())
def at_0007(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database migrated to 0007, before the chain."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path}/portal.db")
        command.upgrade(alembic_config(eng), "0007")
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
        command.upgrade(alembic_config(eng), "0007")
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_the_migration_chains_the_rows_already_there_in_id_order(at_0007: Engine) -> None:
    engine = at_0007
    with engine.begin() as conn:
        for n, at in enumerate(("2025-06-03 01:00:00", "2025-06-01 01:00:00.250000",
                                "2025-06-02 09:30:00")):  # fmt: skip
            conn.execute(
                text("INSERT INTO audit_log (at, actor, action, entity, entity_id, reason, "
                     "detail) VALUES (:at, 'officer-wang', 'record_case', 'decision', :n, "
                     "'依法处理', '{}')"),
                {"at": datetime.fromisoformat(at).replace(tzinfo=UTC), "n": n},
            )  # fmt: skip
    command.upgrade(alembic_config(engine), "0008")
    rows = _rows(engine)
    assert [(r.entity_id, r.seq) for r in rows] == [(0, 1), (1, 2), (2, 3)]
    assert _head(engine) == (3, rows[-1].hash)
    assert chain.verify(engine).ok
    _record(engine, "officer-wang", 2)  # the chain goes on from the old rows
    report = chain.verify(engine)
    assert report.ok and report.count == 5
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))


def test_the_migration_downgrades_to_0007_and_up_again(at_0007: Engine) -> None:
    engine = at_0007
    before = _triggers(engine)
    command.upgrade(alembic_config(engine), "0008")
    assert {"audit_head", "query_log"} <= set(inspect(engine).get_table_names())
    added = _triggers(engine) - before
    assert any(t.startswith("query_log") for t in added)
    assert any(t.startswith("audit_head") for t in added)
    _record(engine, "officer-wang", 2)
    command.downgrade(alembic_config(engine), "0007")
    assert _triggers(engine) == before  # audit_log as 0006 left it; query_log bare
    assert "audit_head" not in inspect(engine).get_table_names()
    assert "hash" not in {c["name"] for c in inspect(engine).get_columns("audit_log")}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO query_log (at, actor, subject, what, purpose) VALUES "
                          "(:at, 'x', 'D43010200001', 'private_data', '核查')"),
                     {"at": datetime.now(UTC)})  # fmt: skip
        conn.execute(text("UPDATE query_log SET purpose = 'y'"))  # no trigger before 0008
    command.upgrade(alembic_config(engine), "0008")
    assert _triggers(engine) == before | added
    report = chain.verify(engine)
    assert report.ok and report.count == 2


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


# --- the command line -----------------------------------------------------------------------


def _portal(db: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "PORTAL_SECRET": SECRET}
    return subprocess.run(
        [str(PORTAL), *args], input=stdin, capture_output=True, text=True, env=env,
        check=False, timeout=300,
    )  # fmt: skip


def test_portal_audit_verify_exits_0_when_intact_and_1_naming_the_broken_entry(
    tmp_path: Path,
) -> None:
    db = tmp_path / "portal.db"
    for username in ("zhoumin", "sunli"):
        made = _portal(db, "users", "create", "--username", username, "--role",
                       "province_admin" if username == "zhoumin" else "auditor",
                       stdin="Correct-Horse-Battery-9\n")  # fmt: skip
        assert made.returncode == 0, made.stderr
    intact = _portal(db, "audit", "verify")
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "intact: 2 entries" in intact.stdout
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("UPDATE audit_log SET actor = 'someone-else' WHERE id = 2")
    broken = _portal(db, "audit", "verify")
    assert broken.returncode == 1
    assert "broken at entry #2" in broken.stdout and "does not match its hash" in broken.stdout
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TRIGGER audit_log_no_delete")
        conn.execute("DELETE FROM audit_log WHERE id = 2")
    gone = _portal(db, "audit", "verify")
    assert gone.returncode == 1 and "the newest 1 after entry #1 are missing" in gone.stdout


def test_query_log_rows_are_found_by_who_what_and_when(engine: Engine, cast: Cast) -> None:
    with session_scope(engine, write=True) as session:
        record_query(session, OFFICER, subject=cast.doctor, what="private_data",
                     purpose="核查申诉材料")  # fmt: skip
        record_query(session, Act("officer-li", OFFICER.at + timedelta(days=2), ""),
                     subject=cast.nurse, what="full_history", purpose="复核修复申请")  # fmt: skip
    day = OFFICER.at.astimezone(chain.CHINA).date()
    with Session(engine) as session:

        def find(**kw: Any) -> list[str]:
            found = chain.query_entries(session, chain.QuerySearch(**kw), 1, 50)
            assert found.total == len(found.rows)
            return [r.subject for r in found.rows]

        assert find() == [cast.nurse, cast.doctor]  # newest first
        assert find(actor="officer-wang") == [cast.doctor]
        assert find(subject=cast.nurse) == [cast.nurse]
        assert find(what="private_data") == [cast.doctor]
        assert find(period=chain.Period(day, day)) == [cast.doctor]
        assert find(period=chain.Period(since=day + timedelta(days=1))) == [cast.nurse]
