"""Engine throughput: N synthetic practitioner histories, evaluated on one core.

Each history has about 10 events over three years under one of the three provincial
rulesets. Printed side by side, from the same run:
  - baseline: the time spent just loading the inputs (raw records → validated events);
  - engine:   the time spent evaluating them (timeline + status on an as-of date).
Target (issue 2): 100,000 histories evaluated in under 10 seconds.

    python bench/engine.py [--histories 100000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta
from typing import Any

from scoring.cases import read_event
from scoring.engine import evaluate
from scoring.model import Event
from scoring.rulesets import PractitionerRuleset, practitioner_ruleset

RULESETS = [practitioner_ruleset(r) for r in ("hunan-2025", "anhui-2025", "hainan-2025")]
FIRST_DAY = date(2025, 5, 1)
SPAN_DAYS = 3 * 365
AS_OF = date(2027, 6, 30)


def raw_history(rng: random.Random, rs: PractitionerRuleset) -> list[dict[str, Any]]:
    """About 10 events as an officer would record them (dates as text, as from a form)."""
    days = sorted(rng.randrange(SPAN_DAYS) for _ in range(rng.randint(7, 13)))
    events: list[dict[str, Any]] = []
    routes = sorted(rs.routes)
    for n, offset in enumerate(days):
        day = (FIRST_DAY + timedelta(days=offset)).isoformat()
        roll = rng.random()
        if roll < 0.55:
            event: dict[str, Any] = {"type": "score", "date": day, "case": f"C{n}"}
            if rng.random() < 0.5:
                event.update(tier=rng.randint(1, 3), responsibility=rng.choice(["general", "main"]))
            else:
                event["points"] = rng.randint(1, 6)
        elif roll < 0.8:
            route = rs.routes[rng.choice(routes)]
            event = {"type": "repair", "date": day, "route": route.id}
            if route.param == "score":
                event["score"] = rng.randint(60, 100)
            elif route.param == "points":
                event["points"] = 1
            elif route.param is not None:
                event[route.param] = rng.choice(route.choices())
        elif roll < 0.95:
            event = {"type": "restore", "date": day}
        else:
            event = {"type": "appeal", "date": day, "target": "C0", "points": rng.randint(0, 3)}
        events.append(event)
    if events[0]["type"] != "score":
        events[0] = {"type": "score", "date": events[0]["date"], "case": "C0", "points": 3}
    else:
        events[0]["case"] = "C0"
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--histories", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    raw = []
    for _ in range(args.histories):
        rs = rng.choice(RULESETS)
        raw.append((rs, raw_history(rng, rs)))
    n_events = sum(len(events) for _, events in raw)

    t0 = time.perf_counter()
    loaded: list[tuple[PractitionerRuleset, list[Event]]] = []
    for rs, events in raw:
        warnings: list[str] = []
        loaded.append((rs, [read_event(rs, e, "event", warnings) for e in events]))
    load_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    statuses: dict[str, int] = {}
    for rs, events in loaded:
        status = evaluate(rs, events).status_on(AS_OF).status
        statuses[status] = statuses.get(status, 0) + 1
    eval_s = time.perf_counter() - t0

    print(f"histories: {args.histories:,}  events: {n_events:,}  as of {AS_OF}")
    print(f"statuses:  {dict(sorted(statuses.items()))}")
    print(f"baseline (load inputs): {load_s:7.2f} s  {args.histories / load_s:>10,.0f} histories/s")
    print(f"engine (evaluate):      {eval_s:7.2f} s  {args.histories / eval_s:>10,.0f} histories/s")
    verdict = "meets" if eval_s < 10 * args.histories / 100_000 else "MISSES"
    print(f"target: 100,000 histories in < 10 s on one core — {verdict} it")


if __name__ == "__main__":
    main()
