"""The engine's Python API: timelines, statuses on dates, explanations."""

from __future__ import annotations

from datetime import date

import pytest

from scoring import (
    Appeal,
    InputError,
    Repair,
    Restore,
    Score,
    Shorten,
    evaluate,
    practitioner_ruleset,
)
from scoring.points import situation_points, tier_points

HUNAN = practitioner_ruleset("hunan-2025")
ANHUI = practitioner_ruleset("anhui-2025")
HAINAN = practitioner_ruleset("hainan-2025")


def test_a_status_explains_its_case_threshold_and_article() -> None:
    timeline = evaluate(HUNAN, [Score(date(2025, 5, 12), 10, case="X-1")])
    status = timeline.status_on(date(2025, 7, 1))
    assert status.status == "suspended"
    why = "\n".join(status.explain)
    assert "case X-1" in why
    assert "one case of 10" in why
    assert "Hunan-Rules Art. 9(2)" in why
    assert "Hunan-Rules Art. 11" in why  # why nothing but emergencies is paid


def test_an_ended_period_is_shown_as_restoration_pending() -> None:
    timeline = evaluate(ANHUI, [Score(date(2025, 6, 2), 9)])
    during = timeline.status_on(date(2025, 7, 1))
    after = timeline.status_on(date(2025, 9, 1))
    assert (during.status, during.restoration_pending) == ("suspended", False)
    assert (after.status, after.restoration_pending) == ("suspended", True)
    assert not after.payable and after.emergency_payable


def test_the_answer_for_a_date_ignores_later_cases() -> None:
    events = [Score(date(2025, 6, 2), 9), Score(date(2025, 6, 20), 3)]
    timeline = evaluate(ANHUI, events)
    assert timeline.status_on(date(2025, 6, 10)).period_end == date(2025, 8, 1)
    merged = timeline.status_on(date(2025, 6, 25))  # 12 points: termination beats suspension
    assert merged.status == "terminated"
    assert merged.reregister_from == date(2026, 6, 20)


def test_several_periods_show_the_termination_first() -> None:
    events = [Score(date(2025, 6, 2), 9), Score(date(2025, 6, 3), 3)]
    timeline = evaluate(HUNAN, events)
    periods = timeline.periods
    assert {p.kind for p in periods} == {"suspension", "termination"}
    assert timeline.status_on(date(2025, 7, 15)).status == "terminated"


def test_a_cancelled_licence_cannot_be_restored_or_shortened() -> None:
    cancel = situation_points(ANHUI, "anhui-2025.licence", "main")
    timeline = evaluate(
        ANHUI,
        [
            Score(date(2025, 9, 1), cancel.points, cancels=cancel.cancels),
            Restore(date(2027, 1, 4)),
        ],
    )
    assert timeline.outcomes[1].reason == "cancelled"
    status = timeline.status_on(date(2030, 1, 1))
    assert status.status == "cancelled"
    assert (status.payable, status.emergency_payable) == (False, False)


def test_an_appeal_to_an_unknown_case_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"events\[1\]\.target"):
        evaluate(HUNAN, [Score(date(2025, 5, 1), 3, case="A"), Appeal(date(2025, 5, 9), "B", 0)])


def test_an_appeal_by_event_index_must_point_at_a_score() -> None:
    with pytest.raises(InputError, match=r"events\[1\]\.target"):
        evaluate(HUNAN, [Restore(date(2025, 5, 1)), Appeal(date(2025, 5, 9), 0, 0)])


def test_repairs_subtract_from_the_capped_hainan_total() -> None:
    events = [
        Score(date(2025, 5, 6), 9),
        Score(date(2025, 5, 7), 9),  # 18 capped at 12
        Repair(date(2025, 6, 2), "online_learning"),
    ]
    timeline = evaluate(HAINAN, events)
    assert timeline.year_points_on(date(2025, 5, 7)) == 12
    assert timeline.year_points_on(date(2025, 6, 2)) == 11


def test_a_shortened_termination_moves_re_registration() -> None:
    timeline = evaluate(
        HAINAN, [Score(date(2025, 5, 6), 12), Shorten(date(2025, 9, 1), date(2026, 1, 31))]
    )
    assert timeline.outcomes[1].accepted
    assert timeline.status_on(date(2025, 9, 2)).reregister_from == date(2026, 2, 1)


def test_tier_points_follow_position_and_adjustment() -> None:
    assert tier_points(HUNAN, 3, "important").points == 8
    assert tier_points(HUNAN, 1, "general", "lighter").points == 1
    assert tier_points(HUNAN, 4, "main", "heavier").points == 12
    assert tier_points(HUNAN, 1, "general", "lighter_tier").points == 1
    assert tier_points(HUNAN, 4, "general", "heavier_tier").points == 10
    with pytest.raises(InputError, match="responsibility"):
        tier_points(HUNAN, 2, "boss")


def test_anhui_fraud_scores_12_whatever_the_responsibility() -> None:
    for responsibility in ("general", "important", "main"):
        assert situation_points(ANHUI, "anhui-2025.fraud", responsibility).points == 12


def test_an_event_after_the_ruleset_expired_is_evaluated_with_a_warning() -> None:
    timeline = evaluate(HUNAN, [Score(date(2027, 3, 5), 3)])
    assert timeline.year_points_on(date(2027, 3, 5)) == 3
    assert any("I-1" in w for w in timeline.warnings)


def test_a_linked_termination_can_be_restored_on_approval_with_the_points_rule() -> None:
    from scoring import Linked

    events = [
        Linked(date(2025, 6, 2), "termination", date(2025, 6, 2), cause="agreement terminated"),
        Restore(date(2025, 9, 1)),
    ]
    timeline = evaluate(HUNAN, events)
    assert timeline.status_on(date(2025, 7, 1)).status == "terminated"
    assert timeline.outcomes[1].accepted
    assert timeline.status_on(date(2025, 9, 1)).status == "normal"


def test_a_linked_suspension_needs_an_end() -> None:
    from scoring import Linked

    with pytest.raises(InputError, match=r"events\[0\]\.end"):
        evaluate(HUNAN, [Linked(date(2025, 6, 2), "suspension", date(2025, 6, 2))])
