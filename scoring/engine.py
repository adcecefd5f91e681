"""The rules engine: an event history in, a timeline out (RULES §4–§7).

``evaluate(ruleset, events)`` is a pure function. It replays the history in date order
(RULES I-7) and keeps a snapshot of the person's periods after every day that changed them,
so that :meth:`Timeline.status_on` answers for any date as things stood that day (§5.2
step 9). Appeals are the one exception: they replace a case's points from the start
(I-13), so they are applied before the replay.

The replay is the hot path of every look-up, cache rebuild and ``ledger verify`` (README,
"Speed"). It therefore keeps each explanation as its pieces (``scoring.model.Why``) and
writes the text only when someone reads it; it snapshots the periods only on days that
changed them; and it reads the thresholds and measures from tables the ruleset built once.
The answers, explanations included, are the same as when everything was written at once.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Literal, cast

from scoring.dates import first_of_next_month, months_period_end, years_later
from scoring.errors import InputError
from scoring.model import (
    STATUS_OF_KIND,
    Appeal,
    Event,
    Linked,
    Outcome,
    Period,
    Repair,
    Restore,
    Score,
    Shorten,
    StatusOn,
    Why,
    lazy_outcome,
    lazy_period,
    lazy_status,
    written,
)
from scoring.rulesets import Cap, Consequence, Measure, PractitionerRuleset
from scoring.workdays import WorkCalendar, default_calendar

ONE_DAY = timedelta(days=1)

_Record = tuple[
    int, str, int | None, bool | None, int | None, bool | None, str | None, date | None, str | Why
]
"""What the replay records for an event: the fields of its :class:`Outcome`, in order.

The outcome objects are made from them when a timeline's outcomes are first read: the
status look-ups, caches and checks that only ask for statuses never pay for them.
"""


def _source(key: str | int) -> str:
    """What a period names as its source: the case id, or ``event:<index>``."""
    return key if isinstance(key, str) else f"event:{key}"


def _linked_refused(event: Linked) -> bool:
    """RULES §5.4: a linked suspension needs a last day on or after its start."""
    return event.kind not in ("suspension", "termination") or (
        event.kind == "suspension" and (event.end is None or event.end < event.start)
    )


def _key(event: Score, i: int) -> str | int:
    """The case an event belongs to: its case id, or its own index when it has none."""
    return event.case if event.case is not None else i


def _label(key: str | int) -> str:
    return f"case {key}" if isinstance(key, str) else f"events[{key}]"


class Timeline:
    """The derived history of one person under one ruleset."""

    def __init__(
        self,
        ruleset: PractitionerRuleset,
        outcomes: list[Outcome],
        snapshots: list[tuple[date, tuple[Period, ...]]],
        totals: list[tuple[date, int]],
        warnings: list[str],
    ) -> None:
        self.ruleset = ruleset
        self._outcomes: list[Outcome] | None = outcomes
        self._records: list[_Record] = []
        self.warnings = warnings
        self._snap_dates = [d for d, _ in snapshots]
        self._snap_periods = [p for _, p in snapshots]
        self._total_dates = [d for d, _ in totals]
        self._totals = [t for _, t in totals]
        self._last = self._snap_dates[-1] if snapshots else None

    @property
    def outcomes(self) -> list[Outcome]:
        """What happened to each input event, and why, in input order."""
        outcomes = self._outcomes
        if outcomes is None:
            outcomes = self._outcomes = [lazy_outcome(*record) for record in self._records]
            self._records = []
        return outcomes

    @outcomes.setter
    def outcomes(self, outcomes: list[Outcome]) -> None:
        self._outcomes = outcomes

    def periods_on(self, day: date) -> tuple[Period, ...]:
        """Every period decided on or before ``day``, as known that day."""
        i = bisect_right(self._snap_dates, day) - 1
        return self._snap_periods[i] if i >= 0 else ()

    def year_points_on(self, day: date) -> int:
        """The total of ``day``'s calendar year as of ``day``, after repairs (RULES §4)."""
        i = bisect_right(self._total_dates, day) - 1
        if i < 0 or self._total_dates[i].year != day.year:
            return 0
        return self._totals[i]

    @property
    def totals(self) -> list[tuple[date, int]]:
        """The year total after each day that changed it (for caches)."""
        return list(zip(self._total_dates, self._totals, strict=True))

    @property
    def last_date(self) -> date | None:
        """The last day with events: from then on the answer no longer changes by events."""
        return self._last

    @property
    def periods(self) -> tuple[Period, ...]:
        return self._snap_periods[-1] if self._snap_periods else ()

    def status_on(self, day: date) -> StatusOn:
        """The status in force on ``day``, as things stood that day (RULES §5.2 step 9)."""
        i = bisect_right(self._snap_dates, day) - 1
        periods = self._snap_periods[i] if i >= 0 else ()
        i = bisect_right(self._total_dates, day) - 1
        points = self._totals[i] if i >= 0 and self._total_dates[i].year == day.year else 0
        return status_of(self.ruleset, periods, day, points)


