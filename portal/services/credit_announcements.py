"""The public announcement of published credit results and how to query them (Hunan-Credit
Art. 22: results and their query method announced; Art. 23: authorised real-time queries).

Each published run is one announcement: its year, region, the day it was published (China
time) and its counts per grade and subject kind, held and excluded. Only counts are public
here; names are public only on the A-grade list (Art. 31(1)) and the blacklist."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from portal.clock import CHINA
from portal.models import CreditRun

GRADES = ("A", "B", "C", "D")


@dataclass(frozen=True)
class Announcement:
    year: int
    region: str
    published_on: date
    total: int
    grades: dict[str, int]
    kinds: dict[str, int]
    held: int
    excluded: int


def announcements(session: Session, limit: int = 50) -> list[Announcement]:
    """The published runs, newest year first, then by region (Art. 22)."""
    runs = session.exec(
        select(CreditRun)
        .where(CreditRun.state == "published")
        .order_by(col(CreditRun.year).desc(), col(CreditRun.region), col(CreditRun.id).desc())
        .limit(limit)
    ).all()
    out = []
    for run in runs:
        counts = json.loads(run.counts or "{}")
        published = run.published_at or run.started_at
        out.append(
            Announcement(
                year=run.year,
                region=run.region,
                published_on=published.astimezone(CHINA).date(),
                total=int(counts.get("total", 0)),
                grades={g: int(counts.get("grades", {}).get(g, 0)) for g in GRADES},
                kinds={str(k): int(n) for k, n in counts.get("kinds", {}).items()},
                held=int(counts.get("held", 0)),
                excluded=sum(int(n) for n in counts.get("excluded", {}).values()),
            )
        )
    return out
