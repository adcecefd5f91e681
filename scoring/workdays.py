"""Working days by the State Council's holiday schedule (RULES §6, I-9, I-10).

Published years come from the maintained ``chinesecalendar`` library, which knows
statutory holidays and adjusted workdays (调休). Years it lacks can be loaded from schedule
files (``scoring/calendars/*.yaml`` or any file passed to :meth:`WorkCalendar.load`). For a
year known to neither, Monday–Friday are working days and the answer carries a warning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml

from scoring.dates import parse_iso_date

CALENDAR_DIR = Path(__file__).parent / "calendars"
_ONE = timedelta(days=1)
_MEMO_SIZE = 1 << 16  # answers remembered before starting afresh


class ScheduleError(ValueError):
    """A holiday schedule file is malformed."""


def unloaded_year_warning(year: int) -> str:
    return (
        f"working days: the {year} holiday schedule is not loaded; "
        f"Monday to Friday were counted as working days (RULES I-10)"
    )


@dataclass
class WorkCalendar:
    """Which days are working days (工作日).

    A day is a working day when it is an adjusted workday, or a Monday–Friday that is not a
    statutory holiday, in a year whose schedule is known (RULES §1, I-10).
    """

    holidays: set[date] = field(default_factory=set)
    workdays: set[date] = field(default_factory=set)
    known_years: set[int] = field(default_factory=set)
    # add_working_days answers, with the years it found unloaded, for the schedule they
    # were counted on (see _stamp): restorations ask for the same few days again and again.
    _memo: dict[tuple[date, int], tuple[date, tuple[int, ...]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _memo_stamp: tuple[int, ...] = field(default=(), init=False, repr=False, compare=False)

    @classmethod
    def from_library(cls) -> WorkCalendar:
        holidays = set(chinese_calendar.holidays)
        workdays = set(chinese_calendar.workdays)
        years = {d.year for d in holidays}
        return cls(holidays=holidays, workdays=workdays, known_years=years)

    def add_schedule(self, year: int, holidays: Iterable[date], workdays: Iterable[date]) -> None:
        """Load the published schedule of one year (replacing what was known of it)."""
        self.holidays = {d for d in self.holidays if d.year != year}
        self.workdays = {d for d in self.workdays if d.year != year}
        for day in (*holidays, *workdays):
            if day.year != year:
                raise ScheduleError(f"{day.isoformat()} is not in the schedule's year {year}")
        self.holidays.update(holidays)
        self.workdays.update(workdays)
        self.known_years.add(year)

    def load(self, path: Path) -> None:
        """Load a schedule file: ``year``, ``source``, ``holidays`` and ``workdays``.

        Dates are ``YYYY-MM-DD`` or ranges ``YYYY-MM-DD..YYYY-MM-DD`` (both ends included).
        """
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("year"), int):
            raise ScheduleError(f"{path}: a schedule needs an integer 'year'")
        year: int = data["year"]
        holidays = _expand(data.get("holidays") or [], path, "holidays")
        workdays = _expand(data.get("workdays") or [], path, "workdays")
        self.add_schedule(year, holidays, workdays)

    def is_workday(self, day: date, warnings: list[str] | None = None) -> bool:
        if day.year not in self.known_years:
            if warnings is not None:
                text = unloaded_year_warning(day.year)
                if text not in warnings:
                    warnings.append(text)
            return day.weekday() < 5
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, n: int, warnings: list[str] | None = None) -> date:
        """The ``n``-th working day strictly after ``start`` (strictly before if n < 0).

        RULES I-9: "within N working days after X" means on or before this day.
        """
        if n == 0:
            raise ValueError("working_days must not be 0")
        stamp = self._stamp()
        if stamp != self._memo_stamp or len(self._memo) > _MEMO_SIZE:
            self._memo.clear()
            self._memo_stamp = stamp
        key = (start, n)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._count(start, n)
        day, unloaded = found
        if warnings is not None:
            for year in unloaded:  # the warnings is_workday gives, in the same order
                text = unloaded_year_warning(year)
                if text not in warnings:
                    warnings.append(text)
        return day

    def _stamp(self) -> tuple[int, ...]:
        """Which schedule the remembered answers were counted on."""
        h, w, k = self.holidays, self.workdays, self.known_years
        return (id(h), len(h), id(w), len(w), id(k), len(k))

    def _count(self, start: date, n: int) -> tuple[date, tuple[int, ...]]:
        """The day of :meth:`add_working_days`, and the unloaded years met on the way."""
        step = _ONE if n > 0 else -_ONE
        remaining = abs(n)
        day = start
        known, workdays, holidays = self.known_years, self.workdays, self.holidays
        unloaded: list[int] = []
        while remaining:
            day += step
            if day.year not in known:
                if day.year not in unloaded:
                    unloaded.append(day.year)
                working = day.weekday() < 5
            else:
                working = day in workdays or (day.weekday() < 5 and day not in holidays)
            if working:
                remaining -= 1
        return day, tuple(unloaded)


def _expand(items: Any, path: Path, key: str) -> list[date]:
    if not isinstance(items, list):
        raise ScheduleError(f"{path}: '{key}' must be a list of dates or ranges")
    days: list[date] = []
    for item in items:
        try:
            text = item if isinstance(item, str) else str(item)
            if ".." in text:
                first_text, last_text = text.split("..", 1)
                first, last = parse_iso_date(first_text), parse_iso_date(last_text)
                if last < first:
                    raise ValueError(f"range {text} ends before it starts")
                day = first
                while day <= last:
                    days.append(day)
                    day += _ONE
            else:
                days.append(parse_iso_date(item))
        except ValueError as exc:
            raise ScheduleError(f"{path}: {key}: {exc}") from exc
    return days


@lru_cache(maxsize=1)
def default_calendar() -> WorkCalendar:
    """The library's years plus every schedule file shipped in ``scoring/calendars``."""
    cal = WorkCalendar.from_library()
    for path in sorted(CALENDAR_DIR.glob("*.yaml")):
        cal.load(path)
    return cal
