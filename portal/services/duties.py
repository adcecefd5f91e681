"""What is due, for the officers' dashboard, by the deadlines of RULES §6.

Notices to issue within 5 working days of the decision (National-Procedure Art. 31),
deliveries within 3 of issue (Art. 33), upward reports of single cases of 10 or more
within 10 (Hunan-Rules Art. 16), appeal answers (Hunan-Rules Art. 18; National-Procedure
Art. 44), restoration evaluations within 10 (Hunan-Rules Art. 13), repair applications
waiting for a step. Read-only; each item links to where it is done.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from portal.models import (
    Appeal,
    Decision,
    Institution,
    LedgerEntry,
    Notice,
    Practitioner,
    Registration,
    RepairApplication,
    RestorationApplication,
)
from portal.services.flags import InstitutionFlag, institution_flags
from portal.services.roles import ROLES
from scoring.deadlines import due_date
from scoring.rulesets import practitioner_ruleset


@dataclass(frozen=True)
class Scope:
    """Which records count: everything, a region and below, or one institution."""

    region: str = ""  # "" with institution "" = the whole province
    institution: str = ""

    @classmethod
    def of(cls, role: str, region: str, institution: str) -> Scope:
        kind = ROLES[role].scope
        if kind == "region":
            return cls(region=region)
        if kind == "institution":
            return cls(institution=institution or "-")
        return cls()

    def covers(self, institution: Institution) -> bool:
        if self.institution:
            return institution.code == self.institution
        return institution.region.startswith(self.region)


@dataclass(frozen=True)
class Duty:
    kind: str  # notice_issue | notice_delivery | report_upward | appeal | restoration | repair
    title: str  # in Chinese
    due: date | None
    ref: str
    link: str
    who: str  # the person's name and code

    def late(self, today: date) -> bool:
        return self.due is not None and self.due < today


def _institutions(session: Session, scope: Scope) -> dict[int, Institution]:
    return {i.id or 0: i for i in session.exec(select(Institution)) if scope.covers(i)}


def _who(person: Practitioner | None) -> str:
    return f"{person.name}（{person.national_code}）" if person else ""


def due_items(session: Session, scope: Scope, today: date, horizon: int = 30) -> list[Duty]:
    """Everything open in scope, by due date (undated last)."""
    places = _institutions(session, scope)
    items = _case_duties(session, places, today, horizon)
    items += _delivery_duties(session, places)
    items += _application_duties(session, _people_in_scope(session, places))
    items += credit_objection_duties(session, scope)
    items += blacklist_duties(session, scope, today)
    return sorted(items, key=lambda d: (d.due is None, d.due or date.max, d.kind))


def _case_duties(
    session: Session, places: dict[int, Institution], today: date, horizon: int
) -> list[Duty]:
    """Notices not yet issued for a scored person; single cases of 10 or more to report."""
    decisions = {
        d.id or 0: d
        for d in session.exec(
            select(Decision).where(Decision.decision_date >= today - timedelta(days=horizon * 3))
        )
        if d.institution_id in places
    }
    if not decisions:
        return []
    noticed = {
        (n.decision_id, n.practitioner_id)
        for n in session.exec(select(Notice).where(col(Notice.decision_id).in_(decisions)))
    }
    points: Counter[tuple[int, int]] = Counter()
    for entry in session.exec(
        select(LedgerEntry)
        .where(LedgerEntry.kind == "score")
        .where(col(LedgerEntry.decision_id).in_(decisions))
    ):
        key = (entry.decision_id or 0, entry.practitioner_id)
        points[key] += int(json.loads(entry.payload).get("points", 0))
    items = []
    for (decision_id, pid), total in points.items():
        decision, person = decisions[decision_id], session.get(Practitioner, pid)
        rules = practitioner_ruleset(decision.ruleset)
        link = f"/admin/cases/{decision_id}"
        if (decision_id, pid) not in noticed:
            step = due_date(rules, "notice_issue", decision.decision_date)
            title = f"出具处理通知书：{decision.document_no}"
            items.append(
                Duty("notice_issue", title, step.due, step.deadline.ref, link, _who(person))
            )
        if total >= 10 and "report_upward" in rules.deadlines:
            step = due_date(rules, "report_upward", decision.decision_date)
            if step.due >= today - timedelta(days=horizon):
                title = f"单次记分 {total} 分，上报并通报：{decision.document_no}"
                items.append(
                    Duty("report_upward", title, step.due, step.deadline.ref, link, _who(person))
                )
    return items


def _delivery_duties(session: Session, places: dict[int, Institution]) -> list[Duty]:
    items = []
    for notice in session.exec(select(Notice).where(col(Notice.delivered_on).is_(None))):
        decision = session.get(Decision, notice.decision_id)
        if decision is None or decision.institution_id not in places:
            continue
        rules = practitioner_ruleset(decision.ruleset)
        step = due_date(rules, "notice_delivery", notice.issued_on)
        items.append(
            Duty(
                "notice_delivery",
                f"送达处理通知书：{notice.document_no}",
                step.due,
                step.deadline.ref,
                f"/admin/notices/{notice.id}",
                _who(session.get(Practitioner, notice.practitioner_id)),
            )
        )
    return items


def _application_duties(session: Session, people: dict[int, Practitioner]) -> list[Duty]:
    items = []
    open_appeals = select(Appeal).where(
        col(Appeal.state).in_(("received", "escalated", "expert_panel"))
    )
    for appeal in session.exec(open_appeals):
        if appeal.practitioner_id in people:
            items.append(
                Duty(
                    "appeal",
                    "申诉待处理",
                    appeal.resolve_due or appeal.explain_due,
                    "National-Procedure Art. 44; Hunan-Rules Art. 18",
                    f"/admin/queues/appeals#appeal-{appeal.id}",
                    _who(people[appeal.practitioner_id]),
                )
            )
    waiting = ("applied", "institution_approved")
    for restoration in session.exec(
        select(RestorationApplication).where(col(RestorationApplication.state).in_(waiting))
    ):
        if restoration.practitioner_id in people:
            items.append(
                Duty(
                    "restoration",
                    "资格恢复申请待评估",
                    restoration.evaluate_due,
                    "Hunan-Rules Art. 13; National-Procedure Art. 39",
                    f"/admin/queues/restorations#restoration-{restoration.id}",
                    _who(people[restoration.practitioner_id]),
                )
            )
    for repair in session.exec(
        select(RepairApplication).where(col(RepairApplication.state).in_(waiting))
    ):
        if repair.practitioner_id in people:
            step = "机构初审" if repair.state == "applied" else "经办机构审核"
            items.append(
                Duty(
                    "repair",
                    f"记分修复申请待{step}",
                    None,
                    "Hunan-Rules Art. 12",
                    f"/admin/queues/repairs#repair-{repair.id}",
                    _who(people[repair.practitioner_id]),
                )
            )
    return items


def _people_in_scope(session: Session, places: dict[int, Institution]) -> dict[int, Practitioner]:
    ids = set(
        session.exec(
            select(Registration.practitioner_id).where(col(Registration.institution_id).in_(places))
        ).all()
    )
    if not ids:
        return {}
    return {
        p.id or 0: p
        for p in session.exec(select(Practitioner).where(col(Practitioner.id).in_(ids)))
    }


def group(items: list[Duty], today: date) -> list[tuple[str, list[Duty]]]:
    """Late, today, this week (to Sunday), later, and without a date."""
    end_of_week = today + timedelta(days=6 - today.weekday())
    buckets: dict[str, list[Duty]] = {
        "已逾期": [],
        "今天到期": [],
        "本周到期": [],
        "以后": [],
        "待处理": [],
    }
    for item in items:
        if item.due is None:
            buckets["待处理"].append(item)
        elif item.due < today:
            buckets["已逾期"].append(item)
        elif item.due == today:
            buckets["今天到期"].append(item)
        elif item.due <= end_of_week:
            buckets["本周到期"].append(item)
        else:
            buckets["以后"].append(item)
    return [(name, rows) for name, rows in buckets.items() if rows]


def flags_in_scope(session: Session, scope: Scope, year: int) -> list[InstitutionFlag]:
    places = {i.code for i in _institutions(session, scope).values()}
    return [f for f in institution_flags(session, year) if f.code in places]


def counts_by_region(session: Session, scope: Scope) -> list[tuple[str, dict[str, int]]]:
    """Current registrations by city (4 digits) and stored status."""
    places = _institutions(session, scope)
    rows = session.exec(
        select(Registration.institution_id, Registration.status, func.count())
        .where(col(Registration.deregistered_on).is_(None))
        .group_by(col(Registration.institution_id), col(Registration.status))
    ).all()
    out: dict[str, Counter[str]] = {}
    for institution_id, status, n in rows:
        if institution_id in places:
            out.setdefault(places[institution_id].region[:4], Counter())[status] += int(n)
    return [(region, dict(c)) for region, c in sorted(out.items())]


def credit_objection_duties(session: Session, scope: Scope) -> list[Duty]:
    """Open objections to credit information, due in 3 or 5 working days (Hunan-Credit
    Art. 24): late ones and those due today head the dashboard with the rest."""
    from portal.services.credit_objections import open_objections, subject_ref
    from portal.services.errors import NotFound

    items = []
    for objection in open_objections(session):
        try:
            ref = subject_ref(session, objection.subject_kind, objection.subject_key)
        except NotFound:
            continue
        if scope.institution:
            if scope.institution not in ref.institution_codes:
                continue
        elif not ref.region.startswith(scope.region):
            continue
        items.append(
            Duty(
                "credit_objection",
                "信用信息异议待处理",
                objection.due_on,
                "Hunan-Credit Art. 24",
                f"/admin/credit/objections/{objection.id}",
                f"{ref.name}（{ref.key}）",
            )
        )
    return items


def blacklist_duties(session: Session, scope: Scope, today: date) -> list[Duty]:
    """Blacklist steps with a deadline, with the countdown in working days: terminated
    practitioners listed within 20 working days (Hunan-Rules Art. 17), objections answered
    within 5 (Hunan-Credit Art. 35). Region scopes only (the institutions do not list)."""
    from portal.services import blacklist

    if scope.institution:
        return []
    items = []
    for x in blacklist.due_listings(session, lambda region: region.startswith(scope.region)):
        link, who = f"/admin/credit/blacklist/{x.id}", f"{x.name}（{x.subject_key}）"
        if x.due_on is not None:
            left = blacklist.working_days_left(today, x.due_on)
            left = left or 0
            count = f"已逾期 {-left} 个工作日" if left < 0 else f"剩 {left} 个工作日"
            count = "今天到期" if left == 0 else count
            items.append(Duty("blacklist_list", f"纳入失信联合惩戒对象名单（{count}）", x.due_on,
                              "Hunan-Rules Art. 17", link, who))  # fmt: skip
        answer = blacklist.answer_due(x)
        if answer is not None and not x.objection_answer:
            items.append(Duty("blacklist_objection", "答复拟列入名单的异议", answer,
                              "Hunan-Credit Art. 35", link, who))  # fmt: skip
    return items
