"""The public site under load, from another process on loopback (wrk).

Serves N demo practitioners (default 1,000,000) with the production settings (uvicorn,
uvloop, httptools, no access log, PORTAL_WORKERS processes) and, in the same run, a bare
Litestar endpoint returning a constant under the same settings. Reports requests per
second and latency percentiles for: the bare endpoint, the badge, the status API, a 304 on
the badge and search; and, from one client asking one request after another, the time of a
page of the disclosures feed and of a batch of 1,000 codes (each of codes not asked
before) beside a bare request's time. The database file is read through before each run
(this VM pages cold memory out).
Targets (issue 16): status API and badge at >= 70% of the bare endpoint's throughput on
the cold mix (20,000 random doctors), p99 < 20 ms; a batch of 1,000 under 150 ms; a feeds
page under 20 ms (p95); search p95 < 100 ms.

    python bench/public.py [--practitioners 1000000] [--db FILE] [--seconds 10]
                           [--connections 32] [--workers 1]

Needs Debian's wrk (`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import select

from portal.clock import china_today
from portal.db import make_engine, upgrade
from portal.models import Practitioner, table
from portal.services.demo import generate
from portal.services.verify import refresh_statuses
from portal.settings import RATE_LIMITS

BENCH_SECRET = "bench-secret-not-for-production"

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait(url: str) -> None:
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


def wrk(
    url: str, paths: list[str], seconds: int, connections: int, etag: str = ""
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(paths))
    env = {**os.environ, "PATHS_FILE": f.name, "IF_NONE_MATCH": etag}
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(HERE / "wrk.lua"),
            url,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    n, micros, p50, p95, p99, bad, timeouts = line.split()[1:]
    return {
        "rps": int(n) / (int(micros) / 1e6),
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "errors": int(bad) + int(timeouts),
    }


def feed_cursors(base: str, pages: int = 50) -> list[str]:
    """Pages of the disclosures feed as a platform syncing it asks for them: from the
    start, then each ``next``."""
    paths: list[str] = []
    url = f"{base}/feeds/disclosures.json?since=0&limit=100"
    while url and len(paths) < pages:
        paths.append(url.removeprefix(base))
        with urllib.request.urlopen(url) as answer:
            url = json.load(answer)["next"]
            url = url and base + url[url.index("/feeds/") :]
    return paths


def warm(db: Path) -> None:
    """Read the database file once, so that the look-ups find it in memory."""
    with db.open("rb") as f:
        while f.read(1 << 24):
            pass


def batch_times(port: int, work: list[str], batches: int = 0) -> tuple[float, float]:
    """(median, p95) milliseconds of requests on one connection, one after another: with
    ``batches``, that many batches of 1,000 of the codes in ``work`` (each code once);
    else a GET of each path in ``work``."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    times = []
    for i in range(batches or len(work)):
        started = time.perf_counter()
        if batches:
            body = json.dumps({"codes": work[i * 1000 : (i + 1) * 1000]})
            conn.request("POST", "/api/v1/status:batch", body, {"Content-Type": "application/json"})
        else:
            conn.request("GET", work[i])
        answer = conn.getresponse()
        answer.read()
        assert answer.status == 200, answer.status
        times.append((time.perf_counter() - started) * 1000)
    conn.close()
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--practitioners", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None, help="reuse (or create) this file")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    db = args.db or Path(tempfile.mkdtemp()) / "public.db"
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    upgrade(engine)
    people = table(Practitioner)
    with engine.connect() as conn:
        have = conn.execute(select(people.c.id).limit(1)).first() is not None
    if not have:
        started = time.perf_counter()
        generate(engine, args.practitioners, seed=1, as_of=china_today(), secret=BENCH_SECRET)
        refresh_statuses(engine, china_today())
        print(
            f"loaded {args.practitioners:,} demo practitioners "
            f"in {time.perf_counter() - started:.0f} s"
        )
    rng = random.Random(3)
    with engine.connect() as conn:
        total = conn.execute(select(people.c.id).order_by(people.c.id.desc()).limit(1)).scalar_one()
        ids = [rng.randint(1, total) for _ in range(20_000)]
        codes = list(
            conn.execute(select(people.c.national_code).where(people.c.id.in_(ids))).scalars()
        )
        names = list(
            conn.execute(select(people.c.name).where(people.c.id.in_(ids[:2000]))).scalars()
        )
    engine.dispose()
    print(f"{total:,} practitioners; {len(codes):,} codes and {len(names):,} names sampled")

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PORTAL_SECRET": BENCH_SECRET,
        "PORTAL_WORKERS": str(args.workers),
        **{name: "100000000" for name, _d, _w in RATE_LIMITS.values()},
    }
    portal_port, bare_port = free_port(), free_port()
    portal = subprocess.Popen(
        [str(Path(sys.executable).with_name("portal")), "serve", "--port", str(portal_port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bare = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bare_app:app",
            "--port",
            str(bare_port),
            "--workers",
            str(args.workers),
            "--no-access-log",
            "--log-level",
            "warning",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
        ],
        cwd=HERE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{portal_port}"
        wait(base + "/healthz")
        wait(f"http://127.0.0.1:{bare_port}/")
        sample = codes[0]
        etag = urllib.request.urlopen(f"{base}/badge/{sample}.svg").headers["ETag"]
        hot = codes[:1000]  # the doctors on one district's registration pages
        feed_pages = feed_cursors(base)
        runs = [
            ("bare endpoint (baseline)", f"http://127.0.0.1:{bare_port}", ["/"], ""),
            ("badge, hot (1,000 doctors)", base, [f"/badge/{c}.svg" for c in hot], ""),
            ("status API, hot", base, [f"/api/v1/practitioners/{c}/status" for c in hot], ""),
            ("badge, cold (random)", base, [f"/badge/{c}.svg" for c in codes], ""),
            ("status API, cold", base, [f"/api/v1/practitioners/{c}/status" for c in codes], ""),
            ("badge 304 (If-None-Match)", base, [f"/badge/{sample}.svg"], etag),
            ("search", base, ["/search?q=" + urllib.parse.quote(n) for n in names], ""),
        ]
        results = {}
        for label, target, paths, tag in runs:
            warm(db)  # this VM pages cold memory out (DAMON): the database is read back first
            wrk(target, paths[:50], 2, args.connections, tag)  # warm up
            results[label] = wrk(target, paths, args.seconds, args.connections, tag)
        bare_rps = results["bare endpoint (baseline)"]["rps"]
        print(
            f"\nwrk -t1 -c{args.connections} -d{args.seconds}s on loopback; "
            f"{args.workers} worker(s) per server"
        )
        print(
            f"{'route':<28}{'req/s':>10}{'of bare':>9}{'p50 ms':>9}{'p95 ms':>9}"
            f"{'p99 ms':>9}{'errors':>8}"
        )
        for label, r in results.items():
            print(
                f"{label:<28}{r['rps']:>10,.0f}{r['rps'] / bare_rps:>8.0%}{r['p50']:>9.2f}"
                f"{r['p95']:>9.2f}{r['p99']:>9.2f}{r['errors']:>8.0f}"
            )
        warm(db)
        batch = batch_times(portal_port, codes[2000:], 15)
        bare_ms = batch_times(bare_port, ["/"] * 100)
        feed = batch_times(portal_port, feed_pages * 2)
        print(
            f"\none client, one request after another: a bare request median "
            f"{bare_ms[0]:.2f} ms (p95 {bare_ms[1]:.2f}); a feeds page of 100 items median "
            f"{feed[0]:.2f} ms (p95 {feed[1]:.2f}); a batch of 1,000 codes (15 batches of "
            f"codes not asked before) median {batch[0]:.1f} ms (p95 {batch[1]:.1f})"
        )
        cold = ("badge, cold (random)", "status API, cold")
        ok_status = all(
            results[k]["rps"] >= 0.7 * bare_rps and results[k]["p99"] < 20 for k in cold
        )
        print(
            "\nstatus API and badge (cold) >= 70% of bare with p99 < 20 ms: "
            f"{'met' if ok_status else 'NOT met'}; batch of 1,000 < 150 ms: "
            f"{'met' if batch[0] < 150 else 'NOT met'}; feeds page p95 < 20 ms: "
            f"{'met' if feed[1] < 20 else 'NOT met'}; "
            f"search p95 < 100 ms: {'met' if results['search']['p95'] < 100 else 'NOT met'}"
        )
    finally:
        portal.terminate()
        bare.terminate()
        portal.wait(timeout=10)
        bare.wait(timeout=10)


if __name__ == "__main__":
    main()
