"""``portal ledger verify`` and ``rebuild``: the cache checked against the ledger, or rebuilt."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import groupby
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, select, update

from portal.clock import china_today
from portal.models import LedgerEntry, Practitioner, Registration, StatusCache, table
from portal.services import cache, webhooks
from portal.services.ledger import replay_entries

Progress = Callable[[int], None]
LEDGER = table(LedgerEntry)
PEOPLE = table(Practitioner)
CACHE = table(StatusCache)


@dataclass
class VerifyReport:
    people: int = 0
    with_history: int = 0
    agree: int = 0
    mismatched: list[str] = field(default_factory=list)  # national codes
    missing: list[str] = field(default_factory=list)  # history but no cache row
    stale: list[str] = field(default_factory=list)  # cache row but no history
    stale_statuses: int = 0  # registrations whose stored status is not the day's (refresh)
    rebuilt: int = 0

    @property
    def ok(self) -> bool:
        return not (self.mismatched or self.missing or self.stale)


def check(
    engine: Engine,
    rebuild: bool = False,
    progress: Progress | None = None,
    batch: int = 5000,
    on: date | None = None,
) -> VerifyReport:
    """Replay every person's ledger through the engine and compare with the cache.

    With ``rebuild``, differing and missing cache rows are rewritten, stale ones removed.
    """
    report = VerifyReport()
    fixes: dict[int, tuple[int, str]] = {}
    day = on or china_today()
    wanted: dict[int, str] = {}  # the replay's status on ``day`` of those not normal
    with engine.connect() as conn:
        report.people = int(conn.execute(select(func.count()).select_from(PEOPLE)).scalar_one())
        cached: dict[int, str] = dict(
            conn.execute(select(CACHE.c.practitioner_id, CACHE.c.timeline)).all()
        )
        rulesets: dict[int, str] = {}
        rows = conn.execution_options(stream_results=True, yield_per=batch).execute(
            select(LEDGER).order_by(LEDGER.c.practitioner_id, LEDGER.c.id)
        )
        done = 0
        for person_id, group in groupby(rows, key=lambda r: r.practitioner_id):
            entries: list[Any] = list(group)
            if person_id not in rulesets:
                rulesets.update(_rulesets(conn, person_id, batch))
            timeline = replay_entries(rulesets.pop(person_id), entries)
            status = timeline.status_on(day).status
            if status != "normal":
                wanted[person_id] = status
            expected = cache.encode(timeline)
            report.with_history += 1
            found = cached.pop(person_id, None)
            if found == expected:
                report.agree += 1
            else:
                (report.missing if found is None else report.mismatched).append(str(person_id))
                fixes[person_id] = (entries[-1].id, expected)
            done += 1
            if progress is not None and done % 1000 == 0:
                progress(1000)
        if progress is not None:
            progress(done % 1000)
        report.stale = [str(i) for i in cached]
        report.stale_statuses = len(_status_updates(conn, wanted))
        codes = _codes(conn, [int(i) for i in report.mismatched + report.missing + report.stale])
    report.mismatched = [codes[int(i)] for i in report.mismatched]
    report.missing = [codes[int(i)] for i in report.missing]
    stale_ids = [int(i) for i in report.stale]
    report.stale = [codes[i] for i in stale_ids]
    if rebuild and (fixes or stale_ids):
        report.rebuilt = _rebuild(engine, sorted({*fixes, *stale_ids}), on or china_today())
    if rebuild:
        refresh_statuses(engine, on or china_today())
    return report


def _rebuild(engine: Engine, ids: list[int], on: date) -> int:
    """Recompute each person from the ledger under the person's lock (a writer that
    committed since the check is not overwritten by the check's older answer)."""
    from portal.db import session_scope
    from portal.services.ledger import lock_people, recompute

    for start in range(0, len(ids), 200):
        chunk = ids[start : start + 200]
        with session_scope(engine, write=True) as session:
            lock_people(session, chunk)
            for person_id in chunk:
                person = session.get(Practitioner, person_id)
                assert person is not None
                has_history = session.execute(
                    select(LEDGER.c.id).where(LEDGER.c.practitioner_id == person_id).limit(1)
                ).first()
                if has_history:
                    recompute(session, person, on)
                else:
                    session.execute(delete(CACHE).where(CACHE.c.practitioner_id == person_id))
    return len(ids)


def _rulesets(conn: Any, first_id: int, batch: int) -> dict[int, str]:
    """The rulesets of the next ``batch`` people from ``first_id`` on (ids ascend)."""
    query = (
        select(PEOPLE.c.id, PEOPLE.c.ruleset)
        .where(PEOPLE.c.id >= first_id)
        .order_by(PEOPLE.c.id)
        .limit(batch)
    )
    return dict(conn.execute(query).all())


def _codes(conn: Any, ids: list[int]) -> dict[int, str]:
    codes: dict[int, str] = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        query = select(PEOPLE.c.id, PEOPLE.c.national_code).where(PEOPLE.c.id.in_(chunk))
        codes.update(conn.execute(query).all())
    return codes


def _cached_statuses(conn: Any, on: date) -> dict[int, str]:
    """Everyone's status on ``on`` from the cache (only those not normal)."""
    wanted: dict[int, str] = {}
    for person_id, text in conn.execute(select(CACHE.c.practitioner_id, CACHE.c.timeline)):
        status = cache.decode(text).status_on(on).status
        if status != "normal":
            wanted[person_id] = status
    return wanted


def _status_updates(conn: Any, wanted: dict[int, str]) -> list[dict[str, Any]]:
    """Active registrations whose stored status is not the one ``wanted`` (else normal)."""
    registrations = table(Registration)
    stored = conn.execute(
        select(registrations.c.id, registrations.c.practitioner_id, registrations.c.status)
        .where(registrations.c.deregistered_on.is_(None))
        .where(
            (registrations.c.status != "normal")
            | registrations.c.practitioner_id.in_(list(wanted) or [-1])
        )
    )
    return [
        {"rid": rid, "pid": pid, "old": status, "status": wanted.get(pid, "normal")}
        for rid, pid, status in stored
        if wanted.get(pid, "normal") != status
    ]


def refresh_statuses(engine: Engine, on: date) -> int:
    """Bring every active registration's stored status to the status in force on ``on``.

    Statuses change with time alone (a Hunan period starts next month; RULES §5.2 step 9),
    so this runs daily (``portal ledger refresh-statuses``); it reads only the cache.
    Returns how many registrations changed.
    """
    registrations = table(Registration)
    with engine.begin() as conn:
        updates = _status_updates(conn, _cached_statuses(conn, on))
        if updates:
            conn.execute(
                update(registrations)
                .where(registrations.c.id == bindparam("rid"))
                .values(status=bindparam("status")),
                [{"rid": u["rid"], "status": u["status"]} for u in updates],
            )
            changed = {u["pid"]: (u["old"], u["status"]) for u in updates}
            codes = _codes(conn, list(changed))
            now = datetime.now(UTC)
            for pid, (old, new) in changed.items():
                webhooks.enqueue(conn, codes[pid], old, new, on, now)
    return len(updates)
