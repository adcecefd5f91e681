"""The status cache: a person's timeline summary, derived from the ledger.

It holds the periods and year totals after the person's last event. From that day on the
answer for any date follows from it alone; for earlier dates the ledger is replayed.

A row can be damaged (hand edits, a restore gone wrong): text that is not JSON, JSON of the
wrong shape, or a row behind the ledger. Reading it raises ``Damaged`` (cheaply: a parse
failure or a wrong type while decoding), and the readers rebuild the row from the ledger
(``portal.services.lookup``); the ledger is the truth, the cache only a copy.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from functools import lru_cache
from typing import Any

from scoring.engine import Timeline
from scoring.model import STATUS_OF_KIND, Period, StatusOn
from scoring.rulesets import practitioner_ruleset

log = logging.getLogger(__name__)
# What decoding a row of the wrong shape raises (json.JSONDecodeError is a ValueError).
DECODE_ERRORS = (ValueError, KeyError, TypeError, AttributeError, IndexError)


class Damaged(ValueError):
    """A status_cache row that cannot be read as it stands; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text is not None else None


def _texts(items: Any) -> tuple[str, ...]:
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise TypeError(f"expected a list of strings, got {items!r}")
    return tuple(items)


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


def _decode(text: str) -> Timeline:
    data = json.loads(text)
    periods = []
    for p in data["periods"]:
        if p["kind"] not in STATUS_OF_KIND:
            raise ValueError(f"unknown period kind {p['kind']!r}")
        periods.append(
            Period(
                kind=p["kind"],
                start=date.fromisoformat(p["start"]),
                end=_day(p["end"]),
                reregister_from=_day(p["reregister_from"]),
                decided_on=date.fromisoformat(p["decided_on"]),
                causes=_texts(p["causes"]),
                restored_on=_day(p["restored_on"]),
                sources=_texts(p.get("sources", [])),
            )
        )
    last = _day(data["last"])
    snapshots = [(last, tuple(periods))] if last else []
    totals = []
    for d, t in data["totals"]:
        if type(t) is not int:
            raise TypeError(f"year total {t!r} is not a whole number")
        totals.append((date.fromisoformat(d), t))
    return Timeline(practitioner_ruleset(data["ruleset"]), [], snapshots, totals, [])


def decode(text: str) -> Timeline:
    """A timeline that answers for dates on or after its ``last`` day (``Damaged`` when the
    text is not a timeline this module wrote)."""
    try:
        return _decode(text)
    except DECODE_ERRORS as exc:
        raise Damaged(f"timeline unreadable: {type(exc).__name__}: {exc}"[:300]) from exc


@lru_cache(maxsize=4096)
def _no_history(ruleset_id: str, day: date) -> StatusOn:
    return Timeline(practitioner_ruleset(ruleset_id), [], [], [], []).status_on(day)


def timeline_for(text: str, ruleset_id: str) -> Timeline:
    """``decode``, and the row must be of the person's ruleset (``Damaged`` otherwise)."""
    timeline = decode(text)
    if timeline.ruleset.id != ruleset_id:
        raise Damaged(f"timeline of ruleset {timeline.ruleset.id!r}, person under {ruleset_id!r}")
    return timeline


def read_status(text: str | None, ruleset_id: str, day: date) -> StatusOn | None:
    """The status on ``day`` from a cache row's ``timeline`` (None: no row, no history), or
    None when ``day`` needs a replay. Raises ``Damaged`` for a row that cannot be read."""
    if text is None:
        return _no_history(ruleset_id, day)  # most people: no history, normal
    timeline = timeline_for(text, ruleset_id)
    if timeline.last_date is not None and day < timeline.last_date:
        return None
    try:
        return timeline.status_on(day)
    except DECODE_ERRORS as exc:  # e.g. a period whose dates do not make one
        raise Damaged(f"timeline unusable: {type(exc).__name__}: {exc}"[:300]) from exc


def cached_status(text: str | None, ruleset_id: str, day: date) -> StatusOn | None:
    """The status on ``day`` from the cache, or None when ``day`` needs a replay — also when
    the row is damaged (logged), so a caller that replays on None answers from the ledger.
    The public read paths use ``read_status`` and rebuild the row (``lookup``)."""
    try:
        return read_status(text or None, ruleset_id, day)
    except Damaged as exc:
        log.warning("damaged status_cache row (%s): answering from the ledger", exc.reason)
        return None