def _timeline(
    ruleset: PractitionerRuleset,
    records: list[_Record],
    snap_dates: list[date],
    snap_periods: list[tuple[Period, ...]],
    total_dates: list[date],
    totals: list[int],
    warnings: list[str],
    last: date | None,
) -> Timeline:
    """A :class:`Timeline` from the replay's columns (no pairs to build and split again)."""
    timeline: Timeline = object.__new__(Timeline)
    timeline.ruleset = ruleset
    timeline._outcomes = None
    timeline._records = records
    timeline.warnings = warnings
    timeline._snap_dates = snap_dates
    timeline._snap_periods = snap_periods
    timeline._total_dates = total_dates
    timeline._totals = totals
    timeline._last = last
    return timeline


def status_of(
    rs: PractitionerRuleset, periods: tuple[Period, ...], day: date, year_points: int
) -> StatusOn:
    """The status that ``periods`` give on ``day`` (RULES §5.2 step 9, §5.3 I-8, §5.5).

    A period that has ended stays in force until a restoration is approved (I-8); nothing
    is payable while restricted, emergencies and rescue only where the ruleset excepts
    them (Hunan-Rules Art. 11; Anhui-Rules Art. 24; Hainan-Rules Art. 23).
    """
    shown = shown_period(periods, day) if periods else None
    measure = rs.measure_for(year_points)
    if shown is None:
        return lazy_status(
            day, "normal", None, None, None, False, year_points, measure.measure, True, True,
            (_normal_lines, year_points, measure),
        )  # fmt: skip
    last = shown.last_day()
    pending = last is not None and day > last
    kind = shown.kind
    emergency = kind in rs.emergency_exception
    return lazy_status(
        day,
        STATUS_OF_KIND[kind],
        shown.start,
        shown.end if kind == "suspension" else None,
        shown.reregister_from if kind == "termination" else None,
        pending,
        year_points,
        measure.measure,
        False,
        emergency,
        (_restricted_lines, year_points, measure, shown, pending, emergency, rs.settlement_ref),
    )


def _measure_line(year_points: int, measure: Measure) -> str:
    return f"year points {year_points}: measure {measure.measure} ({measure.ref})"


def _normal_lines(year_points: int, measure: Measure) -> tuple[str, ...]:
    return (_measure_line(year_points, measure),)


def _restricted_lines(
    year_points: int,
    measure: Measure,
    shown: Period,
    pending: bool,
    emergency: bool,
    settlement_ref: str,
) -> list[str]:
    explain = [_measure_line(year_points, measure)]
    explain.extend(shown.causes)
    if pending:
        explain.append("the period has ended; restoration not yet approved (RULES I-8)")
    explain.append(
        f"payable: no; emergency/rescue: {'yes' if emergency else 'no'} ({settlement_ref})"
    )
    return explain


def _unrestored_at(period: Period, day: date) -> bool:
    """No restoration in effect by ``day`` (an early approval takes effect later, I-12)."""
    restored_on = period.restored_on
    return restored_on is None or restored_on > day


def shown_period(periods: tuple[Period, ...] | list[Period], day: date) -> Period | None:
    """The period a status shows on ``day`` (RULES §5.2 step 9).

    A cancellation shows before a termination, a termination before a suspension; of
    several suspensions (or terminations) the latest-starting one, of several cancellations
    the earliest-starting one: the day the person stopped being payable (I-23).
    """
    best: Period | None = None
    best_rank = -1
    best_order = 0
    for p in periods:
        if not p.in_force(day):
            continue
        rank = _RANK[p.kind]
        order = -p.start.toordinal() if rank == 2 else p.start.toordinal()
        if best is None or rank > best_rank or (rank == best_rank and order > best_order):
            best, best_rank, best_order = p, rank, order
    return best


