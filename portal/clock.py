"""The portal's one clock: the date in China (statuses change at midnight Beijing time).

The engine never reads a clock; the portal passes this date to it.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def china_today() -> date:
    return datetime.now(CHINA).date()
