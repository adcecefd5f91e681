"""The annual credit evaluation at province scale (SQLite by default).

Loads N demo practitioners (default 100,000) with their institutions, then times a preview
and a commit of the previous year over the whole province, and a re-run (nothing changed:
nothing written). Target (credit issue): 1,000,000 subjects under 2 minutes. With ``--url``
naming a database already loaded, the load is skipped (and a commit adds a run to it).

    python bench/credit.py [--practitioners 100000] [--url sqlite:///path.db]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, select

from portal.db import make_engine, upgrade
from portal.models import Practitioner, table
from portal.services import credit_evaluation as credit
from portal.services.demo import generate
from portal.services.registry import Act

BENCH_SECRET = "bench-secret-not-for-production"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--practitioners", type=int, default=100_000)
    parser.add_argument("--url", default="")
    parser.add_argument("--year", type=int, default=date.today().year - 1)
    args = parser.parse_args()
    url = args.url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'credit-bench.db'}"
    engine = make_engine(url)
    upgrade(engine, BENCH_SECRET)
    with engine.connect() as conn:
        loaded = conn.execute(select(func.count()).select_from(table(Practitioner))).scalar_one()
    if loaded:  # a database from an earlier run (--url): measured as it is
        print(f"reusing {loaded:,} practitioners")
    else:
        started = time.perf_counter()
        generate(engine, args.practitioners, seed=1, as_of=date.today(), secret=BENCH_SECRET)
        print(f"load {args.practitioners:,} practitioners: {time.perf_counter() - started:.1f} s")
    act = Act("bench", datetime.now(UTC), "bench")
    for label, work in (
        ("preview", lambda: credit.preview(engine, args.year)),
        ("commit", lambda: credit.commit(engine, act, args.year)),
        ("re-run (unchanged)", lambda: credit.commit(engine, act, args.year)),
    ):
        started = time.perf_counter()
        summary = work()
        took = time.perf_counter() - started
        print(
            f"{label:<20} {summary.total:>10,} subjects in {took:6.1f} s "
            f"({summary.total / took:,.0f}/s); written {summary.written:,}; "
            f"grades {dict(summary.grades)}"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
