"""What the public may see: search, a practitioner's status, disclosures, the blacklist and
feeds. Read-only, plain queries on a connection.

Privacy (RULES §9; Hunan-Credit Art. 5, 36): nothing here selects an ID number (hash or
mask), a phone number or a birth date; names, codes, institutions, statuses and published
decisions only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from portal.models import Decision, Institution, Notice, Practitioner, Registration, table
from portal.services.lookup import status_by_code
from scoring.model import StatusOn
from scoring.rulesets import practitioner_ruleset

PEOPLE = table(Practitioner)
REGS = table(Registration)
INST = table(Institution)
NOTICES = table(Notice)
DECISIONS = table(Decision)
PUBLIC_STATUSES = ("suspended", "terminated", "cancelled")
BLACKLIST_YEARS = 3  # Hunan-Credit Art. 33(1); individuals the same (RULES I-19)


@dataclass(frozen=True)
class Site:
    code: str
    name: str
    region: str
    kind: str


@dataclass
class PublicPerson:
    code: str
    name: str
    practice_type: str
    title: str
    status: StatusOn
    sites: list[Site]
    points_public: bool
    decisions: list[dict[str, Any]] = field(default_factory=list)

    def api(self) -> dict[str, Any]:
        """The status API's shape (spec/DESIGN.md "Public contracts")."""
        s = self.status
        return {
            "code": self.code,
            "name": self.name,
            "status": s.status,
            "period_start": s.period_start.isoformat() if s.period_start else None,
            "period_end": s.period_end.isoformat() if s.period_end else None,
            "reregister_from": s.reregister_from.isoformat() if s.reregister_from else None,
            "restoration_pending": s.restoration_pending,
            "payable": s.payable,
            "emergency_payable": s.emergency_payable,
            "year_points": s.year_points if self.points_public else None,
            "as_of": s.on.isoformat(),
            "institutions": [{"code": x.code, "name": x.name} for x in self.sites],
        }


def _sites(conn: Connection, person_ids: list[int], on: date) -> dict[int, list[Site]]:
    query = (
        select(REGS.c.practitioner_id, INST.c.code, INST.c.name, INST.c.region, INST.c.kind)
        .select_from(REGS.join(INST, INST.c.id == REGS.c.institution_id))
        .where(REGS.c.practitioner_id.in_(person_ids))
        .where(REGS.c.registered_on <= on)
        .where(or_(REGS.c.deregistered_on.is_(None), REGS.c.deregistered_on > on))
        .order_by(REGS.c.practitioner_id, INST.c.code)
    )
    sites: dict[int, list[Site]] = {pid: [] for pid in person_ids}
    for pid, code, name, region, kind in conn.execute(query):
        sites[pid].append(Site(code, name, region, kind))
    return sites


def person(conn: Connection, code: str, on: date) -> PublicPerson | None:
    found = status_by_code(conn, code, on)
    if found is None:
        return None
    row = conn.execute(
        select(PEOPLE.c.practice_type, PEOPLE.c.title, PEOPLE.c.ruleset).where(
            PEOPLE.c.id == found.id
        )
    ).one()
    ruleset = practitioner_ruleset(row.ruleset)
    points_public = (
        found.status.status != "normal" or found.status.year_points >= ruleset.publish_points_from
    )
    result = PublicPerson(
        found.national_code,
        found.name,
        row.practice_type,
        row.title,
        found.status,
        _sites(conn, [found.id], on)[found.id],
        points_public,
    )
    notices = conn.execute(
        select(
            NOTICES.c.issued_on,
            NOTICES.c.points,
            NOTICES.c.status,
            NOTICES.c.period_start,
            NOTICES.c.period_end,
            NOTICES.c.reregister_from,
            DECISIONS.c.document_no,
            DECISIONS.c.decision_date,
            DECISIONS.c.decision_type,
            DECISIONS.c.legal_basis,
        )
        .select_from(NOTICES.join(DECISIONS, DECISIONS.c.id == NOTICES.c.decision_id))
        .where(NOTICES.c.practitioner_id == found.id)
        .where(NOTICES.c.status.in_(PUBLIC_STATUSES))
        .where(NOTICES.c.issued_on <= on)
        .order_by(DECISIONS.c.decision_date.desc())
    )
    result.decisions = [dict(r._mapping) for r in notices]
    return result


def search(conn: Connection, q: str, on: date, limit: int = 20) -> list[PublicPerson]:
    """By national code (exact), name (prefix) or institution name (contains).

    At most ``limit`` people and no paging: enough to find one doctor, not to list everyone.
    """
    q = q.strip()
    if not q:
        return []
    code = q.upper()
    ids: list[int] = list(
        conn.execute(select(PEOPLE.c.id).where(PEOPLE.c.national_code == code)).scalars()
    )
    if len(ids) < limit:
        by_name = (
            select(PEOPLE.c.id)
            .where(and_(PEOPLE.c.name >= q, PEOPLE.c.name < q + "\uffff"))
            .order_by(PEOPLE.c.name, PEOPLE.c.id)
            .limit(limit - len(ids))
        )
        ids += [i for i in conn.execute(by_name).scalars() if i not in ids]
    if len(ids) < limit and len(q) >= 2:
        institutions = select(INST.c.id).where(INST.c.name.contains(q)).limit(5)
        by_site = (
            select(REGS.c.practitioner_id)
            .where(REGS.c.institution_id.in_(institutions))
            .where(REGS.c.deregistered_on.is_(None))
            .order_by(REGS.c.practitioner_id)
            .limit(limit - len(ids))
        )
        ids += [i for i in conn.execute(by_site).scalars() if i not in ids]
    if not ids:
        return []
    rows = conn.execute(
        select(PEOPLE.c.id, PEOPLE.c.national_code).where(PEOPLE.c.id.in_(ids[:limit]))
    ).all()
    code_of: dict[int, str] = {int(r[0]): str(r[1]) for r in rows}
    found = [person(conn, code_of[i], on) for i in ids[:limit] if i in code_of]
    return [p for p in found if p is not None]


