"""Whole months and years (Civil Code Art. 202 as RULES §5.2 steps 4-5 apply it)."""

from __future__ import annotations

from datetime import date

import pytest

from scoring.dates import first_of_next_month, months_period_end, years_later


@pytest.mark.parametrize(
    ("start", "months", "last_day"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2025, 3, 1), 1, date(2025, 3, 31)),
        (date(2025, 12, 31), 2, date(2026, 2, 28)),
        (date(2026, 1, 30), 1, date(2026, 2, 28)),
        (date(2028, 1, 30), 1, date(2028, 2, 29)),
        (date(2025, 4, 10), 2, date(2025, 6, 9)),
        (date(2025, 7, 1), 6, date(2025, 12, 31)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2025, 10, 31), 4, date(2026, 2, 28)),
    ],
)
def test_a_suspension_ends_the_day_before_the_same_date_or_at_month_end(
    start: date, months: int, last_day: date
) -> None:
    assert months_period_end(start, months) == last_day


@pytest.mark.parametrize(
    ("start", "years", "first_day"),
    [
        (date(2025, 5, 20), 1, date(2026, 5, 20)),
        (date(2028, 2, 29), 3, date(2031, 3, 1)),
        (date(2028, 2, 29), 4, date(2032, 2, 29)),
    ],
)
def test_re_registration_opens_n_years_later(start: date, years: int, first_day: date) -> None:
    assert years_later(start, years) == first_day


def test_next_month_starts_on_the_first_and_rolls_over_the_year() -> None:
    assert first_of_next_month(date(2025, 3, 31)) == date(2025, 4, 1)
    assert first_of_next_month(date(2025, 12, 5)) == date(2026, 1, 1)
