"""Registry and ledger at province scale, on SQLite and PostgreSQL.

Loads N demo practitioners (default 1,000,000), then measures, beside a baseline from the
same run (a bare primary-key select on the practitioner table):
  (a) status look-ups by national code per second (the public API's path);
  (b) recording a case per second (the officer's path: engine, ledger, cache, statuses);
  (c) `ledger verify` over the whole database.
Targets (issue 3): look-up within 2x of the bare select; verify of 1,000,000 under 5 minutes.

    python bench/ledger.py [--practitioners 1000000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, select, text

from portal.db import make_engine, session_scope, upgrade
from portal.models import Institution, Practitioner, table
from portal.services import verify
from portal.services.demo import generate
from portal.services.ledger import Finding, record_case
from portal.services.lookup import status_by_code
from portal.services.registry import Act

BENCH_SECRET = "bench-secret-not-for-production"

AS_OF = date(2026, 11, 1)
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def timed(label: str, n: int, seconds: float) -> float:
    rate = n / seconds
    print(f"  {label:<34} {rate:>10,.0f} /s   ({n:,} in {seconds:.2f} s)")
    return rate


def run(engine: Engine, n: int, lookups: int, cases: int) -> None:
    started = time.perf_counter()
    generate(engine, n, seed=1, as_of=AS_OF, secret=BENCH_SECRET)
    print(f"  load {n:,} practitioners with demo data: {time.perf_counter() - started:.1f} s")
    people = table(Practitioner)
    with engine.connect() as conn:
        ids = list(conn.execute(select(people.c.id)).scalars())
        codes = list(conn.execute(select(people.c.national_code)).scalars())
        rng = random.Random(2)
        sample_ids = [rng.choice(ids) for _ in range(lookups)]
        sample_codes = [rng.choice(codes) for _ in range(lookups)]
        by_id = select(people.c.id, people.c.national_code, people.c.name).where(
            people.c.id == text(":id")
        )
        for _ in range(2):  # warm both paths equally, then measure
            t0 = time.perf_counter()
            for pid in sample_ids:
                conn.execute(by_id, {"id": pid}).first()
            bare = time.perf_counter() - t0
            t0 = time.perf_counter()
            for code in sample_codes:
                found = status_by_code(conn, code, AS_OF)
                assert found is not None and found.national_code == code
            look = time.perf_counter() - t0
    base_rate = timed("baseline: bare primary-key select", lookups, bare)
    look_rate = timed("(a) status look-up by national code", lookups, look)
    print(f"      look-up costs {base_rate / look_rate:.2f}x the bare select (target <= 2x)")

    inst = table(Institution)
    with engine.connect() as conn:
        hospitals = [
            r for r in conn.execute(select(inst.c.id, inst.c.code).where(inst.c.kind == "hospital"))
        ]
        targets = list(
            conn.execute(
                select(people.c.national_code)
                .where(people.c.practice_type == "doctor")
                .order_by(people.c.id)
                .limit(cases * 3)
            ).scalars()
        )
    from portal.models import Registration

    regs = table(Registration)
    with engine.connect() as conn:
        home = dict(
            conn.execute(
                select(people.c.national_code, inst.c.code)
                .select_from(
                    people.join(regs, regs.c.practitioner_id == people.c.id).join(
                        inst, inst.c.id == regs.c.institution_id
                    )
                )
                .where(people.c.national_code.in_(targets))
            ).all()
        )
    assert hospitals
    act = Act("bench", datetime(2026, 11, 2, tzinfo=UTC), "基准测试")
    t0 = time.perf_counter()
    for k in range(cases):
        code = targets[k % len(targets)]
        with session_scope(engine, write=True) as session:
            record_case(
                session,
                act,
                institution_code=home[code],
                decision_type="agreement_action",
                legal_basis="服务协议",
                document_no=f"基准〔2026〕{uuid.uuid4().hex[:12]}号",
                decision_date=date(2026, 10, 1 + k % 28),
                amount=None,
                findings=[Finding(code, points=1 + k % 3)],
                as_of=AS_OF,
            )
    timed("(b) record a case (one person)", cases, time.perf_counter() - t0)

    t0 = time.perf_counter()
    report = verify.check(engine)
    took = time.perf_counter() - t0
    print(
        f"  (c) ledger verify: {took:.1f} s for {report.people:,} practitioners "
        f"({report.with_history:,} with a history), ok={report.ok} (target < 300 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--practitioners", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument("--cases", type=int, default=500)
    args = parser.parse_args()
    for backend in args.backends.split(","):
        print(f"== {backend}")
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
                upgrade(engine)
                run(engine, args.practitioners, args.lookups, args.cases)
                engine.dispose()
        else:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = make_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            engine = make_engine(PG_URL, schema=schema)
            try:
                upgrade(engine)
                run(engine, args.practitioners, args.lookups, args.cases)
            finally:
                engine.dispose()
                with admin.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()


if __name__ == "__main__":
    main()
