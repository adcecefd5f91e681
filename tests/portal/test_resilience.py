"""One bad row hurts one person, on SQLite and PostgreSQL.

A damaged ``status_cache`` row (not JSON, the wrong shape or types, a date that is not one,
behind the ledger) is rebuilt from the ledger on read and logged, and every public route
answers as it would have from the undamaged row. ``ledger verify`` / ``rebuild`` report a
malformed ledger entry by its id and go on with everyone else; the daily refresh goes on
past a person whose replay fails, counts them and logs the traceback.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from portal.app import create_app
from portal.clock import china_today
from portal.db import make_engine
from portal.services import ledger, verify
from portal.services.demo import generate
from portal.services.public import fast_status
from portal.settings import RATE_LIMITS, Settings
from tests.portal.conftest import SECRET

UNLIMITED = {name: (10**9, window) for name, (_var, _n, window) in RATE_LIMITS.items()}
LOGGERS = ("portal.services.lookup", "portal.services.verify", "portal.services.cache")


@dataclass(frozen=True)
class Person:
    id: int
    code: str
    timeline: str  # the cache row as the ledger makes it
    seq: int


def _people(engine: Engine, status: str, n: int = 1) -> list[Person]:
    """People whose registrations say ``status`` today, with a cache row."""
    query = text(
        "SELECT DISTINCT p.id, p.national_code, c.timeline, c.ledger_seq FROM practitioner p "
        "JOIN registration r ON r.practitioner_id = p.id "
        "JOIN status_cache c ON c.practitioner_id = p.id "
        "WHERE r.status = :status AND r.deregistered_on IS NULL ORDER BY p.id"
    )
    with engine.connect() as conn:
        rows = conn.execute(query, {"status": status}).all()
    assert len(rows) >= n, f"the demo data has fewer than {n} {status} people with a history"
    return [Person(*row) for row in rows[:n]]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog, also for records logged after an app (re)configured the root logger."""
    portal = logging.getLogger("portal")
    portal.addHandler(caplog.handler)
    caplog.set_level(logging.WARNING)
    yield caplog
    portal.removeHandler(caplog.handler)


@pytest.fixture
def demo(engine: Engine) -> Engine:
    generate(engine, 600, seed=4, as_of=china_today(), secret=SECRET)
    verify.refresh_statuses(engine, china_today())
    return engine


def _row(engine: Engine, person_id: int) -> tuple[str, int] | None:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT timeline, ledger_seq FROM status_cache WHERE practitioner_id = :id"),
            {"id": person_id},
        ).first()
    return None if row is None else (row[0], row[1])


def _set_timeline(engine: Engine, person_id: int, timeline: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE status_cache SET timeline = :t WHERE practitioner_id = :id"),
            {"t": timeline, "id": person_id},
        )


def _without_periods(t: str) -> str:
    return json.dumps({k: v for k, v in json.loads(t).items() if k != "periods"})


def _totals_as_text(t: str) -> str:
    data = json.loads(t)
    return json.dumps({**data, "totals": [[d, str(n)] for d, n in data["totals"]]})


def _periods_not_a_list(t: str) -> str:
    return json.dumps({**json.loads(t), "periods": "suspension"})


def _start_not_a_date(t: str) -> str:
    data = json.loads(t)
    data["periods"][0]["start"] = "2025-02-30"
    return json.dumps(data)


def _period_without_kind(t: str) -> str:
    data = json.loads(t)
    del data["periods"][0]["kind"]
    return json.dumps(data)