_RANK = {"cancellation": 2, "termination": 1, "suspension": 0}


def evaluate(
    ruleset: PractitionerRuleset,
    events: list[Event] | tuple[Event, ...],
    calendar: WorkCalendar | None = None,
) -> Timeline:
    """Replay ``events`` under ``ruleset`` (input order breaks ties on one date)."""
    return _Replay(ruleset, events, calendar or default_calendar()).run()


class _Replay:
    __slots__ = (
        "appeals",
        "cal",
        "cancelling",
        "cap_use",
        "case_of",
        "case_points",
        "changed",
        "events",
        "outcomes",
        "periods",
        "rs",
        "snap_dates",
        "snap_periods",
        "starts",
        "steps",
        "total_dates",
        "totals",
        "warnings",
        "year_totals",
    )

    def __init__(
        self,
        ruleset: PractitionerRuleset,
        events: list[Event] | tuple[Event, ...],
        calendar: WorkCalendar,
    ) -> None:
        self.rs = ruleset
        self.events = events
        self.cal = calendar
        self.warnings: list[str] = []
        self.outcomes: list[_Record | None] = [None] * len(events)
        self.periods: list[Period] = []
        self.changed = False  # the periods changed since the last snapshot
        self.year_totals: dict[int, int] = {}
        self.cap_use: dict[tuple[int, str], tuple[int, int]] = {}
        # A case (RULES §4, I-5) is known by the index of its first event ("first"): its
        # key (case id, or that index) names it, the first event gives its date.
        self.case_of: dict[str | int, int] = {}  # key → first
        self.case_points: list[int] = [0] * len(events)  # at first: the case's points
        self.starts: dict[int, date] = {}  # first → the period start the notice states
        self.cancelling: set[int] = set()  # firsts of cases that cancel (RULES I-3)
        self.steps: list[int] = []  # firsts of cases and other events, in replay order
        self.appeals: list[int] = []
        self.snap_dates: list[date] = []
        self.snap_periods: list[tuple[Period, ...]] = []
        self.total_dates: list[date] = []
        self.totals: list[int] = []

    # --- preparation -------------------------------------------------------------

    def _check_dates(self) -> None:
        """RULES I-1: refuse events before the ruleset took effect; warn after it expired."""
        rs = self.rs
        effective_from, effective_to = rs.effective_from, rs.effective_to
        for i, event in enumerate(self.events):
            day = event.date
            if day < effective_from:
                raise InputError(
                    f"events[{i}].date",
                    f"{day.isoformat()} is before {rs.id} took effect on "
                    f"{effective_from.isoformat()} ({rs.effective_ref})",
                )
            if isinstance(event, Linked) and _linked_refused(event):
                raise InputError(
                    f"events[{i}].end", "a linked suspension needs a last day on or after its start"
                )
            if effective_to is not None and day > effective_to:
                self.warnings.append(
                    f"events[{i}] ({day.isoformat()}) is after {rs.id} expired on "
                    f"{effective_to.isoformat()}; evaluated under it (RULES I-1)"
                )

    def _cases(self) -> None:
        """Group score events into cases and pick the counted score of each violation.

        RULES §3.3, National-Procedure Art. 26: different violations in one case add up; one
        violation matching several situations counts once, at its highest score (of equal
        ones, the first). RULES I-5: a case's events share one date.
        The same pass lists the replay's steps (RULES I-7: date order, then input order; a
        case at the position of its first event) and the appeals, and makes the checks of
        RULES I-1: on anything wrong, :meth:`_check_dates` first names the first event
        the ruleset refuses, if there is one.
        """
        rs = self.rs
        events = self.events
        outcomes = self.outcomes
        case_of, case_points, starts = self.case_of, self.case_points, self.starts
        effective_from, effective_to = rs.effective_from, rs.effective_to
        expired = ""
        best: dict[tuple[str | int, str], tuple[int, int]] = {}  # → (index, points)
        steps = self.steps
        previous = dt.date.min
        in_order = True
        for i, event in enumerate(events):
            day = event.date
            if day < effective_from:
                self._check_dates()  # raises: RULES I-1
            if effective_to is not None and day > effective_to:
                if not expired:
                    expired = (
                        f"is after {rs.id} expired on {effective_to.isoformat()}; evaluated "
                        "under it (RULES I-1)"
                    )
                self.warnings.append(f"events[{i}] ({day.isoformat()}) {expired}")
            if isinstance(event, Score):
                key: str | int = event.case if event.case is not None else i  # as _key()
                first = case_of.get(key)
                if first is None:
                    case_of[key] = first = i
                    steps.append(i)
                    if day < previous:
                        in_order = False
                    previous = day
                elif day != events[first].date:
                    self._check_dates()
                    raise InputError(
                        f"events[{i}].date",
                        f"case {event.case!r} is dated {events[first].date.isoformat()} at "
                        f"events[{first}]; the events of one case share one date (RULES I-5)",
                    )
                points = event.points
                case_points[first] += points
                why: str | Why = event.explain or (_points_given, points)
                outcomes[i] = (i, "score", points, True, None, None, None, None, why)
                if event.cancels:
                    self.cancelling.add(first)
                if event.effective is not None:
                    stated = starts.get(first)
                    if stated is not None and stated != event.effective:
                        self._check_dates()
                        raise InputError(
                            f"events[{i}].effective",
                            f"differs from {stated.isoformat()} given earlier in {_label(key)}",
                        )
                    starts[first] = event.effective
                if event.violation is not None:
                    vkey = (key, event.violation)
                    held = best.get(vkey)
                    if held is None or points > held[1]:
                        best[vkey] = (i, points)
            elif isinstance(event, Appeal):
                self.appeals.append(i)
            else:
                if isinstance(event, Linked) and _linked_refused(event):
                    self._check_dates()  # raises
                steps.append(i)
                if day < previous:
                    in_order = False
                previous = day
        if best:  # only the highest score of each violation counts
            winners = {i for i, _ in best.values()}
            for i, event in self._members(None):
                if event.violation is not None and i not in winners:
                    case_points[case_of[_key(event, i)]] -= event.points
                    why = (_not_counted, event.explain, event.points)
                    outcomes[i] = (i, "score", event.points, False, None, None, None, None, why)
        for first in sorted(starts):  # in the order of the cases
            self._check_effective(first)
        if not in_order:
            steps.sort(key=lambda i: (events[i].date, i))

    def _members(self, key: str | int | None) -> Iterator[tuple[int, Score]]:
        """The score events of case ``key`` (of every case: None), with their indices."""
        for i, event in enumerate(self.events):
            if isinstance(event, Score) and (key is None or _key(event, i) == key):
                yield i, event

    def _first(self, i: int) -> Score:
        """The first event of a case."""
        event = self.events[i]
        assert isinstance(event, Score)
        return event

    def _check_effective(self, first: int) -> None:
        """Hunan-Rules Art. 9: "从次月起" — a stated start before next month is invalid (I-6)."""
        effective = self.starts.get(first)
        if effective is None:
            return
        case = self._first(first)
        key = _key(case, first)
        if self.rs.start == "next_month":
            earliest = first_of_next_month(case.date)
            if effective < earliest:
                i = next(j for j, event in self._members(key) if event.effective is not None)
                raise InputError(
                    f"events[{i}].effective",
                    f"{effective.isoformat()} is before {earliest.isoformat()}, the first "
                    f"day of the month after the decision ({self.rs.start_ref})",
                )
        elif effective < case.date:
            self.warnings.append(
                f"{_label(key)}: the stated start {effective.isoformat()} is before the "
                f"decision of {case.date.isoformat()} (RULES I-6)"
            )

    def _apply_appeals(self) -> None:
        """RULES I-13: an upheld appeal replaces its case's points as if recorded so."""
        events = self.events
        for i in sorted(self.appeals, key=lambda i: (events[i].date, i)):
            appeal = events[i]
            assert isinstance(appeal, Appeal)
            key: str | int
            if isinstance(appeal.target, int):
                target = appeal.target
                score = events[target] if 0 <= target < len(events) else None
                if not isinstance(score, Score):
                    raise InputError(f"events[{i}].target", f"event {target} is not a score")
                key = _key(score, target)
            else:
                key = appeal.target
                if key not in self.case_of:
                    raise InputError(f"events[{i}].target", f"no case {appeal.target!r}")
            first = self.case_of[key]
            previous = self.case_points[first]
            self.case_points[first] = appeal.points
            self.outcomes[i] = (
                i, "appeal", None, None, None, True, None, None,
                (_appeal_why, key, previous, appeal.points),
            )  # fmt: skip

    # --- the replay --------------------------------------------------------------

    def run(self) -> Timeline:
        self._cases()
        if self.appeals:
            self._apply_appeals()
        events = self.events
        outcomes = self.outcomes
        snap_dates, snap_periods = self.snap_dates, self.snap_periods
        day: date | None = None
        for i in self.steps:
            event = events[i]
            day = event.date
            if isinstance(event, Score):
                self._apply_case(i, event)
            elif isinstance(event, Repair):
                outcomes[i] = self._repair(i, event)
            elif isinstance(event, Restore):
                outcomes[i] = self._restore(i, event)
            elif isinstance(event, Shorten):
                outcomes[i] = self._shorten(i, event)
            elif isinstance(event, Linked):
                outcomes[i] = self._linked(i, event)
            else:
                raise AssertionError(f"events[{i}]: {event!r} is not an event")
            if self.changed:  # the periods after the last change of the day
                self.changed = False
                if snap_dates and snap_dates[-1] == day:
                    snap_periods[-1] = tuple(self.periods)
                else:
                    snap_dates.append(day)
                    snap_periods.append(tuple(self.periods))
        return _timeline(
            self.rs,
            cast(list[_Record], outcomes),  # every event has its outcome by now
            snap_dates,
            snap_periods,
            self.total_dates,
            self.totals,
            self.warnings,
            day,
        )

    def _set_total(self, day: date, total: int) -> None:
        self.year_totals[day.year] = total
        dates = self.total_dates
        if dates and dates[-1] == day:
            self.totals[-1] = total
        else:
            dates.append(day)
            self.totals.append(total)

    def _apply_case(self, first: int, case: Score) -> None:
        """RULES §5.2 (I-7): add the case's points and apply the more severe consequence.

        National-Procedure Art. 28 / Anhui-Rules Art. 8 / Hainan-Rules Art. 22: points add up
        per calendar year; Hainan caps the year at 12 (Hunan and Anhui: no cap, I-4).
        """
        rs = self.rs
        day = case.date
        points = self.case_points[first]
        year_totals = self.year_totals
        before = year_totals.get(day.year, 0)
        after = before + points
        if rs.year_cap is not None:
            after = min(rs.year_cap, after)
        year_totals[day.year] = after  # as _set_total, inline: every case passes here
        if self.total_dates and self.total_dates[-1] == day:
            self.totals[-1] = after
        else:
            self.total_dates.append(day)
            self.totals.append(after)
        effective = self.starts.get(first) if self.starts else None
        key = case.case if case.case is not None else first  # as _key()
        if self.cancelling and first in self.cancelling:
            self._add_cancellation(key, day, effective or day)
        if after < rs.lowest_cumulative and points < rs.lowest_single:
            return  # below every threshold: no consequence (as rs.consequence)
        chosen = rs.consequence(before, after, points)
        if chosen is None:
            return
        start = effective or (first_of_next_month(day) if rs.start == "next_month" else day)
        cause = (_case_cause, key, day, points, before, after, chosen, start, rs.start_ref)
        if chosen.kind == "suspension":
            end = months_period_end(start, chosen.length)
            self._add_suspension(day, start, end, cause, _source(key))
        else:
            reregister = years_later(start, chosen.length)
            self._add_termination(day, start, reregister, cause, _source(key))

    def _add_cancellation(self, key: str | int, decided_on: date, start: date) -> None:
        """Anhui-Rules Art. 18: 同步取消其医保支付资格 — no period, no restoration (I-3)."""
        cause = (_cancellation_cause, key, decided_on, self.rs)
        self.periods.append(
            lazy_period("cancellation", start, None, None, decided_on, cause, _source(key))
        )
        self.changed = True

    def _add_suspension(
        self, decided_on: date, start: date, end: date, cause: str | Why, source: str
    ) -> None:
        """RULES §5.2 steps 4, 6: whole months; merge with a touching unrestored suspension.

        A suspension that arises while the person is terminated (or cancelled) has no effect.
        A restoration approved early (Hainan, I-12) but not yet in effect does not end a
        period: a new period that touches it merges with it and overtakes the approval.
        """
        periods = self.periods
        for p in periods:
            if p.kind != "suspension" and p.in_force(start):
                return
        merged: Period | None = None
        merged_start, merged_end = start, end
        merged_sources: tuple[str, ...] = (source,)
        keep: list[Period] = []
        for p in periods:
            p_end = p.end
            if (
                p.kind == "suspension"
                and _unrestored_at(p, start)
                and p_end is not None
                and p.start <= merged_end + ONE_DAY
                and merged_start <= p_end + ONE_DAY
            ):
                merged_start = min(p.start, merged_start)
                merged_end = max(p_end, merged_end)
                merged = p.amended(
                    merged_start, merged_end, None, p.decided_on, None,
                    (_with_suffix, cause, "; merged with the suspension in force (RULES §5.2)"),
                    merged_sources,
                )  # fmt: skip
                merged_sources = merged.sources
            else:
                keep.append(p)
        if merged is None:
            merged = lazy_period("suspension", start, end, None, decided_on, cause, source)
        keep.append(merged)
        self.periods = keep
        self.changed = True

    def _add_termination(
        self, decided_on: date, start: date, reregister: date, cause: str | Why, source: str
    ) -> None:
        """RULES §5.2 step 5: re-registration from the same date n years later; if already
        terminated, the later re-registration date stands. A termination decided with a later
        start is not yet in force: one arising before its start stands beside it (I-23)."""
        periods = self.periods
        for n, p in enumerate(periods):
            if p.kind == "termination" and p.start <= start and _unrestored_at(p, start):
                assert p.reregister_from is not None
                periods[n] = p.amended(
                    p.start,
                    p.end,
                    max(p.reregister_from, reregister),
                    p.decided_on,
                    None,  # an approval not yet in effect is overtaken
                    (_with_suffix, cause, "; the later re-registration date stands"),
                    (source,),
                )
                self.changed = True
                return
        periods.append(
            lazy_period("termination", start, None, reregister, decided_on, cause, source)
        )
        self.changed = True

    def _linked(self, i: int, event: Linked) -> _Record:
        """RULES §5.4: the institution's agreement suspended or terminated restricts its
        responsible persons (National-Procedure Art. 34; Anhui-Rules Art. 21).

        A linked suspension runs for the agreement's suspension; the person's own suspension
        runs on after a reinstatement (Hunan-Rules Art. 10; Anhui-Rules Art. 22). The texts
        set no re-registration ban for a linked termination: restoration may be approved at
        once, with the points condition of the ruleset.
        """
        what = event.cause or "the institution's agreement action"
        cause = f"events[{i}] of {event.date.isoformat()}: {what} (RULES §5.4)"
        if event.kind == "suspension":
            assert event.end is not None
            self._add_suspension(event.date, event.start, event.end, cause, f"events[{i}]")
        else:
            self._add_termination(event.date, event.start, event.start, cause, f"events[{i}]")
        return (i, "linked", None, None, None, True, None, None, cause)

    def _repair(self, i: int, event: Repair) -> _Record:
        """RULES §7: grant min(route value, what is left of the yearly cap, the year's points).

        Hunan-Rules Art. 12; Anhui-Rules Art. 30; Hainan-Rules Art. 27-28; caps per calendar
        year (I-14). Refusals in order: not_eligible, nothing_to_repair, route_cap.
        """
        rs = self.rs
        route = rs.routes.get(event.route)
        if route is None:
            why: Why = (_no_route, rs.id, event.route, rs.repairs_ref)
            return (i, "repair", None, None, 0, False, "not_eligible", None, why)
        worth, cap_id = route.terms(event.param)
        year = event.date.year
        total = self.year_totals.get(year, 0)
        uses, used_points = self.cap_use.get((year, cap_id), (0, 0)) if cap_id else (0, 0)
        left = worth
        cap: Cap | None = None
        if cap_id is not None:
            cap = rs.caps[cap_id]
            if cap.uses is not None and uses >= cap.uses:
                left = 0
            if cap.points is not None:
                left = min(left, cap.points - used_points)
        if worth <= 0:
            why = (_worth_nothing, route.id, route.ref)
            return (i, "repair", None, None, 0, False, "not_eligible", None, why)
        if total <= 0:
            why = (_nothing_to_repair, year)
            return (i, "repair", None, None, 0, False, "nothing_to_repair", None, why)
        if left <= 0:
            why = (_used_up, route.id, year, cap_id, cap)
            return (i, "repair", None, None, 0, False, "route_cap", None, why)
        granted = min(worth, left, total)
        if cap_id is not None:
            self.cap_use[(year, cap_id)] = (uses + 1, used_points + granted)
        self._set_total(event.date, total - granted)
        why = (_repaired, route.id, worth, route.ref, cap_id, cap, year, total, granted)
        return (i, "repair", None, None, granted, True, None, None, why)

    def _restore(self, i: int, event: Restore) -> _Record:
        """RULES I-12: restoration after the period, with the points condition.

        Hunan-Rules Art. 13-14; Anhui-Rules Art. 29; Hainan-Rules Art. 23, 29-30;
        National-Procedure Art. 39. Checks in order: cancelled, not_restricted, too_early,
        points_too_high. Restriction, period and points are judged on the approval date; only
        the too-early check uses the application date (I-12). Effective on the later of
        approval and the day after the period.
        Every period in force is lifted: restoring a termination also lifts a suspension that
        a shortening of the termination left running inside it.
        """
        rs = self.rs
        day = event.date
        periods = self.periods
        in_force: list[int] = []
        kinds: set[str] = set()
        for n, p in enumerate(periods):
            if p.in_force(day):
                in_force.append(n)
                kinds.add(p.kind)
        if "cancellation" in kinds:
            why: str | Why = "a cancelled qualification is not restored (RULES I-3)"
            return (i, "restore", None, None, None, False, "cancelled", None, why)
        if not in_force:
            why = "nothing is in force on this date"
            return (i, "restore", None, None, None, False, "not_restricted", None, why)
        kind: Literal["termination", "suspension"] = (
            "termination" if "termination" in kinds else "suspension"
        )
        lasts: list[date] = []
        for n in in_force:
            p = periods[n]
            if p.kind == kind and (d := p.last_day()) is not None:
                lasts.append(d)
        last = max(lasts)
        if rs.restore_days_before:
            earliest = self.cal.add_working_days(last, -rs.restore_days_before, self.warnings)
        else:
            earliest = last + ONE_DAY
        applied = event.applied or day
        if applied < earliest:
            why = (_too_early, applied, kind, last, earliest, rs.restore_window_ref)
            return (i, "restore", None, None, None, False, "too_early", None, why)
        limit = rs.restore_points_below.get(kind)
        points = self.year_totals.get(day.year, 0)
        if limit is not None and points >= limit:
            why = (_points_too_high, points, day.year, limit, rs.restore_points_ref)
            return (i, "restore", None, None, None, False, "points_too_high", None, why)
        effective = max(day, last + ONE_DAY)
        for n in in_force:
            p = periods[n]
            periods[n] = p.amended(p.start, p.end, p.reregister_from, p.decided_on, effective)
        self.changed = True
        why = (_restored, kind, last, effective, rs.restore_window_ref, rs.restore_points_ref)
        return (i, "restore", None, None, None, True, None, effective, why)

    def _shorten(self, i: int, event: Shorten) -> _Record:
        """RULES §7: a shortening sets a new last day within the period in force.

        National-Procedure Art. 38 where the local rules provide it (Hainan-Rules Art. 16).
        Refusals in order: not_eligible, not_restricted, invalid_end. It does not restore.
        """
        rs = self.rs

        def refuse(reason: str, why: str | Why) -> _Record:
            return (i, "shorten", None, None, None, False, reason, None, why)

        if not rs.shortening_allowed:
            return refuse("not_eligible", (_no_shortening, rs.id, rs.shortening_ref))
        shown = shown_period(self.periods, event.date)
        if shown is None:
            return refuse("not_restricted", "nothing is in force on this date")
        last = shown.last_day()
        if last is None or event.end < shown.start or event.end < event.date or event.end >= last:
            return refuse("invalid_end", (_invalid_end, shown, event.date, last))
        n = next(k for k, p in enumerate(self.periods) if p is shown)
        if shown.kind == "suspension":
            self.periods[n] = shown.amended(
                shown.start, event.end, shown.reregister_from, shown.decided_on, shown.restored_on
            )
        else:
            self.periods[n] = shown.amended(
                shown.start, shown.end, event.end + ONE_DAY, shown.decided_on, shown.restored_on
            )
        self.changed = True
        why = (_shortened, shown.kind, event.end, rs.shortening_ref)
        return (i, "shorten", None, None, None, True, None, None, why)


