"""One practitioner, as the officer's role allows (spec/DESIGN.md "Admin").

The page shows registrations, the year's points case by case with their articles and
deadlines, the periods, a chart of the year (admin/charts.py) and the actions the role
allows. Non-public personal data (masked ID, birth date, phone, the full history) is shown
only after the officer states a purpose: the form posts it, the query log is written
(portal.services.querylog) and the data appear in that one response, never in a page that
can be fetched again without a new purpose (RULES §9; Hunan-Credit Art. 23).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Template
from markupsafe import Markup
from sqlmodel import Session, col, select

from admin.charts import chart_for
from admin.common import Officer, db, in_thread, page, practitioner_for, sees_institution, signed_in
from portal.clock import CHINA, china_today
from portal.models import Decision, Institution, LedgerEntry, Notice, Practitioner, Registration
from portal.services import credit_evaluation as credit
from portal.services import ledger
from portal.services.errors import ServiceError
from portal.services.querylog import WHAT_ZH, record_query
from portal.services.registry import STATUS_ZH, PrivateData, private_data
from portal.services.roles import (
    CREDIT_READ,
    DECIDE,
    PRIVATE,
    RECORD_CASE,
    RECORD_PENALTY,
    REGISTRATIONS,
    VIEW,
)
from scoring.deadlines import due_date
from scoring.engine import Timeline
from scoring.model import Outcome, Period, StatusOn
from scoring.rulesets import PractitionerRuleset

PRACTICE_ZH = {"doctor": "医师", "nurse": "护士", "pharmacist": "药师", "technician": "技师"}
KIND_ZH = {"suspension": "暂停", "termination": "终止", "cancellation": "取消"}
ENTRY_ZH = {
    "score": "记分", "repair": "记分修复", "restore": "资格恢复", "appeal": "申诉改变记分",
    "shorten": "缩减期限", "linked": "随机构协议处理", "void": "作废",
}  # fmt: skip
RESPONSIBILITY_ZH = {"general": "一般责任", "important": "重要责任", "main": "主要责任"}
DECISION_ZH = ledger.DECISION_TYPES
LOOKS = ("private_data", "full_history")


@dataclass
class Deadline:
    title: str
    due: date | None
    ref: str
    passed: bool = False
    duty: bool = False  # the agency's own step: past its day it is late, not just over


@dataclass
class CaseRow:
    """One decision that scored the person this year, and what follows from it."""

    decision: Decision
    institution: Institution | None
    points: int
    findings: list[dict[str, Any]] = field(default_factory=list)
    notice: Notice | None = None
    deadlines: list[Deadline] = field(default_factory=list)
    period: Period | None = None


@dataclass
class PeriodRow:
    period: Period
    kind_zh: str
    refs: list[str]
    documents: list[str]


@dataclass
class Sheet:
    """Everything the page shows (without the private part)."""

    person: Practitioner
    ruleset: PractitionerRuleset
    today: date
    status: StatusOn
    registrations: list[tuple[Registration, Institution, bool]]
    cases: list[CaseRow]
    repairs: list[tuple[LedgerEntry, Outcome]]
    periods: list[PeriodRow]
    chart: Markup
    measure: str


def _sheet(session: Session, officer: Officer, person: Practitioner, today: date) -> Sheet:
    timeline = ledger.timeline_of(session, person)
    status = timeline.status_on(today)
    rs = timeline.ruleset
    registrations = [
        (r, i, sees_institution(officer, i))
        for r, i in session.exec(
            select(Registration, Institution)
            .join(Institution, col(Institution.id) == Registration.institution_id)
            .where(Registration.practitioner_id == person.id)
            .order_by(col(Registration.deregistered_on).is_not(None), col(Registration.id))
        )
    ]
    entries = ledger.person_entries(session, person.id or 0)
    live = ledger.live_entries(entries)
    pairs = list(zip(live, timeline.outcomes, strict=True))
    cases = _cases(session, rs, timeline, status, pairs, today)
    repairs = [(e, o) for e, o in pairs if e.kind == "repair" and e.event_date.year == today.year]
    chart = Markup(chart_for(timeline, today.year, today, person.name))
    measure = rs.measure_for(status.year_points)
    return Sheet(
        person, rs, today, status, registrations, cases, repairs,
        _periods(session, rs, timeline, today), chart,
        measure.ref.partition(": ")[2] if measure.measure != "none" else "",
    )  # fmt: skip


def _cases(
    session: Session,
    rs: PractitionerRuleset,
    timeline: Timeline,
    status: StatusOn,
    pairs: list[tuple[LedgerEntry, Outcome]],
    today: date,
) -> list[CaseRow]:
    scored = [(e, o) for e, o in pairs if e.kind == "score" and e.event_date.year == today.year]
    ids = {e.decision_id for e, _ in scored if e.decision_id is not None}
    decisions = {d.id: d for d in session.exec(select(Decision).where(col(Decision.id).in_(ids)))}
    places = {
        i.id: i
        for i in session.exec(
            select(Institution).where(
                col(Institution.id).in_({d.institution_id for d in decisions.values()})
            )
        )
    }
    person_id = scored[0][0].practitioner_id if scored else 0
    notices = {
        n.decision_id: n
        for n in session.exec(
            select(Notice)
            .where(Notice.practitioner_id == person_id)
            .where(col(Notice.decision_id).in_(ids))
        )
    }
    rows: dict[int, CaseRow] = {}
    for entry, outcome in scored:
        decision = decisions.get(entry.decision_id)
        if decision is None:
            continue
        row = rows.get(decision.id or 0)
        if row is None:
            row = rows[decision.id or 0] = CaseRow(
                decision, places.get(decision.institution_id), 0,
                notice=notices.get(decision.id or 0),
            )  # fmt: skip
            row.period = next(
                (p for p in reversed(timeline.periods) if str(decision.id) in p.sources), None
            )
            row.deadlines = _deadlines(rs, decision, row.notice, status, today)
        data = json.loads(entry.payload)
        if outcome.counted:
            row.points += outcome.points or 0
        row.findings.append(
            {
                "points": outcome.points,
                "counted": outcome.counted,
                "basis": _basis(rs, data),
                "responsibility": RESPONSIBILITY_ZH.get(data.get("responsibility") or "", ""),
                "violation": data.get("violation") or "",
            }
        )
    return sorted(rows.values(), key=lambda r: (r.decision.decision_date, r.decision.id or 0))


def _basis(rs: PractitionerRuleset, data: dict[str, Any]) -> str:
    """Where the points come from: the situation in the catalogue, the tier, or given."""
    situation = rs.situations.get(data.get("situation") or "")
    if situation is not None:
        return f"{situation.title}（{situation.ref}）"
    if data.get("tier"):
        return f"第 {data['tier']} 档（{rs.tiers_ref.partition(':')[0]}）"
    return "直接记分"


def _deadlines(
    rs: PractitionerRuleset,
    decision: Decision,
    notice: Notice | None,
    status: StatusOn,
    today: date,
) -> list[Deadline]:
    """The steps of RULES §6 that follow from this case, with their last days."""
    out: list[Deadline] = []

    def step(deadline_id: str, start: date, title: str, duty: bool = False) -> None:
        if deadline_id in rs.deadlines:
            found = due_date(rs, deadline_id, start)
            out.append(Deadline(title, found.due, found.deadline.ref, found.due < today, duty))

    if notice is None:
        step("notice_issue", decision.decision_date, "出具处理通知书", duty=True)
    elif notice.delivered_on is None:
        step("notice_delivery", notice.issued_on, "送达处理通知书", duty=True)
    else:
        if notice.appeal_due is not None:
            ref = rs.deadlines["appeal"].ref if "appeal" in rs.deadlines else ""
            out.append(Deadline("提出申诉", notice.appeal_due, ref, notice.appeal_due < today))
        if notice.status in ("suspended", "terminated"):
            step("institution_publish", notice.delivered_on, "机构公开暂停、终止情况")
    return out


def _periods(
    session: Session, rs: PractitionerRuleset, timeline: Timeline, today: date
) -> list[PeriodRow]:
    """Periods in force, to come, or touching this year (older ones: the full history)."""
    year_start = date(today.year, 1, 1)
    shown = [
        p
        for p in timeline.periods
        if p.restored_on is None
        or p.restored_on > year_start
        or (p.last_day() or date.max) >= year_start
    ]
    return [_period_row(session, rs, p) for p in shown]


def _period_row(session: Session, rs: PractitionerRuleset, period: Period) -> PeriodRow:
    rows = [*rs.cumulative, *rs.single.values()]
    refs = [r.ref for r in rows if any(r.ref in cause for cause in period.causes)]
    ids = [int(s) for s in period.sources if s.isdigit()]
    documents = [
        d.document_no for d in session.exec(select(Decision).where(col(Decision.id).in_(ids)))
    ]
    return PeriodRow(period, KIND_ZH[period.kind], list(dict.fromkeys(refs)), documents)


@dataclass
class Private:
    """What the stated purpose opened, for this response only."""

    data: PrivateData | None
    history: list[dict[str, Any]] | None


def _history(session: Session, person: Practitioner) -> list[dict[str, Any]]:
    """Every ledger entry of every year, superseded and voided ones too (一医一档)."""
    entries = ledger.person_entries(session, person.id or 0)
    replaced = {e.supersedes_id for e in entries if e.supersedes_id is not None}
    ids = {e.decision_id for e in entries if e.decision_id is not None}
    documents = {
        d.id: d.document_no for d in session.exec(select(Decision).where(col(Decision.id).in_(ids)))
    }
    return [
        {
            "entry": e,
            "kind": ENTRY_ZH.get(e.kind, e.kind),
            "document": documents.get(e.decision_id, ""),
            "data": _payload_text(e),
            "live": e.id not in replaced and e.kind != "void",
            "at": _china_time(e.recorded_at),
        }
        for e in entries
    ]


def _china_time(at: datetime) -> str:
    """A stored time (UTC; SQLite returns it without its zone) as Beijing time."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _payload_text(entry: LedgerEntry) -> str:
    data = json.loads(entry.payload)
    if entry.kind == "score":
        return f"{data.get('points')} 分"
    if entry.kind == "repair":
        return f"途径 {data.get('route')}" + (f"（{data['param']}）" if data.get("param") else "")
    if entry.kind == "appeal":
        return f"改为 {data.get('points')} 分"
    if entry.kind == "shorten":
        return f"期限缩至 {data.get('end')}"
    if entry.kind == "linked":
        return f"{KIND_ZH.get(data.get('kind', ''), '')} 自 {data.get('start')}"
    if entry.kind == "restore":
        return f"申请日 {data.get('applied')}" if data.get("applied") else ""
    return ""