DAMAGES: dict[str, Callable[[str], str]] = {
    "not JSON": lambda t: t[: len(t) // 2],
    "empty": lambda t: "",
    "JSON, not an object": lambda t: "[1, 2, 3]",
    "missing keys": _without_periods,
    "a period without its kind": _period_without_kind,
    "wrong types (a total as text)": _totals_as_text,
    "wrong types (periods not a list)": _periods_not_a_list,
    "a date that is not a date": _start_not_a_date,
}


def _site_url(engine: Engine) -> str:
    """The test database as an operator's URL (PostgreSQL: the test's schema in options)."""
    if engine.dialect.name == "sqlite":
        return engine.url.render_as_string(hide_password=False)
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    url = make_url(os.environ["TEST_DATABASE_URL"])
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@asynccontextmanager
async def _client(engine: Engine) -> AsyncIterator[AsyncTestClient[Any]]:
    """A fresh app (fresh per-process answer caches) on the test's database."""
    app = create_app(Settings(database_url=_site_url(engine), secret=SECRET), limits=UNLIMITED)
    async with AsyncTestClient(app=app) as client:
        yield client


ROUTES = ("page", "status", "badge", "embed", "batch")


async def _ask(client: AsyncTestClient[Any], route: str, code: str, other: str) -> Any:
    """The route's answer for ``code`` (status code, body)."""
    if route == "page":
        response = await client.get(f"/practitioners/{code}")
    elif route == "status":
        response = await client.get(f"/api/v1/practitioners/{code}/status")
    elif route == "badge":
        response = await client.get(f"/badge/{code}.svg")
    elif route == "embed":
        response = await client.get(f"/embed/{code}")
    else:
        response = await client.post("/api/v1/status:batch", json={"codes": [code, other]})
    body = response.json() if route in ("status", "batch") else response.text
    return response.status_code, body


def _warned(logs: pytest.LogCaptureFixture, person_id: int) -> bool:
    """A warning (or worse) naming the person's damaged row."""
    return any(
        r.levelno >= logging.WARNING
        and r.name in LOGGERS
        and f"practitioner {person_id}" in r.getMessage()
        and "damaged" in r.getMessage()
        for r in logs.records
    )


@pytest.mark.parametrize("damage", list(DAMAGES))
async def test_each_route_rebuilds_a_damaged_row_and_answers_as_before(
    demo: Engine, logs: pytest.LogCaptureFixture, damage: str
) -> None:
    person, other = _people(demo, "suspended", 2)
    async with _client(demo) as before:
        expected = {route: await _ask(before, route, person.code, other.code) for route in ROUTES}
    assert expected["status"][0] == 200 and expected["status"][1]["status"] == "suspended"
    assert "暂停" in expected["badge"][1]
    async with _client(demo) as after:
        for route in ROUTES:
            _set_timeline(demo, person.id, DAMAGES[damage](person.timeline))
            logs.clear()
            answer = await _ask(after, route, person.code, other.code)
            assert answer == expected[route], (damage, route)
            assert _row(demo, person.id) == (person.timeline, person.seq), (damage, route)
            assert _warned(logs, person.id), (damage, route, logs.text)


def _add_entry(engine: Engine, person_id: int, kind: str, day: date, payload: str) -> int:
    """A ledger entry written past the services (raw SQL), as a bad import might."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ledger_entry (recorded_by, recorded_at, reason, practitioner_id, "
                "kind, event_date, decision_id, payload, supersedes_id) VALUES ('raw-sql', "
                ":at, '', :pid, :kind, :day, NULL, :payload, NULL)"
            ),
            {
                "at": datetime(2026, 1, 5, 1, 0, tzinfo=UTC),
                "pid": person_id,
                "kind": kind,
                "day": day,
                "payload": payload,
            },
        )
        return int(
            conn.execute(
                text("SELECT MAX(id) FROM ledger_entry WHERE practitioner_id = :pid"),
                {"pid": person_id},
            ).scalar_one()
        )


TWELVE = json.dumps({"points": 12, "cancels": False, "explain": "12 points", "violation": None})


def _normal_without_history(engine: Engine) -> Person:
    query = text(
        "SELECT p.id, p.national_code FROM practitioner p JOIN registration r "
        "ON r.practitioner_id = p.id WHERE r.status = 'normal' AND NOT EXISTS "
        "(SELECT 1 FROM ledger_entry l WHERE l.practitioner_id = p.id) ORDER BY p.id LIMIT 1"
    )
    with engine.connect() as conn:
        pid, code = conn.execute(query).one()
    return Person(pid, code, "", 0)


@pytest.mark.parametrize("case", ["behind the ledger", "missing"])
async def test_a_row_behind_the_ledger_is_rebuilt_by_the_full_look_up(
    demo: Engine, logs: pytest.LogCaptureFixture, case: str
) -> None:
    """A row that does not include the person's last entry: the page and the card (and the
    batch, search and disclosures, which look the same way) rebuild it and show the entry."""
    person = (
        _people(demo, "suspended")[0]
        if case == "behind the ledger"
        else _normal_without_history(demo)
    )
    day = china_today() - timedelta(days=45)  # the period starts next month: in force today
    added = _add_entry(demo, person.id, "score", day, TWELVE)
    assert _row(demo, person.id) == (None if case == "missing" else (person.timeline, person.seq))
    async with _client(demo) as client:
        page = await client.get(f"/practitioners/{person.code}")
    assert page.status_code == 200
    repaired = _row(demo, person.id)
    assert repaired is not None and repaired[1] == added
    assert _warned(logs, person.id)
    with Session(demo) as session:
        status = ledger.status_on(session, person.code, china_today())
    assert status.status == "terminated"
    async with _client(demo) as client:  # undamaged now: the same page, and the API agrees
        assert (await client.get(f"/practitioners/{person.code}")).text == page.text
        api = (await client.get(f"/api/v1/practitioners/{person.code}/status")).json()
        embed = await client.get(f"/embed/{person.code}")
    assert api["status"] == "terminated" and api["period_start"] == status.period_start.isoformat()
    assert embed.status_code == 200 and "终止" in embed.text


def _malformed(engine: Engine, people: list[Person]) -> dict[int, int]:
    """Three kinds of malformed entry, one person each: entry id → person id."""
    day = date(2026, 1, 5)
    bad = [("score", "{not json"), ("bogus", "{}"), ("score", '{"cancels": false}')]
    return {
        _add_entry(engine, p.id, kind, day, payload): p.id
        for p, (kind, payload) in zip(people, bad, strict=True)
    }


def test_verify_and_rebuild_name_malformed_entries_and_check_everyone_else(
    demo: Engine, logs: pytest.LogCaptureFixture
) -> None:
    *broken, damaged = _people(demo, "suspended", 4)
    entries = _malformed(demo, broken)
    _set_timeline(demo, damaged.id, "{}")
    report = verify.check(demo)
    assert {m.entry_id: m.practitioner_id for m in report.malformed} == entries
    by_id = {m.entry_id: m for m in report.malformed}
    problems = [by_id[e].problem for e in entries]
    assert "not JSON" in problems[0] and "unknown kind 'bogus'" in problems[1]
    assert "points" in problems[2]
    assert {m.national_code for m in report.malformed} == {p.code for p in broken}
    assert report.mismatched == [damaged.code]  # the others were checked, and this one differs
    assert report.agree == report.with_history - 4 and not report.ok
    for entry_id in entries:
        assert any(f"ledger entry {entry_id} " in r.getMessage() for r in logs.records)

    rebuilt = verify.check(demo, rebuild=True)  # portal ledger rebuild
    assert rebuilt.rebuilt == 1 and {m.entry_id for m in rebuilt.malformed} == set(entries)
    assert _row(demo, damaged.id) == (damaged.timeline, damaged.seq)
    for person in broken:  # left as they were: the last good row
        assert _row(demo, person.id) == (person.timeline, person.seq)
    again = verify.check(demo)
    assert again.mismatched == [] and again.missing == [] and again.stale == []
    assert {m.entry_id for m in again.malformed} == set(entries)


def test_verify_reports_a_row_behind_the_ledger(demo: Engine) -> None:
    person = _people(demo, "suspended")[0]
    with demo.begin() as conn:
        conn.execute(
            text("UPDATE status_cache SET ledger_seq = ledger_seq - 1 WHERE practitioner_id = :id"),
            {"id": person.id},
        )
    assert verify.check(demo).mismatched == [person.code]
    assert verify.check(demo, rebuild=True).rebuilt == 1
    assert _row(demo, person.id) == (person.timeline, person.seq)


async def test_a_person_whose_ledger_cannot_be_replayed_gets_the_last_good_answer(
    demo: Engine, logs: pytest.LogCaptureFixture
) -> None:
    """Chosen answer: the last good cache row (what everyone was told before the bad entry
    came in); with no readable row either, a 500 for that person alone."""
    person, other = _people(demo, "suspended", 2)
    async with _client(demo) as before:
        expected = {route: await _ask(before, route, person.code, other.code) for route in ROUTES}
    _malformed(demo, [person, *_people(demo, "terminated", 2)])
    async with _client(demo) as after:
        for route in ROUTES:
            assert await _ask(after, route, person.code, other.code) == expected[route]
    assert _row(demo, person.id) == (person.timeline, person.seq)
    assert any(
        f"practitioner {person.id}" in r.getMessage() and "last good" in r.getMessage()
        for r in logs.records
    )

    _set_timeline(demo, person.id, "{}")  # and no readable row
    async with _client(demo) as client:
        for path in ("/disclosures", "/api/v1/disclosures", f"/search?q={person.code}"):
            assert (await client.get(path)).status_code == 200, path  # lists skip past them
        for path in (f"/api/v1/practitioners/{person.code}/status", f"/badge/{person.code}.svg"):
            assert (await client.get(path)).status_code == 500
        assert (await client.get(f"/practitioners/{person.code}")).status_code == 500
        others = await client.get(f"/api/v1/practitioners/{other.code}/status")  # unaffected
        assert others.status_code == 200 and others.json()["status"] == "suspended"
        assert (await client.get(f"/practitioners/{other.code}")).status_code == 200
        assert (await client.get(f"/badge/{other.code}.svg")).status_code == 200


def test_the_daily_refresh_goes_on_past_a_person_whose_replay_fails(
    demo: Engine, logs: pytest.LogCaptureFixture
) -> None:
    broken, damaged, tampered = _people(demo, "suspended", 3)
    behind = _people(demo, "terminated", 2)  # malformed entries too, but rows that still read
    _malformed(demo, [broken, *behind])
    _set_timeline(demo, broken.id, "not json")  # its row cannot answer, its ledger neither
    _set_timeline(demo, damaged.id, _without_periods(damaged.timeline))  # rebuilt
    with demo.begin() as conn:  # a registration left behind: the refresh sets it right
        conn.execute(
            text("UPDATE registration SET status = 'normal' WHERE practitioner_id = :id"),
            {"id": tampered.id},
        )
    report = verify.refresh(demo, china_today())
    assert report.failed == sorted([broken.id, *(p.id for p in behind)])
    assert damaged.id in report.rebuilt and report.changed >= 1
    assert _row(demo, damaged.id) == (damaged.timeline, damaged.seq)
    with demo.connect() as conn:
        statuses = conn.execute(
            text("SELECT DISTINCT status FROM registration WHERE practitioner_id = :id"),
            {"id": tampered.id},
        ).all()
        assert statuses == [("suspended",)]
        for person in behind:  # the last good status stands
            assert conn.execute(
                text("SELECT DISTINCT status FROM registration WHERE practitioner_id = :id"),
                {"id": person.id},
            ).all() == [("terminated",)]
    tracebacks = [
        r for r in logs.records if r.exc_info and f"practitioner {broken.id}" in r.getMessage()
    ]
    assert tracebacks and tracebacks[0].levelno == logging.ERROR
    assert _warned(logs, damaged.id)
    assert verify.refresh_statuses(demo, china_today()) == 0  # and again: nothing stops it


def test_the_settlement_check_answers_from_the_ledger_past_a_damaged_row(
    demo: Engine, logs: pytest.LogCaptureFixture
) -> None:
    person = _people(demo, "suspended")[0]
    with Session(demo) as session:
        before = ledger.status_on(session, person.code, china_today())
    _set_timeline(demo, person.id, "[]")
    with Session(demo) as session:
        assert ledger.status_on(session, person.code, china_today()) == before
    assert any("damaged status_cache row" in r.getMessage() for r in logs.records)


def test_a_repair_does_not_wait_long_behind_a_writer(
    demo: Engine, logs: pytest.LogCaptureFixture
) -> None:
    """The fast reads run on the event loop: a repair that cannot get the lock at once
    answers from a replay and leaves the row to a later read."""
    person = _people(demo, "suspended")[0]
    reads = make_engine(_site_url(demo), reads=True)
    day = china_today()
    with reads.connect() as conn:
        expected = fast_status(conn, person.code, day)
    _set_timeline(demo, person.id, "not json")
    lock = "FOR UPDATE" if demo.dialect.name == "postgresql" else ""  # SQLite: BEGIN IMMEDIATE
    with demo.execution_options(sqlite_begin="IMMEDIATE").connect() as writer:
        writer.execute(
            text(f"SELECT id FROM practitioner WHERE id = :id {lock}"), {"id": person.id}
        )
        started = time.monotonic()
        with reads.connect() as conn:
            assert fast_status(conn, person.code, day) == expected
        assert time.monotonic() - started < 5
        writer.rollback()
    assert _row(demo, person.id) == ("not json", person.seq)  # not written: a later read will
    assert any(r.exc_info and f"practitioner {person.id}" in r.getMessage() for r in logs.records)
    with reads.connect() as conn:
        assert fast_status(conn, person.code, day) == expected
        if demo.dialect.name == "sqlite":  # the short wait was only for the repair's BEGIN
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    assert _row(demo, person.id) == (person.timeline, person.seq)
    reads.dispose()