# --- explanations, written when read (scoring.model.Why) -----------------------------


def _points_given(points: int) -> str:
    return f"{points} points given"


def _not_counted(explain: str, points: int) -> str:
    why = explain or _points_given(points)
    return why + "; a higher score for the same violation counts instead (RULES §3.3)"


def _appeal_why(key: str | int, previous: int, points: int) -> str:
    return (
        f"{_label(key)}: {previous} → {points} points from the start "
        f"(RULES I-13; National-Procedure Art. 41-44)"
    )


def _case_cause(
    key: str | int,
    day: date,
    points: int,
    before: int,
    after: int,
    chosen: Consequence,
    start: date,
    start_ref: str,
) -> str:
    return (
        f"{_label(key)} of {day.isoformat()}: {points} points, year total "
        f"{before} → {after}; {chosen.describe()}; starts {start.isoformat()} ({start_ref})"
    )


def _cancellation_cause(key: str | int, day: date, rs: PractitionerRuleset) -> str:
    return f"{_label(key)} of {day.isoformat()}: licence cancelled or revoked; " + next(
        (s.ref for s in rs.situations.values() if s.cancels), "RULES I-3"
    )


def _with_suffix(cause: str | Why, suffix: str) -> str:
    return written(cause) + suffix


def _cap_text(cap_id: str | None, cap: Cap | None) -> str:
    return "no yearly cap" if cap is None else f"cap {cap_id} ({cap.ref})"


