"""Status look-ups on the hot path: one indexed select, the answer from the cache.

Hospital registration pages ask thousands of times a second (spec/DESIGN.md "Scale"), so
this path uses a plain connection and no ORM objects. Dates before a person's last event
are answered by replaying the ledger (RULES §5.2 step 9), which claim checks need rarely.

One bad row hurts one person. A cache row that cannot be decoded (not JSON, the wrong
shape or types) is rebuilt from the ledger on the spot (``verify.rebuild_in``: what
``portal ledger rebuild`` does for each person), logged, and the answer given from the
rebuilt row: the answer an undamaged row gives. The full look-up here also reads, in the
same statement, the id of the person's last ledger entry (one step down the
``(practitioner_id, id)`` index), so a row that is missing, stale or behind the ledger is
rebuilt too; the fastest reads (``public.fast_*``) skip that look (see there). When the
person's ledger itself cannot be replayed (a malformed entry), the cache's last good row
answers if there is one; otherwise ``StatusUnknown``: a 500 for that person alone, logged.
``ledger verify`` names the malformed entries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, bindparam, event, func, select
from sqlmodel import Session

from portal.models import LedgerEntry, Practitioner, StatusCache, table
from portal.services import cache, verify
from scoring.model import StatusOn

PEOPLE = table(Practitioner)
CACHE = table(StatusCache)
LEDGER = table(LedgerEntry)
log = logging.getLogger(__name__)
_LATEST = (
    select(func.max(LEDGER.c.id))
    .where(LEDGER.c.practitioner_id == PEOPLE.c.id)
    .correlate(PEOPLE)
    .scalar_subquery()
)
_PERSON_STATUS = (  # a person with their cache row and last ledger entry
    select(
        PEOPLE.c.id,
        PEOPLE.c.national_code,
        PEOPLE.c.name,
        PEOPLE.c.ruleset,
        PEOPLE.c.practice_type,
        PEOPLE.c.title,
        PEOPLE.c.scope,
    )
    .add_columns(CACHE.c.timeline, CACHE.c.ledger_seq, _LATEST.label("latest"))
    .select_from(PEOPLE.outerjoin(CACHE, CACHE.c.practitioner_id == PEOPLE.c.id))
)
_BY_CODE = _PERSON_STATUS.where(
    PEOPLE.c.national_code == bindparam("code", type_=PEOPLE.c.national_code.type)
)
_LEDGER_OF = (
    select(LEDGER)
    .where(LEDGER.c.practitioner_id == bindparam("id", type_=LEDGER.c.practitioner_id.type))
    .order_by(LEDGER.c.id)
)


class StatusUnknown(RuntimeError):
    """Neither the cache nor the ledger can give this person's status (logged)."""

    def __init__(self, practitioner_id: int) -> None:
        self.practitioner_id = practitioner_id
        super().__init__(
            f"practitioner {practitioner_id}: no readable status_cache row and a ledger that "
            "cannot be replayed (run portal ledger verify)"
        )


@dataclass(frozen=True)
class Found:
    id: int
    national_code: str
    name: str
    status: StatusOn
    ruleset: str = ""
    practice_type: str = ""
    title: str = ""
    scope: str = ""  # 执业范围 (the department patients know), to tell namesakes apart


def status_by_code(conn: Connection, national_code: str, on: date) -> Found | None:
    """The person and their status on ``on``, or None for an unknown code."""
    row = conn.execute(_BY_CODE, {"code": national_code.strip().upper()}).first()
    return None if row is None else _found(conn, row, on)


def statuses_by_id(conn: Connection, ids: list[int], on: date) -> dict[int, Found]:
    """``status_by_code`` for many people in one statement (a page of search results);
    a person whose status cannot be read (StatusUnknown, logged) is left out."""
    found: dict[int, Found] = {}
    for row in conn.execute(_PERSON_STATUS.where(PEOPLE.c.id.in_(ids))):
        try:
            found[int(row.id)] = _found(conn, row, on)
        except StatusUnknown:
            continue
    return found


def _found(conn: Connection, row: Any, on: date) -> Found:
    ledger = (row.ledger_seq, row.latest)
    status = cached_status(conn, row.id, row.ruleset, row.timeline, on, ledger)
    if status is None:
        status = replayed_status(conn, row.id, row.ruleset, on)
    return Found(
        row.id,
        row.national_code,
        row.name,
        status,
        row.ruleset,
        row.practice_type,
        row.title,
        row.scope,
    )


def replayed_status(conn: Connection, person_id: int, ruleset_id: str, on: date) -> StatusOn:
    """The status on ``on`` from a replay of the person's ledger."""
    entries: list[Any] = list(conn.execute(_LEDGER_OF, {"id": person_id}))
    try:
        return verify.replay_checked(ruleset_id, entries).status_on(on)
    except verify.LedgerUnreadable as exc:
        log.error("practitioner %d: the ledger cannot be replayed: %s", person_id, exc)
        raise StatusUnknown(person_id) from exc


