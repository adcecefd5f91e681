"""Concurrent writers for one person never lose an event or leave the cache behind."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from portal.db import session_scope
from portal.models import LedgerEntry
from portal.services import verify
from portal.services.ledger import Finding, record_case, status_on
from tests.portal.conftest import OFFICER, Cast

WRITERS = 24


def test_many_concurrent_cases_for_one_doctor(engine: Engine, cast: Cast) -> None:
    def record(n: int) -> None:
        day = date(2025, 4, 1) + timedelta(days=n)
        with session_scope(engine, write=True) as session:
            record_case(
                session,
                OFFICER,
                institution_code=cast.hospital_a,
                decision_type="agreement_action",
                legal_basis="服务协议",
                document_no=f"并发〔2025〕{n}号",
                decision_date=day,
                amount=None,
                findings=[Finding(cast.doctor, points=1)],
                as_of=day,
            )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(record, range(WRITERS)))

    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(LedgerEntry)).one() == WRITERS
        last = date(2025, 4, 1) + timedelta(days=WRITERS)
        assert status_on(session, cast.doctor, last).year_points == WRITERS
    report = verify.check(engine)
    assert report.ok, report
