"""One institution: its staff, their points and statuses, and what it must publish.

Hunan-Rules Art. 11: an institution publishes a suspension or termination of its staff (on
screens, the notice board, the registration platform) within one working day of receiving
the notice (``institution_publish`` in the ruleset's deadlines, RULES §6). The page lists
those notices with their last day, and prints a notice-board sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy import func
from sqlmodel import Session, col, select

from admin.common import Officer, db, in_thread, institution_for, is_whole, page, signed_in
from portal.clock import china_today
from portal.models import Institution, Notice, Practitioner, Registration, StatusCache
from portal.services import cache, ledger
from portal.services import credit_evaluation as credit
from portal.services.errors import ServiceError
from portal.services.registry import STATUS_ZH, agreement_state
from portal.services.roles import CREDIT_READ, REGISTRATIONS, VIEW
from scoring.deadlines import due_date
from scoring.engine import Timeline
from scoring.model import StatusOn
from scoring.rulesets import practitioner_ruleset

PER_PAGE = 50
PRACTICE_ZH = {"doctor": "医师", "nurse": "护士", "pharmacist": "药师", "technician": "技师"}
KIND_ZH = {"hospital": "定点医疗机构", "pharmacy": "定点零售药店"}
OWNERSHIP_ZH = {"public": "公立", "private": "非公立"}
RESTRICTED = ("suspended", "terminated", "cancelled")


@dataclass
class Staff:
    registration: Registration
    person: Practitioner
    status: StatusOn


@dataclass
class Publish:
    """A suspension or termination the institution must make public (Hunan-Rules Art. 11)."""

    person: Practitioner
    notice: Notice
    due: date | None
    ref: str

    def passed(self, today: date) -> bool:
        return self.due is not None and self.due < today


def _statuses(session: Session, people: list[Practitioner], today: date) -> dict[int, StatusOn]:
    """Today's status of each person: from the cache where it answers, else a replay."""
    ids = [p.id or 0 for p in people]
    rows = {
        r.practitioner_id: r.timeline
        for r in session.exec(select(StatusCache).where(col(StatusCache.practitioner_id).in_(ids)))
    }
    out = {}
    for person in people:
        status = cache.cached_status(rows.get(person.id or 0), person.ruleset, today)
        out[person.id or 0] = status or ledger.timeline_of(session, person).status_on(today)
    return out


