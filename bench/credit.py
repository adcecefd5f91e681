"""The annual credit evaluation at province scale, on SQLite or PostgreSQL.

Loads demo practitioners with their institutions (``--subjects``, default 1,000,000
subjects: practitioners plus the designated hospitals and pharmacies the demo gives them;
practitioners carry points from the ledger, institutions their agreement actions and
penalties), then, in the same run:

- baseline: the time to just read the evaluation's inputs (every input table streamed
  once, the columns the evaluation reads, nothing computed);
- a preview of the previous year over the whole province (nothing written);
- a commit (one transaction, every result written);
- a re-run of the commit (nothing changed: nothing written).

Each step prints subjects per second, the process's CPU time and its peak RSS so far
(memory flat: the evaluation streams in batches, it never holds the province).
Target (credit issue): 1,000,000 subjects under 2 minutes on either database.

    python bench/credit.py [--subjects 1000000] [--database-url URL]

``--database-url postgresql://...`` runs in a fresh schema of that database, dropped at the
end; a SQLite URL naming a database already loaded is measured as it is (the load is
skipped, and a commit adds a run to it); without a URL, a throw-away SQLite file.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from portal.db import make_engine, upgrade
from portal.models import (
    AgreementAction,
    CreditConsultation,
    CreditFact,
    CreditResult,
    Decision,
    Institution,
    Practitioner,
    Registration,
    StatusCache,
    table,
)
from portal.services import credit_evaluation as credit
from portal.services.demo import generate
from portal.services.registry import Act

BENCH_SECRET = "bench-secret-not-for-production"
# The demo gives one hospital per 150 practitioners and one pharmacy per 100.
SUBJECTS_PER_PRACTITIONER = 1 + 1 / 150 + 1 / 100


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def cpu_s() -> float:
    """This process's CPU time (user + system): what a step costs whatever the load."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def read_inputs(engine: Engine) -> int:
    """Stream every input of the evaluation once (the baseline): rows read."""
    people, regs, places = table(Practitioner), table(Registration), table(Institution)
    reads = [
        select(people.c.id, people.c.national_code, people.c.region, people.c.practice_type,
               people.c.ruleset).order_by(people.c.id),
        select(regs.c.practitioner_id, regs.c.institution_id, regs.c.registered_on,
               regs.c.deregistered_on, regs.c.commitment_signed_on, places.c.kind)
        .join(places, places.c.id == regs.c.institution_id),
        select(table(StatusCache).c.practitioner_id, table(StatusCache).c.timeline),
        select(places.c.id, places.c.code, places.c.region, places.c.kind),
        select(table(Decision).c.institution_id, table(Decision).c.decision_type,
               table(Decision).c.decision_date),
        select(table(AgreementAction)),
        select(table(CreditFact)),
        select(table(CreditConsultation)),
    ]  # fmt: skip
    n = 0
    with engine.connect() as conn:
        for query in reads:
            result = conn.execution_options(stream_results=True, yield_per=5000).execute(query)
            for part in result.partitions():
                n += len(part)
    return n


def measure(engine: Engine, subjects: int, year: int, load: bool) -> None:
    backend = engine.dialect.name
    print(f"== {backend}; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if load:
        practitioners = math.ceil(subjects / SUBJECTS_PER_PRACTITIONER)
        started = time.perf_counter()
        generate(engine, practitioners, seed=1, as_of=date.today(), secret=BENCH_SECRET)
        print(f"load {practitioners:,} practitioners: {time.perf_counter() - started:.1f} s")
    with engine.connect() as conn:
        total = credit.count_subjects(engine, credit.PROVINCE)
        results = conn.execute(select(func.count()).select_from(table(CreditResult))).scalar()
    stored = results or 0
    print(f"{total:,} subjects ({stored:,} results already stored); RSS {peak_rss_mb():.0f} MB")
    act = Act("bench", datetime.now(UTC), "基准测试")
    started, cpu = time.perf_counter(), cpu_s()
    rows = read_inputs(engine)
    took = time.perf_counter() - started
    print(
        f"{'baseline: read inputs':<22} {total:>10,} subjects in {took:6.1f} s "
        f"({total / took:,.0f}/s; {rows:,} rows; CPU {cpu_s() - cpu:.1f} s); "
        f"peak RSS {peak_rss_mb():.0f} MB"
    )
    steps: list[tuple[str, Callable[[], credit.Summary]]] = [
        ("preview", lambda: credit.preview(engine, year)),
        ("commit", lambda: credit.commit(engine, act, year)),
        ("re-run (unchanged)", lambda: credit.commit(engine, act, year)),
    ]
    for label, work in steps:
        started, cpu = time.perf_counter(), cpu_s()
        summary = work()
        took = time.perf_counter() - started
        print(
            f"{label:<22} {summary.total:>10,} subjects in {took:6.1f} s "
            f"({summary.total / took:,.0f}/s; CPU {cpu_s() - cpu:.1f} s); "
            f"written {summary.written:,}; "
            f"grades {dict(sorted(summary.grades.items()))}; held {summary.held_count:,}; "
            f"excluded {sum(summary.excluded_reasons.values()):,}; "
            f"peak RSS {peak_rss_mb():.0f} MB"
        )
    print(f"load average at the end {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--database-url", "--url", dest="url", default="")
    parser.add_argument("--year", type=int, default=date.today().year - 1)
    args = parser.parse_args()
    if args.url and make_url(args.url).get_backend_name() == "postgresql":
        schema = f"bench_credit_{uuid.uuid4().hex[:8]}"
        admin = make_engine(args.url)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine = make_engine(args.url, schema=schema)
        try:
            upgrade(engine, BENCH_SECRET)
            measure(engine, args.subjects, args.year, load=True)
        finally:
            engine.dispose()
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
        return
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(args.url or f"sqlite:///{Path(folder) / 'credit-bench.db'}")
        upgrade(engine, BENCH_SECRET)
        with engine.connect() as conn:
            people = select(func.count()).select_from(table(Practitioner))
            loaded = conn.execute(people).scalar_one()
        if loaded:
            print(f"reusing {loaded:,} practitioners")
        measure(engine, args.subjects, args.year, load=not loaded)
        engine.dispose()


if __name__ == "__main__":
    main()
