# ruff: noqa
# mypy: ignore-errors
# Frozen copy of scoring/dates.py at commit 00ca26d (git archive), imports made relative.
# The baseline of bench/engine.py: do not edit.
"""Calendar arithmetic for periods measured in months and years.

RULES §5.2 steps 4 and 5 apply them to suspensions and re-registration bans. The start day
is counted because the notice states its own first day ("自…起至…止", National-Procedure
Annex 3), so Civil Code Art. 204's exception applies rather than Art. 201's "开始的当日不计入";
Civil Code Art. 202 decides only months that lack the corresponding day (the last day of
that month).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)


def last_day_of_month(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _shift_month(year: int, month: int, months: int) -> tuple[int, int]:
    total = year * 12 + (month - 1) + months
    return total // 12, total % 12 + 1


def first_of_next_month(day: date) -> date:
    """Hunan-Rules Art. 9: "从次月起" — the first day of the month after ``day``."""
    year, month = _shift_month(day.year, day.month, 1)
    return date(year, month, 1)


def months_period_end(start: date, months: int) -> date:
    """Last day of a period of ``months`` whole months that starts on ``start``.

    RULES §5.2 step 4: the start day is counted (the notice's own "自…起", Civil Code
    Art. 204), so the period ends the day before the same date ``months`` later; where that
    date does not exist it ends on the last day of that month (Civil Code Art. 202: 1 month
    from 31 January ends on 28/29 February).
    """
    year, month = _shift_month(start.year, start.month, months)
    if start.day > calendar.monthrange(year, month)[1]:
        return last_day_of_month(year, month)
    return date(year, month, start.day) - ONE_DAY


def years_later(start: date, years: int) -> date:
    """The same date ``years`` later; a missing 29 February becomes 1 March.

    RULES §5.2 step 5: re-registration is allowed from this date (a ban from 29 Feb 2028
    for 3 years runs through 28 Feb 2031, so re-registration from 1 March 2031).
    """
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return date(start.year + years, 3, 1)


def parse_iso_date(value: object) -> date:
    """A date from a ``date`` or a ``YYYY-MM-DD`` string; ValueError otherwise."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return date.fromisoformat(value)
    raise ValueError(f"expected a date written YYYY-MM-DD, got {value!r}")
