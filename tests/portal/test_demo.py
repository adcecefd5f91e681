"""Demo data: deterministic, realistic, every status present, and the ledger verifies."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select
from sqlmodel import Session

from portal.identifiers import check_credit_code, check_national_code
from portal.models import Institution, Practitioner, Registration
from portal.services import verify
from portal.services.demo import generate
from tests.portal.conftest import SECRET


def test_demo_data_has_every_status_and_verifies(engine: Engine) -> None:
    summary = generate(engine, 1500, seed=3, as_of=date(2026, 11, 1), secret=SECRET)
    assert summary.practitioners == 1500
    assert {"normal", "suspended", "terminated"} <= set(summary.statuses)
    assert summary.decisions > 0 and summary.notices == summary.decisions
    report = verify.check(engine)
    assert report.ok and report.with_history > 100
    with Session(engine) as session:
        codes = session.execute(select(Practitioner.national_code)).scalars().all()
        credit = session.execute(select(Institution.credit_code)).scalars().all()
        multi = session.execute(
            select(Registration.id).where(Registration.multi_site.is_(True))  # type: ignore[attr-defined]
        ).all()
    assert len(set(codes)) == 1500
    assert all(check_national_code(c) == c for c in codes)
    assert all(check_credit_code(c) == c for c in credit)
    assert multi, "some doctors practise at several sites"


def test_the_same_seed_gives_the_same_people(engine: Engine, tmp_path: object) -> None:
    from portal.db import make_engine, upgrade

    other = make_engine(f"sqlite:///{tmp_path}/other.db")  # type: ignore[str-bytes-safe]
    upgrade(other)
    generate(engine, 200, seed=9, as_of=date(2026, 11, 1), secret=SECRET)
    generate(other, 200, seed=9, as_of=date(2026, 11, 1), secret=SECRET)

    def people(e: Engine) -> list[tuple[str, str, str]]:
        with Session(e) as s:
            rows = s.execute(
                select(
                    Practitioner.national_code, Practitioner.name, Practitioner.id_digest
                ).order_by(Practitioner.national_code)
            ).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]

    assert people(engine) == people(other)
    other.dispose()
