"""Status look-ups on the hot path: one indexed select, the answer from the cache.

Hospital registration pages ask thousands of times a second (spec/DESIGN.md "Scale"), so
this path uses a plain connection and no ORM objects. Dates before a person's last event
are answered by replaying the ledger (RULES §5.2 step 9), which claim checks need rarely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, bindparam, select

from portal.models import LedgerEntry, Practitioner, StatusCache, table
from portal.services import cache
from portal.services.ledger import replay_entries
from scoring.model import StatusOn

PEOPLE = table(Practitioner)
CACHE = table(StatusCache)
LEDGER = table(LedgerEntry)
_BY_CODE = (
    select(
        PEOPLE.c.id,
        PEOPLE.c.national_code,
        PEOPLE.c.name,
        PEOPLE.c.ruleset,
        PEOPLE.c.practice_type,
        PEOPLE.c.title,
    )
    .add_columns(CACHE.c.timeline)
    .select_from(PEOPLE.outerjoin(CACHE, CACHE.c.practitioner_id == PEOPLE.c.id))
    .where(PEOPLE.c.national_code == bindparam("code", type_=PEOPLE.c.national_code.type))
)
_LEDGER_OF = (
    select(LEDGER)
    .where(LEDGER.c.practitioner_id == bindparam("id", type_=LEDGER.c.practitioner_id.type))
    .order_by(LEDGER.c.id)
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


def status_by_code(conn: Connection, national_code: str, on: date) -> Found | None:
    """The person and their status on ``on``, or None for an unknown code."""
    row = conn.execute(_BY_CODE, {"code": national_code.strip().upper()}).first()
    if row is None:
        return None
    status = cache.cached_status(row.timeline, row.ruleset, on)
    if status is None:
        entries: list[Any] = list(conn.execute(_LEDGER_OF, {"id": row.id}))
        status = replay_entries(row.ruleset, entries).status_on(on)
    return Found(
        row.id, row.national_code, row.name, status, row.ruleset, row.practice_type, row.title
    )