def _actions(officer: Officer, sheet: Sheet) -> list[tuple[str, str]]:
    """Links to the work the role may do for this person (those pages are their own)."""
    code = sheet.person.national_code
    links = []
    if officer.can(RECORD_CASE) or officer.can(RECORD_PENALTY):
        links.append(("录入案件", f"/admin/cases/new?code={code}"))
    links += [
        ("申诉", f"/admin/queues/appeals?code={code}"),
        ("记分修复", f"/admin/queues/repairs?code={code}"),
        ("资格恢复", f"/admin/queues/restorations?code={code}"),
    ]
    if (
        sheet.ruleset.shortening_allowed
        and officer.can(DECIDE)
        and sheet.status.status in ("suspended", "terminated")
    ):
        links.append(("缩减暂停、终止期限", f"/admin/shortening/new?code={code}"))
    if officer.can(REGISTRATIONS):
        links.append(("登记备案到本人所在机构", f"/admin/registrations?code={code}"))
    return links


def _render(
    request: Request[Any, Any, Any],
    code: str,
    *,
    purpose: str = "",
    looks: tuple[str, ...] = LOOKS,
    error: str = "",
    error_field: str = "",
    status_code: int = 200,
    open_private: bool = False,
) -> Template:
    """The page; with ``open_private`` the purpose is logged first, in the same
    transaction that reads the private data, and committed before anything is shown."""
    today = china_today()
    with db(request, write=open_private) as session:
        officer = signed_in(request, session)
        officer.require(VIEW)
        person = practitioner_for(session, officer, code)
        private = None
        if open_private:
            officer.require(PRIVATE)
            act = officer.act("查询非公开信息")
            for what in looks:
                record_query(session, act, subject=person.national_code, what=what,
                             purpose=purpose)  # fmt: skip
            private = Private(
                private_data(person, request.app.state.settings.secret)
                if "private_data" in looks
                else None,
                _history(session, person) if "full_history" in looks else None,
            )
        sheet = _sheet(session, officer, person, today)
        actions = _actions(officer, sheet)
        credit_results = (
            credit.results_of(session, "practitioner", person.national_code)
            if officer.can(CREDIT_READ)
            else None
        )
    return page(
        request, "admin/practitioner.html", officer, status_code=status_code, s=sheet,
        actions=actions, private=private, purpose=purpose, looks=looks, error=error,
        error_field=error_field, status_zh=STATUS_ZH, practice_zh=PRACTICE_ZH,
        decision_zh=DECISION_ZH, what_zh=WHAT_ZH, can_private=officer.can(PRIVATE),
        credit_results=credit_results,
    )  # fmt: skip


@get("/admin/practitioners/{code:str}", include_in_schema=False)
async def practitioner_page(request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
    return await in_thread(_render, request, code[:32])


def _look(request: Request[Any, Any, Any], code: str, data: dict[str, Any]) -> Template:
    purpose = str(data.get("purpose", "")).strip()[:500]
    chosen = data.get("what", [])
    chosen = [chosen] if isinstance(chosen, str) else list(chosen)
    looks = tuple(w for w in LOOKS if w in chosen)
    try:
        if not looks:
            raise ServiceError("what", "请选择要查看的内容")
        return _render(request, code, purpose=purpose, looks=looks, open_private=True)
    except ServiceError as exc:
        if exc.code == "not_found":
            raise
        return _render(request, code, purpose=purpose, looks=looks or LOOKS, error=exc.message,
                       error_field=exc.field, status_code=400)  # fmt: skip


@post("/admin/practitioners/{code:str}/private", include_in_schema=False)
async def practitioner_private(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    data: URLEncodedBody[dict[str, Any]],
) -> Template:
    """State a purpose, then see the private data in this response only (no redirect: a
    page that could be fetched again would show them without a new purpose)."""
    return await in_thread(_look, request, code[:32], data)


ROUTES = [practitioner_page, practitioner_private]
