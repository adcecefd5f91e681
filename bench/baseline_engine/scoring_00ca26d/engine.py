# ruff: noqa
# mypy: ignore-errors
# Frozen copy of scoring/engine.py at commit 00ca26d (git archive), imports made relative.
# The baseline of bench/engine.py: do not edit.
"""The rules engine: an event history in, a timeline out (RULES §4–§7).

``evaluate(ruleset, events)`` is a pure function. It replays the history in date order
(RULES I-7) and keeps a snapshot of the person's periods after every day that had events,
so that :meth:`Timeline.status_on` answers for any date as things stood that day (§5.2
step 9). Appeals are the one exception: they replace a case's points from the start
(I-13), so they are applied before the replay.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal

from .dates import first_of_next_month, months_period_end, years_later
from .errors import InputError
from .model import (
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
)
from .rulesets import Consequence, PractitionerRuleset
from .workdays import WorkCalendar, default_calendar

ONE_DAY = timedelta(days=1)


@dataclass
class _Case:
    """One decision: the score events sharing a case id (RULES §4, I-5)."""

    key: str
    label: str
    date: dt.date
    first: int
    members: list[int] = field(default_factory=list)
    points: int = 0
    effective: dt.date | None = None
    cancels: bool = False


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
        self.outcomes = outcomes
        self.warnings = warnings
        self._snap_dates = [d for d, _ in snapshots]
        self._snap_periods = [p for _, p in snapshots]
        self._total_dates = [d for d, _ in totals]
        self._totals = [t for _, t in totals]

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
        return self._snap_dates[-1] if self._snap_dates else None

    @property
    def periods(self) -> tuple[Period, ...]:
        return self._snap_periods[-1] if self._snap_periods else ()

    def status_on(self, day: date) -> StatusOn:
        """The status in force on ``day``, as things stood that day (RULES §5.2 step 9)."""
        return status_of(self.ruleset, self.periods_on(day), day, self.year_points_on(day))


def status_of(
    rs: PractitionerRuleset, periods: tuple[Period, ...], day: date, year_points: int
) -> StatusOn:
    """The status that ``periods`` give on ``day`` (RULES §5.2 step 9, §5.3 I-8, §5.5).

    A period that has ended stays in force until a restoration is approved (I-8); nothing
    is payable while restricted, emergencies and rescue only where the ruleset excepts
    them (Hunan-Rules Art. 11; Anhui-Rules Art. 24; Hainan-Rules Art. 23).
    """
    shown = shown_period(periods, day)
    measure = rs.measure_for(year_points)
    explain = [f"year points {year_points}: measure {measure.measure} ({measure.ref})"]
    if shown is None:
        return StatusOn(
            day, "normal", None, None, None, False, year_points, measure.measure, True, True,
            tuple(explain),
        )  # fmt: skip
    last = shown.last_day()
    pending = last is not None and day > last
    explain.extend(shown.causes)
    if pending:
        explain.append("the period has ended; restoration not yet approved (RULES I-8)")
    emergency = shown.kind in rs.emergency_exception
    explain.append(
        f"payable: no; emergency/rescue: {'yes' if emergency else 'no'} ({rs.settlement_ref})"
    )
    return StatusOn(
        on=day,
        status=STATUS_OF_KIND[shown.kind],
        period_start=shown.start,
        period_end=shown.end if shown.kind == "suspension" else None,
        reregister_from=shown.reregister_from if shown.kind == "termination" else None,
        restoration_pending=pending,
        year_points=year_points,
        measure=measure.measure,
        payable=False,
        emergency_payable=emergency,
        explain=tuple(explain),
    )


def _unrestored_at(period: Period, day: date) -> bool:
    """No restoration in effect by ``day`` (an early approval takes effect later, I-12)."""
    return period.restored_on is None or period.restored_on > day


def shown_period(periods: tuple[Period, ...] | list[Period], day: date) -> Period | None:
    """The period a status shows on ``day`` (RULES §5.2 step 9).

    A cancellation shows before a termination, a termination before a suspension; of
    several suspensions (or terminations) the latest-starting one, of several cancellations
    the earliest-starting one: the day the person stopped being payable (I-23).
    """
    best: Period | None = None
    best_key = (-1, 0)
    for p in periods:
        if not p.in_force(day):
            continue
        rank = _RANK[p.kind]
        key = (rank, -p.start.toordinal() if rank == 2 else p.start.toordinal())
        if best is None or key > best_key:
            best, best_key = p, key
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
        self.outcomes: list[Outcome | None] = [None] * len(events)
        self.periods: list[Period] = []
        self.year_totals: dict[int, int] = {}
        self.cap_use: dict[tuple[int, str], tuple[int, int]] = {}
        self.snapshots: list[tuple[date, tuple[Period, ...]]] = []
        self.totals: list[tuple[date, int]] = []

    # --- preparation -------------------------------------------------------------

    def _check_dates(self) -> None:
        """RULES I-1: refuse events before the ruleset took effect; warn after it expired."""
        rs = self.rs
        for i, event in enumerate(self.events):
            if event.date < rs.effective_from:
                raise InputError(
                    f"events[{i}].date",
                    f"{event.date.isoformat()} is before {rs.id} took effect on "
                    f"{rs.effective_from.isoformat()} ({rs.effective_ref})",
                )
            if isinstance(event, Linked) and (
                event.kind not in ("suspension", "termination")
                or (event.kind == "suspension" and (event.end is None or event.end < event.start))
            ):
                raise InputError(
                    f"events[{i}].end", "a linked suspension needs a last day on or after its start"
                )
            if rs.effective_to is not None and event.date > rs.effective_to:
                self.warnings.append(
                    f"events[{i}] ({event.date.isoformat()}) is after {rs.id} expired on "
                    f"{rs.effective_to.isoformat()}; evaluated under it (RULES I-1)"
                )

    def _cases(self) -> dict[str, _Case]:
        """Group score events into cases and pick the counted score of each violation.

        RULES §3.3, National-Procedure Art. 26: different violations in one case add up; one
        violation matching several situations counts once, at its highest score (of equal
        ones, the first). RULES I-5: a case's events share one date.
        """
        cases: dict[str, _Case] = {}
        best: dict[tuple[str, str], int] = {}
        for i, event in enumerate(self.events):
            if not isinstance(event, Score):
                continue
            key = f"case:{event.case}" if event.case is not None else f"event:{i}"
            case = cases.get(key)
            if case is None:
                label = f"case {event.case}" if event.case is not None else f"events[{i}]"
                case = cases[key] = _Case(key, label, event.date, i)
            elif event.date != case.date:
                raise InputError(
                    f"events[{i}].date",
                    f"case {event.case!r} is dated {case.date.isoformat()} at events"
                    f"[{case.first}]; the events of one case share one date (RULES I-5)",
                )
            case.members.append(i)
            case.cancels = case.cancels or event.cancels
            if event.effective is not None:
                if case.effective is not None and case.effective != event.effective:
                    raise InputError(
                        f"events[{i}].effective",
                        f"differs from {case.effective.isoformat()} given earlier in {case.label}",
                    )
                case.effective = event.effective
            if event.violation is not None:
                vkey = (key, event.violation)
                j = best.get(vkey)
                if j is None or event.points > self._score(j).points:
                    best[vkey] = i
        winners = set(best.values())
        for case in cases.values():
            total = 0
            for i in case.members:
                event = self._score(i)
                counted = event.violation is None or i in winners
                total += event.points if counted else 0
                why = event.explain or f"{event.points} points given"
                if not counted:
                    why += "; a higher score for the same violation counts instead (RULES §3.3)"
                self.outcomes[i] = Outcome(i, "score", event.points, counted, explain=why)
            case.points = total
            self._check_effective(case)
        return cases

    def _score(self, i: int) -> Score:
        event = self.events[i]
        assert isinstance(event, Score)
        return event

    def _check_effective(self, case: _Case) -> None:
        """Hunan-Rules Art. 9: "从次月起" — a stated start before next month is invalid (I-6)."""
        if case.effective is None:
            return
        if self.rs.start == "next_month":
            earliest = first_of_next_month(case.date)
            if case.effective < earliest:
                i = next(j for j in case.members if self._score(j).effective is not None)
                raise InputError(
                    f"events[{i}].effective",
                    f"{case.effective.isoformat()} is before {earliest.isoformat()}, the first "
                    f"day of the month after the decision ({self.rs.start_ref})",
                )
        elif case.effective < case.date:
            self.warnings.append(
                f"{case.label}: the stated start {case.effective.isoformat()} is before the "
                f"decision of {case.date.isoformat()} (RULES I-6)"
            )

    def _apply_appeals(self, cases: dict[str, _Case]) -> None:
        """RULES I-13: an upheld appeal replaces its case's points as if recorded so."""
        order = sorted(
            (i for i, e in enumerate(self.events) if isinstance(e, Appeal)),
            key=lambda i: (self.events[i].date, i),
        )
        for i in order:
            appeal = self.events[i]
            assert isinstance(appeal, Appeal)
            if isinstance(appeal.target, int):
                target = appeal.target
                if not 0 <= target < len(self.events) or not isinstance(self.events[target], Score):
                    raise InputError(f"events[{i}].target", f"event {target} is not a score")
                score = self._score(target)
                key = f"case:{score.case}" if score.case is not None else f"event:{target}"
            else:
                key = f"case:{appeal.target}"
                if key not in cases:
                    raise InputError(f"events[{i}].target", f"no case {appeal.target!r}")
            case = cases[key]
            previous = case.points
            case.points = appeal.points
            self.outcomes[i] = Outcome(
                i,
                "appeal",
                accepted=True,
                explain=f"{case.label}: {previous} → {appeal.points} points from the start "
                f"(RULES I-13; National-Procedure Art. 41-44)",
            )

    # --- the replay --------------------------------------------------------------

    def run(self) -> Timeline:
        self._check_dates()
        cases = self._cases()
        self._apply_appeals(cases)
        steps: list[tuple[date, int, str]] = [(c.date, c.first, c.key) for c in cases.values()]
        for i, event in enumerate(self.events):
            if not isinstance(event, Score | Appeal):
                steps.append((event.date, i, ""))
        steps.sort(key=lambda s: (s[0], s[1]))
        for day, i, key in steps:
            if key:
                self._apply_case(cases[key])
            else:
                event = self.events[i]
                if isinstance(event, Repair):
                    self.outcomes[i] = self._repair(i, event)
                elif isinstance(event, Restore):
                    self.outcomes[i] = self._restore(i, event)
                elif isinstance(event, Shorten):
                    self.outcomes[i] = self._shorten(i, event)
                elif isinstance(event, Linked):
                    self.outcomes[i] = self._linked(i, event)
            self._snapshot(day)
        outcomes = [o for o in self.outcomes if o is not None]
        assert len(outcomes) == len(self.events)
        return Timeline(self.rs, outcomes, self.snapshots, self.totals, self.warnings)

    def _snapshot(self, day: date) -> None:
        frozen = tuple(self.periods)
        if self.snapshots and self.snapshots[-1][0] == day:
            self.snapshots[-1] = (day, frozen)
        else:
            self.snapshots.append((day, frozen))

    def _set_total(self, day: date, total: int) -> None:
        self.year_totals[day.year] = total
        if self.totals and self.totals[-1][0] == day:
            self.totals[-1] = (day, total)
        else:
            self.totals.append((day, total))

    def _apply_case(self, case: _Case) -> None:
        """RULES §5.2 (I-7): add the case's points and apply the more severe consequence.

        National-Procedure Art. 28 / Anhui-Rules Art. 8 / Hainan-Rules Art. 22: points add up
        per calendar year; Hainan caps the year at 12 (Hunan and Anhui: no cap, I-4).
        """
        rs = self.rs
        before = self.year_totals.get(case.date.year, 0)
        after = before + case.points
        if rs.year_cap is not None:
            after = min(rs.year_cap, after)
        self._set_total(case.date, after)
        if case.cancels:
            start = case.effective or case.date
            self._add_cancellation(case, start)
        candidates: list[Consequence] = [
            row for row in rs.cumulative if before < row.points <= after
        ][-1:]
        if case.points >= min(rs.single, default=13):
            single = rs.single.get(min(case.points, max(rs.single)))
            if single is not None:
                candidates.append(single)
        if not candidates:
            return
        chosen = max(candidates, key=lambda c: c.severity)
        start = case.effective or (
            first_of_next_month(case.date) if rs.start == "next_month" else case.date
        )
        cause = (
            f"{case.label} of {case.date.isoformat()}: {case.points} points, year total "
            f"{before} → {after}; {chosen.describe()}; starts {start.isoformat()} ({rs.start_ref})"
        )
        source = case.key.removeprefix("case:")
        if chosen.kind == "suspension":
            end = months_period_end(start, chosen.length)
            self._add_suspension(case.date, start, end, cause, source)
        else:
            reregister = years_later(start, chosen.length)
            self._add_termination(case.date, start, reregister, cause, source)

    def _add_cancellation(self, case: _Case, start: date) -> None:
        """Anhui-Rules Art. 18: 同步取消其医保支付资格 — no period, no restoration (I-3)."""
        cause = f"{case.label} of {case.date.isoformat()}: licence cancelled or revoked; " + next(
            (s.ref for s in self.rs.situations.values() if s.cancels), "RULES I-3"
        )
        source = case.key.removeprefix("case:")
        self.periods.append(
            Period("cancellation", start, None, None, case.date, (cause,), sources=(source,))
        )

    def _add_suspension(
        self, decided_on: date, start: date, end: date, cause: str, source: str
    ) -> None:
        """RULES §5.2 steps 4, 6: whole months; merge with a touching unrestored suspension.

        A suspension that arises while the person is terminated (or cancelled) has no effect.
        A restoration approved early (Hainan, I-12) but not yet in effect does not end a
        period: a new period that touches it merges with it and overtakes the approval.
        """
        for p in self.periods:
            if p.kind != "suspension" and p.in_force(start):
                return
        merged = Period("suspension", start, end, None, decided_on, (cause,), sources=(source,))
        keep: list[Period] = []
        for p in self.periods:
            if (
                p.kind == "suspension"
                and _unrestored_at(p, start)
                and p.end is not None
                and merged.end is not None
                and p.start <= merged.end + ONE_DAY
                and merged.start <= p.end + ONE_DAY
            ):
                merged = Period(
                    "suspension",
                    min(p.start, merged.start),
                    max(p.end, merged.end),
                    None,
                    p.decided_on,
                    (*p.causes, cause + "; merged with the suspension in force (RULES §5.2)"),
                    sources=(*p.sources, *merged.sources),
                )
            else:
                keep.append(p)
        keep.append(merged)
        self.periods = keep

    def _add_termination(
        self, decided_on: date, start: date, reregister: date, cause: str, source: str
    ) -> None:
        """RULES §5.2 step 5: re-registration from the same date n years later; if already
        terminated, the later re-registration date stands. A termination decided with a later
        start is not yet in force: one arising before its start stands beside it (I-23)."""
        for n, p in enumerate(self.periods):
            if p.kind == "termination" and p.start <= start and _unrestored_at(p, start):
                assert p.reregister_from is not None
                self.periods[n] = replace(
                    p,
                    reregister_from=max(p.reregister_from, reregister),
                    restored_on=None,  # an approval not yet in effect is overtaken
                    causes=(*p.causes, cause + "; the later re-registration date stands"),
                    sources=(*p.sources, source),
                )
                return
        self.periods.append(
            Period("termination", start, None, reregister, decided_on, (cause,), sources=(source,))
        )

    def _linked(self, i: int, event: Linked) -> Outcome:
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
        return Outcome(i, "linked", accepted=True, explain=cause)

    def _repair(self, i: int, event: Repair) -> Outcome:
        """RULES §7: grant min(route value, what is left of the yearly cap, the year's points).

        Hunan-Rules Art. 12; Anhui-Rules Art. 30; Hainan-Rules Art. 27-28; caps per calendar
        year (I-14). Refusals in order: not_eligible, nothing_to_repair, route_cap.
        """
        rs = self.rs
        route = rs.routes.get(event.route)
        if route is None:
            return Outcome(
                i, "repair", granted=0, accepted=False, reason="not_eligible",
                explain=f"{rs.id} has no repair route {event.route} ({rs.repairs_ref})",
            )  # fmt: skip
        worth = route.worth(event.param)
        year = event.date.year
        total = self.year_totals.get(year, 0)
        cap_id = route.cap_id(event.param)
        uses, used_points = self.cap_use.get((year, cap_id), (0, 0)) if cap_id else (0, 0)
        left = worth
        cap_text = "no yearly cap"
        if cap_id is not None:
            cap = rs.caps[cap_id]
            cap_text = f"cap {cap_id} ({cap.ref})"
            if cap.uses is not None and uses >= cap.uses:
                left = 0
            if cap.points is not None:
                left = min(left, cap.points - used_points)

        def refuse(reason: str, why: str) -> Outcome:
            return Outcome(i, "repair", granted=0, accepted=False, reason=reason, explain=why)

        if worth <= 0:
            return refuse("not_eligible", f"route {route.id} is worth 0 here ({route.ref})")
        if total <= 0:
            return refuse("nothing_to_repair", f"no points in {year} to repair")
        if left <= 0:
            return refuse("route_cap", f"route {route.id} used up for {year}: {cap_text}")
        granted = min(worth, left, total)
        if cap_id is not None:
            self.cap_use[(year, cap_id)] = (uses + 1, used_points + granted)
        self._set_total(event.date, total - granted)
        return Outcome(
            i,
            "repair",
            granted=granted,
            accepted=True,
            explain=f"route {route.id} worth {worth} ({route.ref}); {cap_text}; year {year} "
            f"total {total} → {total - granted}",
        )

    def _restore(self, i: int, event: Restore) -> Outcome:
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

        def refuse(reason: str, why: str) -> Outcome:
            return Outcome(i, "restore", accepted=False, reason=reason, explain=why)

        in_force = [n for n, p in enumerate(self.periods) if p.in_force(day)]
        kinds = {self.periods[n].kind for n in in_force}
        if "cancellation" in kinds:
            return refuse("cancelled", "a cancelled qualification is not restored (RULES I-3)")
        if not in_force:
            return refuse("not_restricted", "nothing is in force on this date")
        kind: Literal["termination", "suspension"] = (
            "termination" if "termination" in kinds else "suspension"
        )
        last = max(
            d
            for n in in_force
            if self.periods[n].kind == kind and (d := self.periods[n].last_day()) is not None
        )
        if rs.restore_days_before:
            earliest = self.cal.add_working_days(last, -rs.restore_days_before, self.warnings)
        else:
            earliest = last + ONE_DAY
        applied = event.applied or day
        if applied < earliest:
            return refuse(
                "too_early",
                f"applied on {applied.isoformat()}; the {kind} runs through {last.isoformat()}"
                f" and an application is allowed from {earliest.isoformat()} "
                f"({rs.restore_window_ref})",
            )
        limit = rs.restore_points_below.get(kind)
        points = self.year_totals.get(day.year, 0) if self._has_total(day) else 0
        if limit is not None and points >= limit:
            return refuse(
                "points_too_high",
                f"{points} points in {day.year} after repairs; restoration needs fewer than "
                f"{limit} ({rs.restore_points_ref})",
            )
        effective = max(day, last + ONE_DAY)
        for n in in_force:
            self.periods[n] = replace(self.periods[n], restored_on=effective)
        return Outcome(
            i,
            "restore",
            accepted=True,
            effective=effective,
            explain=f"{kind} through {last.isoformat()} restored from {effective.isoformat()} "
            f"({rs.restore_window_ref}; {rs.restore_points_ref})",
        )

    def _has_total(self, day: date) -> bool:
        return day.year in self.year_totals

    def _shorten(self, i: int, event: Shorten) -> Outcome:
        """RULES §7: a shortening sets a new last day within the period in force.

        National-Procedure Art. 38 where the local rules provide it (Hainan-Rules Art. 16).
        Refusals in order: not_eligible, not_restricted, invalid_end. It does not restore.
        """
        rs = self.rs

        def refuse(reason: str, why: str) -> Outcome:
            return Outcome(i, "shorten", accepted=False, reason=reason, explain=why)

        if not rs.shortening_allowed:
            return refuse("not_eligible", f"{rs.id} has no shortening ({rs.shortening_ref})")
        shown = shown_period(self.periods, event.date)
        if shown is None:
            return refuse("not_restricted", "nothing is in force on this date")
        last = shown.last_day()
        if last is None or event.end < shown.start or event.end < event.date or event.end >= last:
            return refuse(
                "invalid_end",
                f"the new last day must lie within the {shown.kind} in force, on or after "
                f"{max(shown.start, event.date).isoformat()} and before its current last day "
                f"{last.isoformat() if last else '(none)'}",
            )
        n = self.periods.index(shown)
        if shown.kind == "suspension":
            self.periods[n] = replace(shown, end=event.end)
        else:
            self.periods[n] = replace(shown, reregister_from=event.end + ONE_DAY)
        return Outcome(
            i,
            "shorten",
            accepted=True,
            explain=f"{shown.kind} now ends {event.end.isoformat()} ({rs.shortening_ref})",
        )
