"""缩减暂停或终止期限: shortening a period where the rules provide it (Hainan-Rules Art. 16)."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from portal.services import disclosure_feed, ledger
from portal.services.applications import (
    REFUSAL_ZH,
    try_event,
)
from portal.services.errors import ServiceError
from portal.services.registry import (
    Act,
    get_practitioner,
)
from scoring.model import Outcome, Shorten


def shorten_period(
    session: Session, act: Act, *, national_code: str, on: date, new_end: date
) -> Outcome:
    """缩减暂停或终止期限 where the rules provide it (Hainan-Rules Art. 16; RULES §7)."""
    person = get_practitioner(session, national_code)
    ledger.lock_people(session, [person.id or 0])
    outcome = try_event(session, person, Shorten(on, new_end))
    if not outcome.accepted:
        raise ServiceError("new_end", REFUSAL_ZH.get(outcome.reason or "", outcome.reason or ""))
    ledger.append(session, act, person, "shorten", on, {"end": new_end.isoformat()})
    timeline = ledger.recompute(session, person, on)
    disclosure_feed.follow(session, person, on, "shortening", timeline)
    return outcome
