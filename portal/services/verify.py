"""``portal ledger verify`` and ``rebuild``: the cache checked against the ledger, or rebuilt.

One bad row hurts one person: a ledger entry that cannot be replayed (payload not JSON, an
unknown kind, a missing field) is reported by its id and the others are checked and rebuilt
as usual; the daily refresh goes on past a person whose replay fails, counts and logs them.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import groupby
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, select, update
from sqlmodel import Session

from portal.clock import china_today
from portal.models import LedgerEntry, Practitioner, Registration, StatusCache, table
from portal.services import cache, public, webhooks
from portal.services.ledger import (
    entry_event,
    live_entries,
    lock_people,
    person_entries,
    recompute,
    replay_entries,
)
from scoring.engine import Timeline
from scoring.errors import InputError

Progress = Callable[[int], None]
LEDGER = table(LedgerEntry)
PEOPLE = table(Practitioner)
CACHE = table(StatusCache)
log = logging.getLogger(__name__)
# What replaying a malformed entry raises: json.JSONDecodeError, the engine's InputError and
# the ServiceError a refusal becomes are ValueErrors; a missing field a KeyError; a payload
# of the wrong shape a TypeError or AttributeError.
REPLAY_ERRORS = (ValueError, KeyError, TypeError, AttributeError, IndexError)


@dataclass(frozen=True)
class Malformed:
    """A ledger entry the engine cannot replay (``entry_id`` None: the person's history as a
    whole was refused and no single entry could be named)."""

    entry_id: int | None
    practitioner_id: int
    problem: str
    national_code: str = ""

    def __str__(self) -> str:
        who = self.national_code or f"practitioner {self.practitioner_id}"
        entry = f"ledger entry {self.entry_id}" if self.entry_id is not None else "ledger"
        return f"{entry} of {who}: {self.problem}"


class LedgerUnreadable(ValueError):
    """A person's ledger cannot be replayed: their status cannot be computed."""

    def __init__(self, practitioner_id: int, problems: list[Malformed]) -> None:
        self.practitioner_id = practitioner_id
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def diagnose(entries: list[Any], error: BaseException) -> list[Malformed]:
    """Which of a person's live entries broke the replay, each by id."""
    problems: list[Malformed] = []
    live = live_entries(entries)
    for entry in live:
        try:
            entry_event(entry)
        except REPLAY_ERRORS as exc:
            problems.append(Malformed(entry.id, entry.practitioner_id, _problem(entry, exc)))
    if problems or not entries:
        return problems
    refusal = error if isinstance(error, InputError) else error.__cause__
    person = entries[0].practitioner_id
    if isinstance(refusal, InputError):
        match = re.match(r"events\[(\d+)\]", refusal.where)
        named = live[int(match.group(1))].id if match and int(match.group(1)) < len(live) else None
        return [Malformed(named, person, f"refused by the engine: {refusal.message}")]
    return [Malformed(None, person, f"cannot be replayed: {type(error).__name__}: {error}")]


