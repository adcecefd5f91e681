"""Invariants of the engine, checked on generated histories (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import Appeal, Event, Repair, Restore, Score, Shorten, evaluate, practitioner_ruleset
from scoring.rulesets import PractitionerRuleset

RULESETS = [practitioner_ruleset(r) for r in ("hunan-2025", "anhui-2025", "hainan-2025")]
START = date(2025, 5, 1)
DAYS = 700


def _param(rs: PractitionerRuleset, route_id: str, draw: Any) -> str | int | None:
    route = rs.routes[route_id]
    if route.param == "score":
        return int(draw(st.integers(0, 100)))
    if route.param == "points":
        return int(draw(st.integers(1, 4)))
    if route.param is not None:
        return str(draw(st.sampled_from(route.choices())))
    return None


@st.composite
def histories(draw: Any) -> tuple[PractitionerRuleset, list[Event]]:
    rs = draw(st.sampled_from(RULESETS))
    n = draw(st.integers(1, 12))
    events: list[Event] = []
    case_dates: dict[str, date] = {}
    for k in range(n):
        day = START + timedelta(days=draw(st.integers(0, DAYS)))
        kind = draw(st.sampled_from(["score"] * 5 + ["repair"] * 2 + ["restore", "shorten"]))
        if kind == "score":
            case = f"C{draw(st.integers(0, 5))}" if draw(st.booleans()) else f"K{k}"
            day = case_dates.setdefault(case, day)
            violation = draw(st.sampled_from([None, "V1", "V2"]))
            events.append(Score(day, draw(st.integers(1, 12)), case=case, violation=violation))
        elif kind == "repair":
            route = draw(st.sampled_from(sorted(rs.routes)))
            events.append(Repair(day, route, _param(rs, route, draw)))
        elif kind == "restore":
            events.append(Restore(day))
        else:
            events.append(Shorten(day, day + timedelta(days=draw(st.integers(-5, 120)))))
    cases = sorted({e.case for e in events if isinstance(e, Score) and e.case})
    for _ in range(draw(st.integers(0, 2)) if cases else 0):
        day = START + timedelta(days=draw(st.integers(0, DAYS)))
        events.append(Appeal(day, draw(st.sampled_from(cases)), draw(st.integers(0, 12))))
    return rs, events


def probe_dates(events: list[Event]) -> list[date]:
    days = {START - timedelta(days=1), START + timedelta(days=DAYS + 400)}
    for e in events:
        days |= {e.date, e.date + timedelta(days=1), e.date - timedelta(days=1)}
        days.add(date(e.date.year, 12, 31))
    return sorted(days)


def comparable(status: Any) -> dict[str, Any]:
    out: dict[str, Any] = status.to_json()
    out.pop("explain")
    return out


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(histories())
def test_year_points_are_never_negative_and_hainan_never_above_12(history: Any) -> None:
    rs, events = history
    timeline = evaluate(rs, events)
    for day in probe_dates(events):
        points = timeline.year_points_on(day)
        assert points >= 0
        if rs.year_cap is not None:
            assert points <= rs.year_cap


@PROPERTY
@given(histories())
def test_the_answer_for_a_date_depends_only_on_earlier_events_and_appeals(history: Any) -> None:
    rs, events = history
    full = evaluate(rs, events)
    for day in probe_dates(events):
        kept = [e for e in events if e.date <= day or isinstance(e, Appeal)]
        present = {e.case for e in kept if isinstance(e, Score)}
        kept = [e for e in kept if not isinstance(e, Appeal) or e.target in present]
        assert comparable(evaluate(rs, kept).status_on(day)) == comparable(full.status_on(day))


@PROPERTY
@given(histories())
def test_an_appeal_restating_a_case_s_own_points_changes_nothing(history: Any) -> None:
    rs, events = history
    events = [e for e in events if not isinstance(e, Appeal)]
    scores = [e for e in events if isinstance(e, Score)]
    if not scores:
        return
    case = scores[0].case
    members = [e for e in scores if e.case == case]
    best: dict[str | None, int] = {}
    loose = 0
    for e in members:
        if e.violation is None:
            loose += e.points
        elif e.points > best.get(e.violation, 0):
            best[e.violation] = e.points
    own = loose + sum(best.values())
    assert case is not None
    appealed = evaluate(rs, [*events, Appeal(members[0].date + timedelta(days=30), case, own)])
    plain = evaluate(rs, events)
    for day in probe_dates(events):
        assert comparable(appealed.status_on(day)) == comparable(plain.status_on(day))
    assert [o.to_json() for o in appealed.outcomes[:-1]] == [o.to_json() for o in plain.outcomes]


@PROPERTY
@given(histories())
def test_a_period_never_ends_before_it_starts(history: Any) -> None:
    rs, events = history
    timeline = evaluate(rs, events)
    for day in probe_dates(events):
        periods = timeline.periods_on(day)
        # Restoring a (shortened) termination also lifts a suspension still running inside it.
        lifted_with_termination = {p.restored_on for p in periods if p.kind == "termination"}
        for period in periods:
            if period.kind == "suspension":
                assert period.end is not None and period.end >= period.start
            if period.kind == "termination":
                assert period.reregister_from is not None
                assert period.reregister_from > period.start
            if period.restored_on not in (None, *lifted_with_termination):
                last = period.last_day()
                assert last is None or period.restored_on > last


@PROPERTY
@given(histories())
def test_the_status_matches_the_settlement_answer(history: Any) -> None:
    rs, events = history
    timeline = evaluate(rs, events)
    for day in probe_dates(events):
        status = timeline.status_on(day)
        assert status.payable == (status.status == "normal")
        if status.payable:
            assert status.emergency_payable
        if status.status == "cancelled":
            assert not status.emergency_payable


def test_the_generator_reaches_every_status() -> None:
    """Guard against a generator too tame to test anything."""
    seen: set[str] = set()

    @settings(max_examples=400, deadline=None)
    @given(histories())
    def collect(history: Any) -> None:
        rs, events = history
        timeline = evaluate(rs, events)
        seen.update(timeline.status_on(d).status for d in probe_dates(events))

    collect()
    assert {"normal", "suspended", "terminated"} <= seen


def test_replacing_a_score_keeps_its_case_date() -> None:
    rs = RULESETS[0]
    events: list[Event] = [Score(date(2025, 5, 6), 3, case="A")]
    moved = [replace(events[0], points=4)]
    assert evaluate(rs, moved).year_points_on(date(2025, 5, 6)) == 4