@dataclass(frozen=True)
class Filters:
    region: str = ""
    institution: str = ""
    status: str = ""


def disclosures(
    conn: Connection, filters: Filters, on: date, page: int = 1, per_page: int = 50
) -> tuple[list[dict[str, Any]], int]:
    """Currently suspended and terminated practitioners (Hunan-Rules Art. 9(2)-(4)), one row
    per person and institution, with their period. Returns (rows, total)."""
    where = [REGS.c.deregistered_on.is_(None), REGS.c.status.in_(PUBLIC_STATUSES)]
    if filters.status:
        where.append(REGS.c.status == filters.status)
    if filters.region:
        where.append(INST.c.region.startswith(filters.region))
    if filters.institution:
        where.append(INST.c.code == filters.institution)
    base = REGS.join(INST, INST.c.id == REGS.c.institution_id).join(
        PEOPLE, PEOPLE.c.id == REGS.c.practitioner_id
    )
    total = int(conn.execute(select(func.count()).select_from(base).where(*where)).scalar_one())
    query = (
        select(
            PEOPLE.c.national_code,
            PEOPLE.c.name,
            INST.c.code.label("institution_code"),
            INST.c.name.label("institution"),
            INST.c.region,
            REGS.c.status,
        )
        .select_from(base)
        .where(*where)
        .order_by(PEOPLE.c.national_code, INST.c.code)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = [dict(r._mapping) for r in conn.execute(query)]
    for row in rows:
        found = status_by_code(conn, row["national_code"], on)
        status = found.status if found else None
        row["period_start"] = status.period_start if status else None
        row["period_end"] = status.period_end if status else None
        row["reregister_from"] = status.reregister_from if status else None
        row["restoration_pending"] = status.restoration_pending if status else False
        row["year_points"] = status.year_points if status else None
    return rows, total


def blacklist(conn: Connection, on: date, since: int = 0, limit: int = 200) -> list[dict[str, Any]]:
    """Terminated practitioners in their publication period (Hunan-Rules Art. 17; Hunan-
    Credit Art. 33; 3 years, RULES I-19), oldest listing first, after the ``since`` cursor."""
    first = on - timedelta(days=365 * BLACKLIST_YEARS + 1)
    query = (
        select(
            NOTICES.c.id,
            PEOPLE.c.national_code,
            PEOPLE.c.name,
            NOTICES.c.issued_on,
            NOTICES.c.period_start,
            NOTICES.c.reregister_from,
            DECISIONS.c.document_no,
            INST.c.name.label("institution"),
        )
        .select_from(
            NOTICES.join(PEOPLE, PEOPLE.c.id == NOTICES.c.practitioner_id)
            .join(DECISIONS, DECISIONS.c.id == NOTICES.c.decision_id)
            .join(INST, INST.c.id == DECISIONS.c.institution_id)
        )
        .where(NOTICES.c.status == "terminated")
        .where(NOTICES.c.issued_on > first, NOTICES.c.issued_on <= on)
        .where(NOTICES.c.id > since)
        .order_by(NOTICES.c.id)
        .limit(limit)
    )
    return [dict(r._mapping) for r in conn.execute(query)]


def status_changes(conn: Connection, since: int = 0, limit: int = 200) -> list[dict[str, Any]]:
    """Published suspensions and terminations, in the order they were published (the
    ``since`` cursor is the last item's id)."""
    query = (
        select(
            NOTICES.c.id,
            PEOPLE.c.national_code,
            PEOPLE.c.name,
            NOTICES.c.status,
            NOTICES.c.issued_on,
            NOTICES.c.period_start,
            NOTICES.c.period_end,
            NOTICES.c.reregister_from,
            NOTICES.c.points,
            DECISIONS.c.document_no,
            INST.c.name.label("institution"),
        )
        .select_from(
            NOTICES.join(PEOPLE, PEOPLE.c.id == NOTICES.c.practitioner_id)
            .join(DECISIONS, DECISIONS.c.id == NOTICES.c.decision_id)
            .join(INST, INST.c.id == DECISIONS.c.institution_id)
        )
        .where(NOTICES.c.status.in_(PUBLIC_STATUSES))
        .where(NOTICES.c.id > since)
        .order_by(NOTICES.c.id)
        .limit(limit)
    )
    return [dict(r._mapping) for r in conn.execute(query)]
