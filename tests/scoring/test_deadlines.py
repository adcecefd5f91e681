"""Procedural deadlines from the rulesets' tables (RULES §6)."""

from __future__ import annotations

from datetime import date

import pytest

from scoring.deadlines import credit_results_due, due_date
from scoring.rulesets import credit_ruleset, practitioner_ruleset


def test_an_appeal_is_due_10_working_days_after_the_notice_across_national_day() -> None:
    due = due_date(practitioner_ruleset("hunan-2025"), "appeal", date(2025, 9, 26))
    assert due.due == date(2025, 10, 16)
    assert "National-Procedure Art. 41" in due.explain
    assert due.warnings == ()


def test_the_responsibility_objection_uses_10_days_not_the_annex_s_7() -> None:
    deadline = practitioner_ruleset("hunan-2025").deadlines["responsibility_objection"]
    assert deadline.working_days == 10  # Hunan-Rules Art. 19 over Annex 1 (RULES I-11)


def test_an_institution_publishes_on_the_first_working_day_after_receipt() -> None:
    due = due_date(practitioner_ruleset("hunan-2025"), "institution_publish", date(2025, 4, 30))
    assert due.due == date(2025, 5, 6)  # May Day holiday 1-5 May 2025


def test_a_credit_objection_answer_in_an_unloaded_year_warns() -> None:
    due = due_date(credit_ruleset("hunan-credit-2024"), "objection_own_data", date(2028, 6, 30))
    assert due.due == date(2028, 7, 5)
    assert any("2028" in w for w in due.warnings)


def test_an_unknown_step_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="appeal"):
        due_date(practitioner_ruleset("anhui-2025"), "institution_publish", date(2025, 6, 2))


def test_annual_credit_results_are_due_by_30_april() -> None:
    assert credit_results_due(2025) == date(2026, 4, 30)
