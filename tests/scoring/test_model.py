"""Outcomes, periods and statuses: read-only values whose explanations are written when read."""

from __future__ import annotations

import copy
import pickle
from datetime import date

import pytest

from scoring import Outcome, Period, Repair, Restore, Score, StatusOn, evaluate
from scoring.model import lazy_outcome, lazy_period
from scoring.rulesets import practitioner_ruleset

HUNAN = practitioner_ruleset("hunan-2025")
D = date(2025, 6, 3)


def _story() -> list[Score | Repair | Restore]:
    return [
        Score(date(2025, 5, 12), 10, case="X-1"),
        Repair(date(2025, 7, 1), "exam", 88),
        Restore(date(2025, 10, 8)),
    ]


def test_an_explanation_kept_as_pieces_reads_as_the_text() -> None:
    calls: list[int] = []

    def write(points: int) -> str:
        calls.append(points)
        return f"{points} points given"

    lazy = lazy_outcome(0, "score", 3, True, None, None, None, None, (write, 3))
    assert calls == []  # nothing written until read
    plain = Outcome(0, "score", 3, True, explain="3 points given")
    assert lazy.explain == "3 points given"
    assert lazy.explain == "3 points given"
    assert calls == [3]  # written once
    assert lazy == plain and hash(lazy) == hash(plain)
    assert lazy.to_json() == plain.to_json()


def test_outcomes_periods_and_statuses_are_read_only_values() -> None:
    timeline = evaluate(HUNAN, _story())
    outcome = timeline.outcomes[0]
    period = timeline.periods[0]
    status = timeline.status_on(date(2025, 7, 1))
    for value, name in ((outcome, "points"), (period, "end"), (status, "status")):
        with pytest.raises(AttributeError):
            setattr(value, name, None)
        assert copy.copy(value) == value
        assert pickle.loads(pickle.dumps(value)) == value
        assert hash(pickle.loads(pickle.dumps(value))) == hash(value)
        assert value == copy.deepcopy(value)
        assert value != object()


def test_they_print_and_compare_as_the_dataclasses_they_were() -> None:
    period = Period("suspension", D, D, None, D, ("why",), sources=("C1",))
    assert repr(period) == (
        "Period(kind='suspension', start=datetime.date(2025, 6, 3), end=datetime.date(2025, 6, 3), "
        "reregister_from=None, decided_on=datetime.date(2025, 6, 3), causes=('why',), "
        "restored_on=None, sources=('C1',))"
    )
    assert repr(Outcome(1, "restore", accepted=False, reason="too_early", explain="x")) == (
        "Outcome(index=1, type='restore', points=None, counted=None, granted=None, "
        "accepted=False, reason='too_early', effective=None, explain='x')"
    )
    lazy = lazy_period("suspension", D, D, None, D, (str.upper, "why"), "C1")
    assert lazy.causes == ("WHY",)
    assert lazy == Period("suspension", D, D, None, D, ("WHY",), sources=("C1",))
    assert lazy != period
    status = StatusOn(D, "normal", None, None, None, False, 0, "none", True, True, ("a",))
    assert status == StatusOn(D, "normal", None, None, None, False, 0, "none", True, True, ("a",))
    assert status != StatusOn(D, "normal", None, None, None, False, 0, "none", True, True, ("b",))
    assert status.explain == ("a",) and status.to_json()["explain"] == ["a"]


def test_amending_a_period_keeps_what_is_not_changed() -> None:
    period = lazy_period("termination", D, None, date(2026, 6, 3), D, (str.upper, "a"), "C1")
    restored = period.amended(D, None, date(2026, 6, 3), D, date(2026, 6, 3))
    assert restored.restored_on == date(2026, 6, 3) and restored.causes == ("A",)
    assert restored.sources == ("C1",) and period.restored_on is None
    extended = period.amended(D, None, date(2028, 6, 3), D, None, "b", ("C2",))
    assert extended.causes == ("A", "b") and extended.sources == ("C1", "C2")
    assert extended.last_day() == date(2028, 6, 2)


def test_statuses_explain_the_same_when_read_late() -> None:
    timeline = evaluate(HUNAN, _story())
    early = timeline.status_on(date(2025, 7, 1))
    text = "\n".join(early.explain)
    assert "case X-1" in text and "one case of 10" in text and "Hunan-Rules Art. 11" in text
    assert early == timeline.status_on(date(2025, 7, 1))
