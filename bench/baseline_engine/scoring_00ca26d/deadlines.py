# ruff: noqa
# mypy: ignore-errors
# Frozen copy of scoring/deadlines.py at commit 00ca26d (git archive), imports made relative.
# The baseline of bench/engine.py: do not edit.
"""Procedural deadlines in working days (RULES §6), read from the ruleset's table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .rulesets import CreditRuleset, Deadline, PractitionerRuleset
from .workdays import WorkCalendar, default_calendar


@dataclass(frozen=True, slots=True)
class Due:
    deadline: Deadline
    start: date
    due: date
    warnings: tuple[str, ...]

    @property
    def explain(self) -> str:
        d = self.deadline
        return (
            f"{d.title}: within {d.working_days} working days after {self.start.isoformat()} "
            f"→ on or before {self.due.isoformat()} ({d.ref}; RULES I-9)"
        )


def due_date(
    ruleset: PractitionerRuleset | CreditRuleset,
    deadline_id: str,
    start: date,
    calendar: WorkCalendar | None = None,
) -> Due:
    """The last day for a step: the N-th working day strictly after ``start`` (RULES I-9).

    The table of steps and their articles is the ruleset's ``deadlines`` (RULES §6), e.g.
    ``appeal``: 10 working days after receiving the notice (National-Procedure Art. 41).
    """
    try:
        deadline = ruleset.deadlines[deadline_id]
    except KeyError:
        known = ", ".join(ruleset.deadlines)
        raise KeyError(f"{ruleset.id} has no deadline {deadline_id!r}; known: {known}") from None
    warnings: list[str] = []
    cal = calendar or default_calendar()
    due = cal.add_working_days(start, deadline.working_days, warnings)
    return Due(deadline, start, due, tuple(warnings))


def credit_results_due(year: int) -> date:
    """Hunan-Credit Art. 20: 于每年4月底前确定上一年度信用评定结果 — by 30 April of year + 1."""
    return date(year + 1, 4, 30)
