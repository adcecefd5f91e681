"""The public fast paths answer exactly like the full ones, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine, select

from portal.clock import china_today
from portal.models import Practitioner, table
from portal.services.demo import generate
from portal.services.public import fast_badge, fast_status, person
from tests.portal.conftest import SECRET


def test_fast_status_and_badge_equal_the_full_path(engine: Engine) -> None:
    generate(engine, 600, seed=4, as_of=china_today(), secret=SECRET)
    people = table(Practitioner)
    reads = engine.execution_options(isolation_level="AUTOCOMMIT")
    with reads.connect() as conn:
        codes = list(conn.execute(select(people.c.national_code)).scalars())
        for day in (china_today(), date(2025, 6, 1), china_today() + timedelta(days=400)):
            for code in codes:
                full = person(conn, code, day, decisions=False)
                assert full is not None
                assert fast_status(conn, code, day) == full.api(), (code, day)
                badge = fast_badge(conn, code, day)
                assert badge is not None and (badge[0], badge[1].status) == (
                    full.name,
                    full.status.status,
                )
        assert fast_status(conn, "D43019999999", china_today()) is None
        assert fast_badge(conn, "D43019999999", china_today()) is None
