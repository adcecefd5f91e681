"""Institution-level flags for officers (the portal flags; an officer decides).

National-Procedure Art. 30: institutions where the person-times suspended or terminated in
a year exceed a share of their registered persons. Hainan-Rules Art. 25: over 50% suspended
→ the agreement may be suspended (≤ 6 months); over 50% terminated → it may be terminated;
a pharmacy whose principal is suspended or terminated may have its own agreement suspended
or terminated (not the principal's other pharmacies).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from portal.models import Decision, Institution, Registration, StatusCache
from portal.services import cache


@dataclass
class InstitutionFlag:
    code: str
    name: str
    registered: int
    suspended: int  # person-times whose suspension started in the year
    terminated: int
    reasons: list[str] = field(default_factory=list)


def institution_flags(session: Session, year: int, share: float = 0.5) -> list[InstitutionFlag]:
    first, last = date(year, 1, 1), date(year, 12, 31)
    registrations = session.exec(
        select(Registration)
        .where(Registration.registered_on <= last)
        .where((Registration.deregistered_on == None) | (Registration.deregistered_on >= first))  # type: ignore[operator]  # noqa: E711
    ).all()
    people: dict[int, set[int]] = defaultdict(set)
    principals: dict[int, set[int]] = defaultdict(set)
    for r in registrations:
        people[r.institution_id].add(r.practitioner_id)
        if r.principal:
            principals[r.institution_id].add(r.practitioner_id)
    involved = {p for group in people.values() for p in group}
    started: dict[int, tuple[int, int]] = {}
    where_decided: dict[int, set[int]] = defaultdict(set)  # person → institutions of the cases
    decided_at = dict(session.exec(select(Decision.id, Decision.institution_id)).all())
    for row in session.exec(select(StatusCache)).all():
        if row.practitioner_id not in involved:
            continue
        periods = [p for p in cache.decode(row.timeline).periods if first <= p.start <= last]
        s = sum(1 for p in periods if p.kind == "suspension")
        t = sum(1 for p in periods if p.kind == "termination")
        if s or t:
            started[row.practitioner_id] = (s, t)
            for p in periods:
                where_decided[row.practitioner_id].update(
                    decided_at[int(src)]
                    for src in p.sources
                    if src.isdigit() and int(src) in decided_at
                )
    flags: list[InstitutionFlag] = []
    for institution in session.exec(select(Institution)).all():
        members = people.get(institution.id or 0, set())
        if not members:
            continue
        suspended = sum(started.get(p, (0, 0))[0] for p in members)
        terminated = sum(started.get(p, (0, 0))[1] for p in members)
        flag = InstitutionFlag(
            institution.code, institution.name, len(members), suspended, terminated
        )
        if institution.ruleset == "hainan-2025" and institution.kind == "hospital":
            if suspended > share * len(members):
                flag.reasons.append(
                    "暂停人次超过50%，可中止医保协议（不超过6个月）（海南细则第二十五条）"
                )
            if terminated > share * len(members):
                flag.reasons.append("终止人次超过50%，可解除医保协议（海南细则第二十五条）")
        elif suspended + terminated > share * len(members):
            flag.reasons.append(
                f"暂停、终止人次超过 {share:.0%}，视情况采取相应处理措施（经办规程第三十条）"
            )
        if institution.kind == "pharmacy" and institution.ruleset == "hainan-2025":
            heads = principals.get(institution.id or 0, set())
            # The pharmacy where the principal's case arose, not their other pharmacies.
            if any(institution.id in where_decided.get(p, set()) for p in heads):
                flag.reasons.append(
                    "主要负责人被暂停或终止，可中止或解除本店医保协议"
                    "（不含相同主要负责人的其他药店；海南细则第二十五条）"
                )
        if flag.reasons:
            flags.append(flag)
    return flags