def _problem(entry: Any, exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"payload is not JSON ({exc})"
    if isinstance(exc, KeyError):
        return f"{entry.kind} payload lacks {exc}"
    if str(exc).endswith(f"unknown kind {entry.kind!r}"):
        return f"unknown kind {entry.kind!r}"
    return f"{entry.kind} payload unusable: {type(exc).__name__}: {exc}"


def replay_checked(ruleset_id: str, entries: list[Any]) -> Timeline:
    """The person's timeline, or ``LedgerUnreadable`` naming the entries that break it."""
    try:
        return replay_entries(ruleset_id, entries)
    except REPLAY_ERRORS as exc:
        person = entries[0].practitioner_id if entries else 0
        raise LedgerUnreadable(person, diagnose(entries, exc)) from exc


@dataclass
class VerifyReport:
    people: int = 0
    with_history: int = 0
    agree: int = 0
    mismatched: list[str] = field(default_factory=list)  # national codes
    missing: list[str] = field(default_factory=list)  # history but no cache row
    stale: list[str] = field(default_factory=list)  # cache row but no history
    malformed: list[Malformed] = field(default_factory=list)  # entries that cannot be replayed
    stale_statuses: int = 0  # registrations whose stored status is not the day's (refresh)
    rebuilt: int = 0

    @property
    def ok(self) -> bool:
        return not (self.mismatched or self.missing or self.stale or self.malformed)


def check(
    engine: Engine,
    rebuild: bool = False,
    progress: Progress | None = None,
    batch: int = 5000,
    on: date | None = None,
) -> VerifyReport:
    """Replay every person's ledger through the engine and compare with the cache (its
    text and the last entry it includes).

    With ``rebuild``, differing and missing cache rows are rewritten, stale ones removed.
    A person whose ledger cannot be replayed is reported (``malformed``, each entry by id),
    logged, and left as they are; everyone else is checked and rebuilt as usual.
    """
    report = VerifyReport()
    fixes: dict[int, tuple[int, str]] = {}
    day = on or china_today()
    wanted: dict[int, str] = {}  # the replay's status on ``day`` of those not normal
    unreadable: set[int] = set()
    with engine.connect() as conn:
        report.people = int(conn.execute(select(func.count()).select_from(PEOPLE)).scalar_one())
        cached: dict[int, tuple[str, int]] = {
            pid: (text, seq)
            for pid, text, seq in conn.execute(
                select(CACHE.c.practitioner_id, CACHE.c.timeline, CACHE.c.ledger_seq)
            )
        }
        rulesets: dict[int, str] = {}
        rows = conn.execution_options(stream_results=True, yield_per=batch).execute(
            select(LEDGER).order_by(LEDGER.c.practitioner_id, LEDGER.c.id)
        )
        done = 0
        for person_id, group in groupby(rows, key=lambda r: r.practitioner_id):
            entries: list[Any] = list(group)
            if person_id not in rulesets:
                rulesets.update(_rulesets(conn, person_id, batch))
            report.with_history += 1
            done += 1
            if progress is not None and done % 1000 == 0:
                progress(1000)
            try:
                timeline = replay_checked(rulesets.pop(person_id), entries)
                status = timeline.status_on(day).status
            except LedgerUnreadable as exc:
                report.malformed += exc.problems
                unreadable.add(person_id)
                cached.pop(person_id, None)
                continue
            if status != "normal":
                wanted[person_id] = status
            expected = (cache.encode(timeline), entries[-1].id)
            found = cached.pop(person_id, None)
            if found == expected:
                report.agree += 1
            else:
                (report.missing if found is None else report.mismatched).append(str(person_id))
                fixes[person_id] = (entries[-1].id, expected[0])
        if progress is not None:
            progress(done % 1000)
        report.stale = [str(i) for i in cached]
        report.stale_statuses = len(_status_updates(conn, wanted, unreadable))
        ids = [int(i) for i in report.mismatched + report.missing + report.stale]
        codes = _codes(conn, ids + sorted(unreadable))
    report.mismatched = [codes[int(i)] for i in report.mismatched]
    report.missing = [codes[int(i)] for i in report.missing]
    stale_ids = [int(i) for i in report.stale]
    report.stale = [codes[i] for i in stale_ids]
    report.malformed = [_named(m, codes) for m in report.malformed]
    for problem in report.malformed:
        log.error("ledger verify: %s", problem)
    if rebuild and (fixes or stale_ids):
        report.rebuilt, failed = _rebuild(engine, sorted({*fixes, *stale_ids}), day)
        report.malformed += failed
    if rebuild:
        refresh_statuses(engine, day)
    return report


def _named(problem: Malformed, codes: dict[int, str]) -> Malformed:
    code = codes.get(problem.practitioner_id, "")
    return Malformed(problem.entry_id, problem.practitioner_id, problem.problem, code)


def _rebuild_person(session: Session, person_id: int, on: date) -> Timeline | None:
    """Recompute one person's cache row (and registrations' statuses) from the ledger, as
    ``portal ledger rebuild`` does; None when they have no history (the row is removed).
    The caller holds the person's lock. ``LedgerUnreadable`` when the replay fails."""
    person = session.get(Practitioner, person_id)
    if person is None:
        raise LookupError(f"no practitioner {person_id}")
    entries = person_entries(session, person_id)
    if not entries:
        session.execute(delete(CACHE).where(CACHE.c.practitioner_id == person_id))
        return None
    try:
        return recompute(session, person, on)
    except REPLAY_ERRORS as exc:
        raise LedgerUnreadable(person_id, diagnose(entries, exc)) from exc


def rebuild_person(engine: Engine, person_id: int, on: date | None = None) -> str | None:
    """Rebuild one person's cache row from the ledger under their lock, in a transaction of
    its own. Returns the row's new ``timeline`` (None: no history, no row);
    ``LedgerUnreadable`` when their ledger cannot be replayed (nothing is written)."""
    from portal.db import session_scope

    with session_scope(engine, write=True) as session:
        return rebuild_in(session, person_id, on)


def rebuild_in(session: Session, person_id: int, on: date | None = None) -> str | None:
    """``rebuild_person`` in the caller's transaction (the read paths' repair)."""
    lock_people(session, [person_id])
    timeline = _rebuild_person(session, person_id, on or china_today())
    return None if timeline is None else cache.encode(timeline)


def _rebuild(engine: Engine, ids: list[int], on: date) -> tuple[int, list[Malformed]]:
    """Recompute each person from the ledger under the person's lock (a writer that
    committed since the check is not overwritten by the check's older answer). A person
    whose replay fails is rolled back alone (a savepoint), logged and returned."""
    from portal.db import session_scope

    rebuilt, failed = 0, []
    for start in range(0, len(ids), 200):
        chunk = ids[start : start + 200]
        with session_scope(engine, write=True) as session:
            lock_people(session, chunk)
            for person_id in chunk:
                try:
                    with session.begin_nested():
                        _rebuild_person(session, person_id, on)
                    rebuilt += 1
                except LedgerUnreadable as exc:
                    log.error("ledger rebuild: practitioner %d left as it is: %s", person_id, exc)
                    failed += exc.problems
    return rebuilt, failed


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


def _cached_statuses(
    conn: Any, on: date
) -> tuple[dict[int, str], dict[int, tuple[str, str | None]]]:
    """Everyone's status on ``on`` from the cache (only those not normal), and the rows that
    cannot be trusted: person id → (why, the row's own status if it still reads): damaged,
    missing, or behind the ledger."""
    latest: dict[int, int] = dict(
        conn.execute(
            select(LEDGER.c.practitioner_id, func.max(LEDGER.c.id)).group_by(
                LEDGER.c.practitioner_id
            )
        ).all()
    )  # read before the cache: an entry committed in between leaves the cache ahead, not behind
    rulesets = select(PEOPLE.c.ruleset).where(PEOPLE.c.id == CACHE.c.practitioner_id)
    rows = conn.execute(
        select(
            CACHE.c.practitioner_id,
            CACHE.c.timeline,
            CACHE.c.ledger_seq,
            rulesets.scalar_subquery(),
        )
    )
    wanted: dict[int, str] = {}
    damaged: dict[int, tuple[str, str | None]] = {}
    for person_id, text, seq, ruleset_id in rows:
        last = latest.pop(person_id, None)
        try:
            status = cache.read_status(text, ruleset_id, on)
            if status is None:  # ``on`` before the last event: as the row stands after it
                status = cache.decode(text).status_on(on)
        except cache.Damaged as exc:
            damaged[person_id] = (exc.reason, None)
            continue
        if last is not None and seq < last:
            damaged[person_id] = (f"ledger_seq {seq} is behind the ledger ({last})", status.status)
        elif status.status != "normal":
            wanted[person_id] = status.status
    for person_id in latest:
        damaged[person_id] = ("no status_cache row for a person with a history", None)
    return wanted, damaged


def _status_updates(
    conn: Any, wanted: dict[int, str], skip: set[int] | frozenset[int] = frozenset()
) -> list[dict[str, Any]]:
    """Active registrations whose stored status is not the one ``wanted`` (else normal);
    the people in ``skip`` (whose status is not known) are left out."""
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
        if wanted.get(pid, "normal") != status and pid not in skip
    ]


