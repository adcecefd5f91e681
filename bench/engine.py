"""Engine throughput: N synthetic practitioner histories, evaluated on one core.

Each history has about 10 events over three years under one of the three provincial
rulesets. Printed side by side, from the same run on the same generated inputs:
  - baseline:  the time spent just loading the inputs (raw records → validated events);
  - 00ca26d:   the engine as it was at commit 00ca26d (a frozen copy in
               ``bench/baseline_engine/scoring_00ca26d``), evaluating them;
  - engine:    today's engine (``scoring``), evaluating them;
  - the ratio 00ca26d / today.
"Evaluating" is the timeline and the status on an as-of date. The two engines run in
alternating chunks, so that a machine that gets busier (or quieter) during the run weighs
on both alike. Afterwards every history is replayed by both and their answers compared
(outcomes with their explanations, statuses with theirs on the as-of date and on every day
with events, periods, year totals, warnings): any difference is a bug and exits 1.
Target (issue 2, and the issue after it): 100,000 histories evaluated in under 10 seconds,
and at least 2× faster than 00ca26d in the same run.

    python bench/engine.py [--histories 100000] [--seed 1] [--chunks 20]
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline_engine.scoring_00ca26d import cases as old_cases
from baseline_engine.scoring_00ca26d import engine as old_engine
from baseline_engine.scoring_00ca26d import rulesets as old_rulesets

from scoring.cases import read_event
from scoring.engine import evaluate
from scoring.model import Event
from scoring.rulesets import PractitionerRuleset, practitioner_ruleset

RULESET_IDS = ("hunan-2025", "anhui-2025", "hainan-2025")
RULESETS = [practitioner_ruleset(r) for r in RULESET_IDS]
FIRST_DAY = date(2025, 5, 1)
SPAN_DAYS = 3 * 365
AS_OF = date(2027, 6, 30)
TARGET_S = 10.0  # for 100,000 histories
TARGET_RATIO = 2.0

Loaded = list[tuple[Any, list[Any]]]  # (ruleset, events) of either engine


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


class Clock:
    """Wall-clock seconds (what the target is about) and this process's CPU seconds (less
    disturbed by other work on a busy machine), summed over the chunks of one engine."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0


def evaluate_all(
    engine: Callable[[Any, Any], Any], loaded: Loaded, statuses: dict[str, int], clock: Clock
) -> None:
    """The measured path: timeline and status on the as-of date for every history."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    for rs, events in loaded:
        status = engine(rs, events).status_on(AS_OF).status
        statuses[status] = statuses.get(status, 0) + 1
    clock.cpu += time.process_time() - cpu
    clock.wall += time.perf_counter() - wall


def _periods(timeline: Any, day: date | None = None) -> list[tuple[Any, ...]]:
    periods = timeline.periods if day is None else timeline.periods_on(day)
    return [
        (
            p.kind,
            p.start,
            p.end,
            p.reregister_from,
            p.decided_on,
            tuple(p.causes),
            p.restored_on,
            tuple(p.sources),
        )
        for p in periods
    ]


def answers(timeline: Any, days: Sequence[date]) -> dict[str, Any]:
    """Everything an engine answers for one history, in plain data."""
    return {
        "events": [o.to_json() for o in timeline.outcomes],
        "at": {d.isoformat(): timeline.status_on(d).to_json() for d in days},
        "periods": _periods(timeline),
        "periods_on": {d.isoformat(): _periods(timeline, d) for d in days},
        "totals": timeline.totals,
        "last_date": timeline.last_date,
        "warnings": list(timeline.warnings),
    }


def compare(old: Loaded, new: Loaded) -> int:
    """Replay every history with both engines; exit 1 on the first difference."""
    for n, ((old_rs, old_events), (rs, events)) in enumerate(zip(old, new, strict=True)):
        days = sorted({AS_OF, *(e.date for e in events), *(e.date - timedelta(1) for e in events)})
        want = answers(old_engine.evaluate(old_rs, old_events), days)
        got = answers(evaluate(rs, events), days)
        if got != want:
            for key in want:
                if got[key] != want[key]:
                    print(f"DIFFERENT ANSWERS for history {n} ({rs.id}), {key}:", file=sys.stderr)
                    print(f"  00ca26d: {want[key]}", file=sys.stderr)
                    print(f"  today:   {got[key]}", file=sys.stderr)
            print(f"  events: {events}", file=sys.stderr)
            raise SystemExit(1)
    return len(new)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--histories", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunks", type=int, default=20, help="alternations of the engines")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    raw = []
    for _ in range(args.histories):
        rs = rng.choice(RULESETS)
        raw.append((rs, raw_history(rng, rs)))
    n_events = sum(len(events) for _, events in raw)

    gc.collect()
    t0 = time.perf_counter()
    loaded: list[tuple[PractitionerRuleset, list[Event]]] = []
    for rs, events in raw:
        warnings: list[str] = []
        loaded.append((rs, [read_event(rs, e, "event", warnings) for e in events]))
    load_s = time.perf_counter() - t0

    # The frozen engine reads the same records into its own event classes (untimed).
    old_rs = {r: old_rulesets.practitioner_ruleset(r) for r in RULESET_IDS}
    old_loaded: Loaded = []
    for rs, events in raw:
        ors = old_rs[rs.id]
        old_loaded.append((ors, [old_cases.read_event(ors, e, "event", []) for e in events]))

    old, new = Clock(), Clock()
    old_statuses: dict[str, int] = {}
    new_statuses: dict[str, int] = {}
    size = -(-args.histories // max(1, args.chunks))
    for k, lo in enumerate(range(0, args.histories, size)):
        old_chunk, new_chunk = old_loaded[lo : lo + size], loaded[lo : lo + size]
        if k % 2 == 0:
            evaluate_all(old_engine.evaluate, old_chunk, old_statuses, old)
            evaluate_all(evaluate, new_chunk, new_statuses, new)
        else:
            evaluate_all(evaluate, new_chunk, new_statuses, new)
            evaluate_all(old_engine.evaluate, old_chunk, old_statuses, old)
    if old_statuses != new_statuses:
        print(f"DIFFERENT STATUSES: 00ca26d {old_statuses}, today {new_statuses}", file=sys.stderr)
        raise SystemExit(1)
    checked = compare(old_loaded, loaded)

    n = args.histories
    ratio = old.wall / new.wall
    target_s = TARGET_S * n / 100_000
    print(f"histories: {n:,}  events: {n_events:,}  as of {AS_OF}")
    print(f"statuses:  {dict(sorted(new_statuses.items()))}")
    print(f"baseline (load inputs):     {load_s:7.2f} s  {n / load_s:>10,.0f} histories/s")
    for name, clock in (("engine 00ca26d (frozen): ", old), ("engine today (evaluate): ", new)):
        print(
            f"{name}   {clock.wall:7.2f} s  {n / clock.wall:>10,.0f} histories/s"
            f"  (CPU {clock.cpu:.2f} s)"
        )
    print(f"ratio 00ca26d / today:      {ratio:7.2f}×  (CPU {old.cpu / new.cpu:.2f}×)")
    print(
        f"answers: identical for all {checked:,} histories (outcomes, statuses on the as-of "
        "date and around every event day, periods, totals, warnings)"
    )
    met = ratio >= TARGET_RATIO and new.wall < target_s
    print(
        f"target: ≥ {TARGET_RATIO:g}× 00ca26d and {n:,} histories in < {target_s:g} s on one "
        f"core — {'meets' if met else 'MISSES'} it ({ratio:.2f}×, {new.wall:.2f} s)"
    )


if __name__ == "__main__":
    main()