def cached_status(
    conn: Connection,
    person_id: int,
    ruleset_id: str,
    text: str | None,
    on: date,
    ledger: tuple[int | None, int | None] | None = None,
) -> StatusOn | None:
    """The status on ``on`` from the person's cache row (``text`` None: no row), or None when
    ``on`` needs a replay. ``ledger``, when the caller read them: the row's ``ledger_seq``
    and the id of the person's last entry (a row not at the last entry is damaged too). A
    damaged row is rebuilt first (see the module's docstring)."""
    try:
        if ledger is not None and ledger[0] != ledger[1]:
            seq, latest = ledger
            raise cache.Damaged(
                "no row for a person with a history"
                if seq is None
                else f"ledger_seq {seq} is not the ledger's last entry ({latest})"
            )
        return cache.read_status(text, ruleset_id, on)
    except cache.Damaged as exc:
        latest = ledger[1] if ledger is not None else None
        healed = _heal(conn, person_id, ruleset_id, text, latest, exc.reason)
        return cache.read_status(healed, ruleset_id, on)


# People whose ledger cannot be replayed, by (id, last entry), per database (pool): not
# retried on every read. A correction appends an entry (a new key) and rewrites the row.
_UNREPLAYABLE: WeakKeyDictionary[Any, set[tuple[int, int | None]]] = WeakKeyDictionary()


def _heal(
    conn: Connection,
    person_id: int,
    ruleset_id: str,
    text: str | None,
    latest: int | None,
    reason: str,
) -> str | None:
    """The timeline to answer from for a damaged row: rebuilt (and written back) from the
    ledger, or a replay when the row cannot be written, or the last good row."""
    key = (person_id, latest)
    known = _UNREPLAYABLE.setdefault(conn.engine.pool, set())
    first = key not in known
    if first:
        log.warning(
            "status_cache row of practitioner %d is damaged (%s): rebuilding it from the ledger",
            person_id,
            reason,
        )
        try:
            return _rebuild(conn.engine, person_id)
        except verify.LedgerUnreadable as exc:
            log.error("practitioner %d: the ledger cannot be replayed: %s", person_id, exc)
        except Exception:  # the row cannot be written (locked, a read-only replica, ...)
            log.exception("practitioner %d: the rebuilt row could not be written", person_id)
            entries: list[Any] = list(conn.execute(_LEDGER_OF, {"id": person_id}))
            try:
                return cache.encode(verify.replay_checked(ruleset_id, entries))
            except verify.LedgerUnreadable as exc:
                log.error("practitioner %d: the ledger cannot be replayed: %s", person_id, exc)
        if len(known) > 10_000:
            known.clear()
        known.add(key)
    if text is not None:
        try:
            cache.timeline_for(text, ruleset_id)
        except cache.Damaged:
            pass
        else:
            if first:
                log.warning(
                    "practitioner %d: answering from the last good status_cache row", person_id
                )
            return text
    log.error("practitioner %d: no readable status_cache row and no replay", person_id)
    raise StatusUnknown(person_id)


# A repair on the event loop must not hold it up behind a long writer: it waits at most
# this long for SQLite's write lock or the person's row lock on PostgreSQL, then answers
# from a replay (a later read, the daily refresh or ``portal ledger rebuild`` repairs it).
REPAIR_WAIT_MS = 250


def _rebuild(reader: Engine, person_id: int) -> str | None:
    """``verify.rebuild_in`` in a transaction of its own, written through ``reader``'s pool
    (the public reads run on autocommit connections: no transaction, and on SQLite no BEGIN
    of their own), waiting at most ``REPAIR_WAIT_MS`` for a lock."""
    with _writer(reader).connect() as conn:
        if conn.dialect.name == "sqlite":
            raw: Any = conn.connection.dbapi_connection
            usual = int(raw.execute("PRAGMA busy_timeout").fetchone()[0])
            raw.execute(f"PRAGMA busy_timeout={REPAIR_WAIT_MS}")
            try:
                conn.begin()  # BEGIN IMMEDIATE: the write lock, or "database is locked"
            finally:
                raw.execute(f"PRAGMA busy_timeout={usual}")
        else:
            conn.begin()
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{REPAIR_WAIT_MS}ms'")
        with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
            text = verify.rebuild_in(session, person_id)
            session.commit()
        conn.commit()
        return text


def _writer(reader: Engine) -> Engine:
    if reader.dialect.name == "postgresql":
        return reader.execution_options(isolation_level="READ COMMITTED")
    writer = reader.execution_options(sqlite_begin="IMMEDIATE")
    if not reader.dispatch.begin:  # the reads engine of portal.db: BEGIN as the writers do
        from portal.db import _sqlite_begin

        event.listen(writer, "begin", _sqlite_begin)
    return writer
