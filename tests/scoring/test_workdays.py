"""Working days by the State Council schedule (RULES §6, I-9, I-10)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from scoring.workdays import ScheduleError, WorkCalendar, default_calendar


def test_adjusted_weekend_workdays_count_and_holidays_do_not() -> None:
    cal = default_calendar()
    assert cal.is_workday(date(2025, 9, 28))  # Sunday, adjusted workday before National Day
    assert not cal.is_workday(date(2025, 10, 3))  # National Day holiday, a Friday
    assert cal.add_working_days(date(2025, 9, 26), 10) == date(2025, 10, 16)


def test_the_2026_schedule_is_known() -> None:
    warnings: list[str] = []
    due = default_calendar().add_working_days(date(2026, 2, 13), 3, warnings)
    assert warnings == []
    assert due > date(2026, 2, 23)  # Spring Festival 2026 runs 15-23 February


def test_counting_backwards_mirrors_the_rule() -> None:
    # Hainan early restoration (RULES I-12): the 15th working day before 2025-10-02.
    assert default_calendar().add_working_days(date(2025, 10, 2), -15) == date(2025, 9, 11)


def test_an_unloaded_year_counts_monday_to_friday_and_warns() -> None:
    warnings: list[str] = []
    due = default_calendar().add_working_days(date(2030, 12, 27), 2, warnings)
    assert due == date(2030, 12, 31)
    assert len(warnings) == 1 and "2030" in warnings[0] and "I-10" in warnings[0]


def test_a_schedule_file_teaches_a_new_year(tmp_path: Path) -> None:
    schedule = tmp_path / "2030.yaml"
    schedule.write_text(
        "year: 2030\nsource: test schedule\nholidays: [2030-12-30..2030-12-31]\n"
        "workdays: [2030-12-28]\n",
        encoding="utf-8",
    )
    cal = WorkCalendar.from_library()
    cal.load(schedule)
    warnings: list[str] = []
    assert cal.add_working_days(date(2030, 12, 27), 1, warnings) == date(2030, 12, 28)
    assert cal.add_working_days(date(2030, 12, 28), 1, warnings) == date(2031, 1, 1)
    assert warnings == [w for w in warnings if "2031" in w]  # only 2031 is unknown


def test_a_schedule_with_a_day_of_another_year_is_refused(tmp_path: Path) -> None:
    schedule = tmp_path / "bad.yaml"
    schedule.write_text("year: 2030\nholidays: [2031-01-01]\n", encoding="utf-8")
    with pytest.raises(ScheduleError, match="2031-01-01"):
        WorkCalendar.from_library().load(schedule)


def test_remembered_answers_follow_a_newly_loaded_schedule(tmp_path: Path) -> None:
    cal = WorkCalendar.from_library()
    first: list[str] = []
    assert cal.add_working_days(date(2030, 12, 27), 1, first) == date(2030, 12, 30)
    again: list[str] = []
    assert cal.add_working_days(date(2030, 12, 27), 1, again) == date(2030, 12, 30)
    assert again == first and len(first) == 1  # a remembered answer warns as before
    schedule = tmp_path / "2030.yaml"
    schedule.write_text("year: 2030\nholidays: [2030-12-30..2030-12-31]\n", encoding="utf-8")
    cal.load(schedule)
    known: list[str] = []
    assert cal.add_working_days(date(2030, 12, 27), 1, known) == date(2031, 1, 1)
    assert all("2031" in w for w in known)
    cal.holidays.discard(date(2030, 12, 31))  # changed by hand: counted afresh too
    assert cal.add_working_days(date(2030, 12, 27), 1) == date(2030, 12, 31)
