"""The engine's inputs (events) and outputs (outcomes, periods, statuses).

Events are what officers record: scores, repairs, restorations, appeals and shortenings.
Everything else — year points, periods, statuses, measures — is derived from them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from scoring.rulesets import PeriodKind

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


Why = tuple[Any, ...]
"""An explanation kept as its pieces, ``(function, *arguments)``, and written when read.

The replay says why it decided as it did for every event, period and status, but most
answers are used without their explanations (a status look-up, a settlement check, a
cache): keeping the pieces and writing the text when it is first read spares the replay
most of its string work (README, "Speed"). The text is the same either way.
"""

_new = object.__new__


def written(why: str | Why) -> str:
    """The text of an explanation, written now if it was kept as pieces."""
    if isinstance(why, str):
        return why
    text: str = why[0](*why[1:])
    return text


class Outcome:
    """What happened to one input event, and why (read-only; ``explain`` written when read)."""

    __slots__ = (
        "_accepted",
        "_counted",
        "_effective",
        "_granted",
        "_index",
        "_points",
        "_reason",
        "_type",
        "_why",
    )
    __match_args__ = (
        "index", "type", "points", "counted", "granted", "accepted", "reason", "effective",
        "explain",
    )  # fmt: skip

    def __init__(
        self,
        index: int,
        type: str,
        points: int | None = None,
        counted: bool | None = None,
        granted: int | None = None,
        accepted: bool | None = None,
        reason: str | None = None,
        effective: dt.date | None = None,
        explain: str = "",
    ) -> None:
        self._index = index
        self._type = type
        self._points = points
        self._counted = counted
        self._granted = granted
        self._accepted = accepted
        self._reason = reason
        self._effective = effective
        self._why: str | Why = explain

    @property
    def index(self) -> int:
        return self._index

    @property
    def type(self) -> str:
        return self._type

    @property
    def points(self) -> int | None:
        return self._points

    @property
    def counted(self) -> bool | None:
        return self._counted

    @property
    def granted(self) -> int | None:
        return self._granted

    @property
    def accepted(self) -> bool | None:
        return self._accepted

    @property
    def reason(self) -> str | None:
        return self._reason

    @property
    def effective(self) -> dt.date | None:
        return self._effective

    @property
    def explain(self) -> str:
        why = self._why
        if isinstance(why, str):
            return why
        text = self._why = written(why)
        return text

    def _fields(self) -> tuple[Any, ...]:
        return (
            self._index, self._type, self._points, self._counted, self._granted, self._accepted,
            self._reason, self._effective, self.explain,
        )  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Outcome)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return _repr(self, self.__match_args__, self._fields())

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, self._fields())

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self._index}
        if self._type == "score":
            out.update(points=self._points, counted=self._counted)
        elif self._type == "repair":
            out.update(granted=self._granted or 0, accepted=bool(self._accepted))
            if not self._accepted:
                out["reason"] = self._reason
        else:
            out["accepted"] = self._accepted
            if self._type == "restore":
                out["effective"] = self._effective.isoformat() if self._effective else None
            if not self._accepted:
                out["reason"] = self._reason
        out["explain"] = self.explain
        return out


def lazy_outcome(
    index: int,
    type: str,
    points: int | None,
    counted: bool | None,
    granted: int | None,
    accepted: bool | None,
    reason: str | None,
    effective: dt.date | None,
    why: str | Why,
    _new: Any = _new,
    _cls: type[Outcome] = Outcome,
) -> Outcome:
    """An :class:`Outcome` whose explanation may still be pieces (the replay's constructor)."""
    o: Outcome = _new(_cls)
    o._index = index
    o._type = type
    o._points = points
    o._counted = counted
    o._granted = granted
    o._accepted = accepted
    o._reason = reason
    o._effective = effective
    o._why = why
    return o


class Period:
    """A suspension, termination or cancellation and where it came from (read-only)."""

    __slots__ = (
        "_causes",
        "_decided_on",
        "_end",
        "_kind",
        "_reregister_from",
        "_restored_on",
        "_sources",
        "_start",
        "_why",
    )
    __match_args__ = (
        "kind", "start", "end", "reregister_from", "decided_on", "causes", "restored_on",
        "sources",
    )  # fmt: skip

    def __init__(
        self,
        kind: PeriodKind,
        start: dt.date,
        end: dt.date | None,  # last day of a suspension
        reregister_from: dt.date | None,  # first day registration is allowed again
        decided_on: dt.date,
        causes: tuple[str, ...],
        restored_on: dt.date | None = None,  # the day the person is normal again (I-12)
        sources: tuple[str, ...] = (),  # the case ids (or event labels) that made or extended it
    ) -> None:
        self._kind = kind
        self._start = start
        self._end = end
        self._reregister_from = reregister_from
        self._decided_on = decided_on
        self._why: tuple[str | Why, ...] = causes
        self._causes: tuple[str, ...] | None = causes
        self._restored_on = restored_on
        self._sources = sources

    @property
    def kind(self) -> PeriodKind:
        return self._kind

    @property
    def start(self) -> dt.date:
        return self._start

    @property
    def end(self) -> dt.date | None:
        """The last day of a suspension."""
        return self._end

    @property
    def reregister_from(self) -> dt.date | None:
        """The first day registration is allowed again (termination)."""
        return self._reregister_from

    @property
    def decided_on(self) -> dt.date:
        return self._decided_on

    @property
    def causes(self) -> tuple[str, ...]:
        causes = self._causes
        if causes is None:
            causes = self._causes = tuple([written(c) for c in self._why])
        return causes

    @property
    def restored_on(self) -> dt.date | None:
        """The day the person is normal again (I-12)."""
        return self._restored_on

    @property
    def sources(self) -> tuple[str, ...]:
        """The case ids (or event labels) that made or extended it."""
        return self._sources

    def last_day(self) -> date | None:
        if self._kind == "suspension":
            return self._end
        if self._kind == "termination" and self._reregister_from is not None:
            return self._reregister_from - _ONE_DAY
        return None

    def in_force(self, day: date) -> bool:
        """Started and not yet restored: I-8 keeps an ended period in force until restoration."""
        return self._start <= day and (self._restored_on is None or day < self._restored_on)

    def amended(
        self,
        start: dt.date,
        end: dt.date | None,
        reregister_from: dt.date | None,
        decided_on: dt.date,
        restored_on: dt.date | None,
        cause: str | Why | None = None,
        sources: tuple[str, ...] = (),
    ) -> Period:
        """The same period with these dates, one more cause and more sources."""
        p: Period = _new(Period)
        p._kind = self._kind
        p._start = start
        p._end = end
        p._reregister_from = reregister_from
        p._decided_on = decided_on
        if cause is None:
            p._why, p._causes = self._why, self._causes
        else:
            p._why, p._causes = (*self._why, cause), None
        p._restored_on = restored_on
        p._sources = (*self._sources, *sources) if sources else self._sources
        return p

    def _fields(self) -> tuple[Any, ...]:
        return (
            self._kind, self._start, self._end, self._reregister_from, self._decided_on,
            self.causes, self._restored_on, self._sources,
        )  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Period)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return _repr(self, self.__match_args__, self._fields())

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, self._fields())