def _no_route(ruleset_id: str, route_id: str, repairs_ref: str) -> str:
    return f"{ruleset_id} has no repair route {route_id} ({repairs_ref})"


def _worth_nothing(route_id: str, route_ref: str) -> str:
    return f"route {route_id} is worth 0 here ({route_ref})"


def _nothing_to_repair(year: int) -> str:
    return f"no points in {year} to repair"


def _used_up(route_id: str, year: int, cap_id: str | None, cap: Cap | None) -> str:
    return f"route {route_id} used up for {year}: {_cap_text(cap_id, cap)}"


def _repaired(
    route_id: str,
    worth: int,
    route_ref: str,
    cap_id: str | None,
    cap: Cap | None,
    year: int,
    total: int,
    granted: int,
) -> str:
    return (
        f"route {route_id} worth {worth} ({route_ref}); {_cap_text(cap_id, cap)}; year {year} "
        f"total {total} → {total - granted}"
    )


def _too_early(applied: date, kind: str, last: date, earliest: date, window_ref: str) -> str:
    return (
        f"applied on {applied.isoformat()}; the {kind} runs through {last.isoformat()}"
        f" and an application is allowed from {earliest.isoformat()} ({window_ref})"
    )


def _points_too_high(points: int, year: int, limit: int, points_ref: str) -> str:
    return (
        f"{points} points in {year} after repairs; restoration needs fewer than "
        f"{limit} ({points_ref})"
    )


def _restored(kind: str, last: date, effective: date, window_ref: str, points_ref: str) -> str:
    return (
        f"{kind} through {last.isoformat()} restored from {effective.isoformat()} "
        f"({window_ref}; {points_ref})"
    )


def _no_shortening(ruleset_id: str, shortening_ref: str) -> str:
    return f"{ruleset_id} has no shortening ({shortening_ref})"


def _invalid_end(shown: Period, day: date, last: date | None) -> str:
    return (
        f"the new last day must lie within the {shown.kind} in force, on or after "
        f"{max(shown.start, day).isoformat()} and before its current last day "
        f"{last.isoformat() if last else '(none)'}"
    )


def _shortened(kind: str, end: date, shortening_ref: str) -> str:
    return f"{kind} now ends {end.isoformat()} ({shortening_ref})"
