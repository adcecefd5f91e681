"""The status cache: a person's timeline summary, derived from the ledger.

It holds the periods and year totals after the person's last event. From that day on the
answer for any date follows from it alone; for earlier dates the ledger is replayed.
"""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from typing import Any

from scoring.engine import Timeline
from scoring.model import Period, StatusOn
from scoring.rulesets import practitioner_ruleset


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def encode(timeline: Timeline) -> str:
    """Canonical JSON: equal timelines give equal text (``ledger verify`` compares text)."""
    last = timeline.last_date
    data: dict[str, Any] = {
        "ruleset": timeline.ruleset.id,
        "last": _iso(last),
        "periods": [
            {
                "kind": p.kind,
                "start": _iso(p.start),
                "end": _iso(p.end),
                "reregister_from": _iso(p.reregister_from),
                "decided_on": _iso(p.decided_on),
                "restored_on": _iso(p.restored_on),
                "causes": list(p.causes),
                "sources": list(p.sources),
            }
            for p in timeline.periods
        ],
        "totals": [[d.isoformat(), t] for d, t in timeline.totals],
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def decode(text: str) -> Timeline:
    """A timeline that answers for dates on or after its ``last`` day."""
    data = json.loads(text)
    periods = tuple(
        Period(
            kind=p["kind"],
            start=date.fromisoformat(p["start"]),
            end=_day(p["end"]),
            reregister_from=_day(p["reregister_from"]),
            decided_on=date.fromisoformat(p["decided_on"]),
            causes=tuple(p["causes"]),
            restored_on=_day(p["restored_on"]),
            sources=tuple(p.get("sources", ())),
        )
        for p in data["periods"]
    )
    last = _day(data["last"])
    snapshots = [(last, periods)] if last else []
    totals = [(date.fromisoformat(d), t) for d, t in data["totals"]]
    return Timeline(practitioner_ruleset(data["ruleset"]), [], snapshots, totals, [])


@lru_cache(maxsize=4096)
def _no_history(ruleset_id: str, day: date) -> StatusOn:
    return Timeline(practitioner_ruleset(ruleset_id), [], [], [], []).status_on(day)


def cached_status(text: str | None, ruleset_id: str, day: date) -> StatusOn | None:
    """The status on ``day`` from the cache, or None when ``day`` needs a replay."""
    if not text:
        return _no_history(ruleset_id, day)  # most people: no history, normal
    timeline = decode(text)
    if timeline.last_date is not None and day < timeline.last_date:
        return None
    return timeline.status_on(day)