def lazy_period(
    kind: PeriodKind,
    start: dt.date,
    end: dt.date | None,
    reregister_from: dt.date | None,
    decided_on: dt.date,
    cause: str | Why,
    source: str,
) -> Period:
    """A new :class:`Period` with one cause that may still be pieces (the replay's constructor)."""
    p: Period = _new(Period)
    p._kind = kind
    p._start = start
    p._end = end
    p._reregister_from = reregister_from
    p._decided_on = decided_on
    p._why = (cause,)
    p._causes = None
    p._restored_on = None
    p._sources = (source,)
    return p


class StatusOn:
    """The status in force on one date, as things stood that day (RULES §5.2 step 9).

    Read-only; ``explain`` is written when it is first read.
    """

    __slots__ = (
        "_emergency_payable",
        "_explain",
        "_measure",
        "_on",
        "_payable",
        "_period_end",
        "_period_start",
        "_reregister_from",
        "_restoration_pending",
        "_status",
        "_why",
        "_year_points",
    )
    __match_args__ = (
        "on", "status", "period_start", "period_end", "reregister_from", "restoration_pending",
        "year_points", "measure", "payable", "emergency_payable", "explain",
    )  # fmt: skip

    def __init__(
        self,
        on: dt.date,
        status: Status,
        period_start: dt.date | None,
        period_end: dt.date | None,
        reregister_from: dt.date | None,
        restoration_pending: bool,
        year_points: int,
        measure: str,
        payable: bool,
        emergency_payable: bool,
        explain: tuple[str, ...] = (),
    ) -> None:
        self._on = on
        self._status = status
        self._period_start = period_start
        self._period_end = period_end
        self._reregister_from = reregister_from
        self._restoration_pending = restoration_pending
        self._year_points = year_points
        self._measure = measure
        self._payable = payable
        self._emergency_payable = emergency_payable
        self._explain: tuple[str, ...] | None = explain
        self._why: Why = ()

    @property
    def on(self) -> dt.date:
        return self._on

    @property
    def status(self) -> Status:
        return self._status

    @property
    def period_start(self) -> dt.date | None:
        return self._period_start

    @property
    def period_end(self) -> dt.date | None:
        return self._period_end

    @property
    def reregister_from(self) -> dt.date | None:
        return self._reregister_from

    @property
    def restoration_pending(self) -> bool:
        return self._restoration_pending

    @property
    def year_points(self) -> int:
        return self._year_points

    @property
    def measure(self) -> str:
        return self._measure

    @property
    def payable(self) -> bool:
        return self._payable

    @property
    def emergency_payable(self) -> bool:
        return self._emergency_payable

    @property
    def explain(self) -> tuple[str, ...]:
        explain = self._explain
        if explain is None:
            why = self._why
            explain = self._explain = tuple(why[0](*why[1:]))
        return explain

    def _fields(self) -> tuple[Any, ...]:
        return (
            self._on, self._status, self._period_start, self._period_end, self._reregister_from,
            self._restoration_pending, self._year_points, self._measure, self._payable,
            self._emergency_payable, self.explain,
        )  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, StatusOn)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return _repr(self, self.__match_args__, self._fields())

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, self._fields())

    def to_json(self) -> dict[str, Any]:
        def iso(d: date | None) -> str | None:
            return d.isoformat() if d else None

        return {
            "year_points": self._year_points,
            "status": self._status,
            "period_start": iso(self._period_start),
            "period_end": iso(self._period_end),
            "reregister_from": iso(self._reregister_from),
            "restoration_pending": self._restoration_pending,
            "measure": self._measure,
            "payable": self._payable,
            "emergency_payable": self._emergency_payable,
            "explain": list(self.explain),
        }


def lazy_status(
    on: dt.date,
    status: Status,
    period_start: dt.date | None,
    period_end: dt.date | None,
    reregister_from: dt.date | None,
    restoration_pending: bool,
    year_points: int,
    measure: str,
    payable: bool,
    emergency_payable: bool,
    why: Why,
) -> StatusOn:
    """A :class:`StatusOn` whose explanation lines are pieces: ``why`` returns the lines."""
    s: StatusOn = _new(StatusOn)
    s._on = on
    s._status = status
    s._period_start = period_start
    s._period_end = period_end
    s._reregister_from = reregister_from
    s._restoration_pending = restoration_pending
    s._year_points = year_points
    s._measure = measure
    s._payable = payable
    s._emergency_payable = emergency_payable
    s._explain = None
    s._why = why
    return s


def _repr(obj: object, names: tuple[str, ...], fields: tuple[Any, ...]) -> str:
    """The form a dataclass gives: ``Name(field=value, ...)``."""
    args = ", ".join(f"{n}={v!r}" for n, v in zip(names, fields, strict=True))
    return f"{obj.__class__.__qualname__}({args})"


_ONE_DAY = timedelta(days=1)
