# ruff: noqa
# mypy: ignore-errors
# Frozen copy of scoring/model.py at commit 00ca26d (git archive), imports made relative.
# The baseline of bench/engine.py: do not edit.
"""The engine's inputs (events) and outputs (outcomes, periods, statuses).

Events are what officers record: scores, repairs, restorations, appeals and shortenings.
Everything else — year points, periods, statuses, measures — is derived from them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from .rulesets import PeriodKind

Status = Literal["normal", "suspended", "terminated", "cancelled"]
STATUS_OF_KIND: dict[PeriodKind, Status] = {
    "suspension": "suspended",
    "termination": "terminated",
    "cancellation": "cancelled",
}


@dataclass(frozen=True, slots=True)
class Score:
    """Points recorded against one person by one decision (RULES §3, §4)."""

    date: dt.date
    points: int
    case: str | None = None  # events sharing a case are one decision (RULES I-5)
    violation: str | None = None  # same case + violation: only the highest counts (§3.3)
    effective: dt.date | None = None  # start of a resulting period stated by the notice (I-6)
    cancels: bool = False  # qualification cancelled at once (RULES I-3)
    explain: str = ""


@dataclass(frozen=True, slots=True)
class Repair:
    """An approved repair application (RULES §7)."""

    date: dt.date
    route: str
    param: str | int | None = None


@dataclass(frozen=True, slots=True)
class Restore:
    """A restoration approved on ``date`` for an application made on ``applied`` (I-12).

    National-Procedure Art. 39 ("期满前15个工作日，可…提出"), Hunan-Rules Art. 13 and
    Anhui-Rules Art. 29 ("期满，由相关人员提出") time the *application*; without ``applied``
    the application is taken to be on the approval date.
    """

    date: dt.date
    applied: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Appeal:
    """An upheld appeal: ``points`` replace the target case's points from the start (I-13)."""

    date: dt.date
    target: str | int  # a case id, or an event index standing for that event's case
    points: int


@dataclass(frozen=True, slots=True)
class Shorten:
    """An approved shortening of the period in force: ``end`` is its new last day (§7)."""

    date: dt.date
    end: dt.date


@dataclass(frozen=True, slots=True)
class Linked:
    """A restriction that follows the institution's agreement action (RULES §5.4)."""

    date: dt.date
    kind: Literal["suspension", "termination"]
    start: dt.date
    end: dt.date | None = None  # last day of a linked suspension
    cause: str = ""


Event = Score | Repair | Restore | Appeal | Shorten | Linked


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one input event, and why."""

    index: int
    type: str
    points: int | None = None
    counted: bool | None = None
    granted: int | None = None
    accepted: bool | None = None
    reason: str | None = None
    effective: dt.date | None = None
    explain: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index}
        if self.type == "score":
            out.update(points=self.points, counted=self.counted)
        elif self.type == "repair":
            out.update(granted=self.granted or 0, accepted=bool(self.accepted))
            if not self.accepted:
                out["reason"] = self.reason
        else:
            out["accepted"] = self.accepted
            if self.type == "restore":
                out["effective"] = self.effective.isoformat() if self.effective else None
            if not self.accepted:
                out["reason"] = self.reason
        out["explain"] = self.explain
        return out


@dataclass(frozen=True, slots=True)
class Period:
    """A suspension, termination or cancellation and where it came from."""

    kind: PeriodKind
    start: dt.date
    end: dt.date | None  # last day of a suspension
    reregister_from: dt.date | None  # first day registration is allowed again (termination)
    decided_on: dt.date
    causes: tuple[str, ...]
    restored_on: dt.date | None = None  # the day the person is normal again (I-12)
    sources: tuple[str, ...] = ()  # the case ids (or event labels) that made or extended it

    def last_day(self) -> date | None:
        if self.kind == "suspension":
            return self.end
        if self.kind == "termination" and self.reregister_from is not None:
            return self.reregister_from - timedelta(days=1)
        return None

    def in_force(self, day: date) -> bool:
        """Started and not yet restored: I-8 keeps an ended period in force until restoration."""
        return self.start <= day and (self.restored_on is None or day < self.restored_on)


@dataclass(frozen=True, slots=True)
class StatusOn:
    """The status in force on one date, as things stood that day (RULES §5.2 step 9)."""

    on: dt.date
    status: Status
    period_start: dt.date | None
    period_end: dt.date | None
    reregister_from: dt.date | None
    restoration_pending: bool
    year_points: int
    measure: str
    payable: bool
    emergency_payable: bool
    explain: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        def iso(d: date | None) -> str | None:
            return d.isoformat() if d else None

        return {
            "year_points": self.year_points,
            "status": self.status,
            "period_start": iso(self.period_start),
            "period_end": iso(self.period_end),
            "reregister_from": iso(self.reregister_from),
            "restoration_pending": self.restoration_pending,
            "measure": self.measure,
            "payable": self.payable,
            "emergency_payable": self.emergency_payable,
            "explain": list(self.explain),
        }