@dataclass
class RefreshReport:
    changed: int = 0  # registrations whose stored status changed
    rebuilt: list[int] = field(default_factory=list)  # people whose cache row was rebuilt
    failed: list[int] = field(default_factory=list)  # people whose replay failed (logged)


def refresh(engine: Engine, on: date) -> RefreshReport:
    """Bring every active registration's stored status to the status in force on ``on``.

    Statuses change with time alone (a Hunan period starts next month; RULES §5.2 step 9),
    so this runs daily (``portal ledger refresh-statuses``); it reads the cache. A damaged
    cache row is rebuilt from the ledger first (logged); a person whose replay fails is
    counted in ``failed`` and logged with the traceback, and the job goes on: their cache
    row's own status stands if it still reads (as on the public site), else their
    registrations are left as they were.
    """
    registrations = table(Registration)
    report = RefreshReport()
    with engine.begin() as conn:
        wanted, damaged = _cached_statuses(conn, on)
        left: set[int] = set()  # no status known: their registrations stay as they are
        for person_id, (reason, last_good) in sorted(damaged.items()):
            log.warning(
                "refresh_statuses: status_cache row of practitioner %d is damaged (%s): "
                "rebuilding it from the ledger",
                person_id,
                reason,
            )
            try:
                with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
                    lock_people(session, [person_id])
                    timeline = _rebuild_person(session, person_id, on)
                    session.commit()
            except Exception:
                log.exception(
                    "refresh_statuses: practitioner %d: the ledger cannot be replayed; %s",
                    person_id,
                    "left as they were"
                    if last_good is None
                    else f"the cache's last good status ({last_good}) stands",
                )
                report.failed.append(person_id)
                status = last_good
                if status is None:
                    left.add(person_id)
                    continue
            else:
                report.rebuilt.append(person_id)
                status = timeline.status_on(on).status if timeline is not None else "normal"
            if status != "normal":
                wanted[person_id] = status
        updates = _status_updates(conn, wanted, left)
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
        if on == china_today():  # the data now vouches for today (a past --on does not)
            public.record_refresh(conn, on)
    report.changed = len(updates)
    if report.failed:
        log.error(
            "refresh_statuses %s: %d registrations updated; the ledger of %d people cannot "
            "be replayed (practitioner ids %s; see portal ledger verify)",
            on,
            report.changed,
            len(report.failed),
            ", ".join(map(str, report.failed[:20])),
        )
    return report


def refresh_statuses(engine: Engine, on: date) -> int:
    """``refresh`` (see there); returns how many registrations changed."""
    return refresh(engine, on).changed