def _staff(
    session: Session, institution: Institution, today: date, page_no: int, restricted: bool
) -> tuple[list[Staff], int]:
    """Current staff, the restricted first (by the stored status, refreshed daily), one
    page at a time; ``restricted``: only them."""
    current = (
        select(Registration, Practitioner)
        .join(Practitioner, col(Practitioner.id) == Registration.practitioner_id)
        .where(Registration.institution_id == institution.id)
        .where(col(Registration.deregistered_on).is_(None))
    )
    counted = (
        select(func.count())
        .select_from(Registration)
        .where(Registration.institution_id == institution.id)
        .where(col(Registration.deregistered_on).is_(None))
    )
    if restricted:
        current = current.where(col(Registration.status).in_(RESTRICTED))
        counted = counted.where(col(Registration.status).in_(RESTRICTED))
    total = int(session.exec(counted).one())
    rows = session.exec(
        current.order_by(
            col(Registration.status) == "normal", col(Practitioner.name), col(Practitioner.id)
        )
        .offset((page_no - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    statuses = _statuses(session, [p for _, p in rows], today)
    return [Staff(r, p, statuses[p.id or 0]) for r, p in rows], total


def _to_publish(session: Session, institution: Institution, today: date) -> list[Publish]:
    """Notices of suspension or termination for current staff, while the period runs or
    the person awaits restoration: due one working day after receipt
    (``institution_publish``; Hunan-Rules Art. 11)."""
    found = session.exec(
        select(Notice, Practitioner, Registration.status)
        .join(Practitioner, col(Practitioner.id) == Notice.practitioner_id)
        .join(Registration, col(Registration.practitioner_id) == Notice.practitioner_id)
        .where(Registration.institution_id == institution.id)
        .where(col(Registration.deregistered_on).is_(None))
        .where(col(Notice.status).in_(("suspended", "terminated")))
        .order_by(col(Notice.issued_on).desc(), col(Notice.id).desc())
    ).all()
    out = []
    for notice, person, stored in found:
        ends = notice.period_end or (
            notice.reregister_from if notice.status == "terminated" else None
        )
        # Over, and the person restored: nothing left to show (until restoration the
        # status stays, RULES I-8, and so does the notice).
        if ends is not None and ends < today and stored not in RESTRICTED:
            continue
        rs = practitioner_ruleset(person.ruleset)
        step = rs.deadlines.get("institution_publish")
        if step is None:  # no day set (Anhui, Hainan): patients must still be able to know
            out.append(Publish(person, notice, None, "National-Procedure Art. 37"))
            continue
        due = None
        if notice.delivered_on is not None:
            due = due_date(rs, step.id, notice.delivered_on).due
        out.append(Publish(person, notice, due, step.ref))
    return sorted(out, key=lambda p: (p.due is None, p.due or date.max, p.person.name))


def _counts(session: Session, institution: Institution) -> dict[str, int]:
    rows = session.exec(
        select(Registration.status, func.count())
        .where(Registration.institution_id == institution.id)
        .where(col(Registration.deregistered_on).is_(None))
        .group_by(col(Registration.status))
    ).all()
    return {str(status): int(n) for status, n in rows}


def _page_no(text: str) -> int:
    if not is_whole(text) or not 1 <= int(text) <= 1_000_000:
        raise ServiceError("page", "页码应为 1 至 1000000 的整数")
    return int(text)


def _institution_page(
    request: Request[Any, Any, Any], code: str, page_text: str, restricted: bool
) -> Template:
    today = china_today()
    page_no = _page_no(page_text)
    with db(request) as session:
        officer: Officer = signed_in(request, session)
        officer.require(VIEW)
        institution = institution_for(session, officer, code)
        staff, total = _staff(session, institution, today, page_no, restricted)
        if page_no > 1 and not staff:
            raise ServiceError("page", "没有这一页", code="not_found")
        context: dict[str, Any] = {
            "i": institution,
            "today": today,
            "agreement": agreement_state(session, institution.id or 0, today),
            "staff": staff,
            "total": total,
            "page_no": page_no,
            "pages": max(1, -(-total // PER_PAGE)),
            "counts": _counts(session, institution),
            "publish": _to_publish(session, institution, today),
            "former": session.exec(
                select(Registration, Practitioner)
                .join(Practitioner, col(Practitioner.id) == Registration.practitioner_id)
                .where(Registration.institution_id == institution.id)
                .where(col(Registration.deregistered_on).is_not(None))
                .order_by(col(Registration.deregistered_on).desc())
                .limit(50)
            ).all(),
            "can_register": officer.can(REGISTRATIONS),
            "only_restricted": restricted,
            "credit_results": credit.results_of(
                session, credit.KIND_OF_INSTITUTION.get(institution.kind, ""), institution.code
            )
            if officer.can(CREDIT_READ)
            else None,
        }
    return page(request, "admin/institution.html", officer, status_zh=STATUS_ZH,
                practice_zh=PRACTICE_ZH, kind_zh=KIND_ZH, ownership_zh=OWNERSHIP_ZH,
                **context)  # fmt: skip


@get("/admin/institutions/{code:str}", include_in_schema=False)
async def institution_page(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    page: FromQuery[str] = "1",
    status: FromQuery[str] = "",
) -> Template:
    return await in_thread(_institution_page, request, code[:32], page[:8], status == "restricted")


def _timeline(session: Session, person: Practitioner, text: str, today: date) -> Timeline:
    """The cached timeline when it answers for today and after, else the ledger's replay."""
    try:
        timeline = cache.decode(text)
    except (ValueError, KeyError, TypeError):  # a damaged row: the ledger is the truth
        return ledger.timeline_of(session, person)
    if timeline.last_date is not None and today < timeline.last_date:
        return ledger.timeline_of(session, person)
    return timeline


def _board(request: Request[Any, Any, Any], code: str) -> Template:
    """The notice-board sheet: every member of staff restricted today or by a decided
    period still to come, as the patients in the hall should read it."""
    today = china_today()
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(VIEW)
        institution = institution_for(session, officer, code)
        rows: list[tuple[Practitioner, StatusOn, date | None]] = []
        # Only people with a history can be restricted: those with a status_cache row.
        for person, text in session.exec(
            select(Practitioner, StatusCache.timeline)
            .join(Registration, col(Registration.practitioner_id) == Practitioner.id)
            .join(StatusCache, col(StatusCache.practitioner_id) == Practitioner.id)
            .where(Registration.institution_id == institution.id)
            .where(col(Registration.deregistered_on).is_(None))
            .order_by(col(Practitioner.name), col(Practitioner.id))
        ).all():
            timeline = _timeline(session, person, text, today)
            status = timeline.status_on(today)
            if status.status in ("suspended", "terminated"):
                rows.append((person, status, None))
                continue
            coming = [p for p in timeline.periods if p.start > today and p.restored_on is None]
            if coming:
                rows.append((person, timeline.status_on(coming[0].start), coming[0].start))
        publish = {p.notice.practitioner_id: p for p in _to_publish(session, institution, today)}
        rs = practitioner_ruleset(institution.ruleset)
    return page(request, "admin/institution_board.html", officer, i=institution, today=today,
                rows=rows, publish=publish, practice_zh=PRACTICE_ZH, ruleset=rs)  # fmt: skip


@get("/admin/institutions/{code:str}/notice-board", include_in_schema=False)
async def institution_board(request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
    return await in_thread(_board, request, code[:32])


ROUTES = [institution_page, institution_board]
