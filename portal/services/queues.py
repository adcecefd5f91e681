"""Work queues: appeals, repairs and restorations in an officer's scope, with the
working-day deadlines of RULES §6, and what was decided on each, with its reasons.

Read-only. The deadlines are the ones the services wrote when the item was received
(``Appeal.explain_due`` / ``resolve_due``: Hunan-Rules Art. 18, National-Procedure Art. 44;
``RestorationApplication.evaluate_due``: Hunan-Rules Art. 13, National-Procedure Art. 39);
repairs have none in the texts (Hunan-Rules Art. 12; National-Procedure Art. 38; Hainan-Rules
Art. 27), so their queue is ordered by how long they have waited.

Who is in scope follows ``admin.common.practitioner_for``: a region covers the people of
that region and everyone registered at an institution there; an institution covers everyone
ever registered there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import Session, col, select

from portal.clock import CHINA
from portal.models import (
    Appeal,
    AuditLog,
    Decision,
    Institution,
    Practitioner,
    Registration,
    RepairApplication,
    RestorationApplication,
)
from portal.services import ledger
from portal.services.duties import Scope
from scoring.model import Period, StatusOn
from scoring.rulesets import PractitionerRuleset, all_rulesets, practitioner_ruleset

Show = Literal["open", "decided"]
LIMIT = 200  # rows per queue page; the oldest open items come first, so none is hidden long

OPEN_APPEAL = ("received", "escalated", "expert_panel")
DONE_APPEAL = ("upheld", "rejected")
OPEN_APPLICATION = ("applied", "institution_approved")
DONE_APPLICATION = ("approved", "refused")


def people_in(scope: Scope) -> ColumnElement[bool] | None:
    """The practitioners a scope covers, as a condition on ``Practitioner.id`` (None: all)."""
    registered = select(Registration.practitioner_id).join(
        Institution, col(Institution.id) == col(Registration.institution_id)
    )
    if scope.institution:
        return col(Practitioner.id).in_(registered.where(Institution.code == scope.institution))
    if scope.region:
        return or_(
            col(Practitioner.region).startswith(scope.region),
            col(Practitioner.id).in_(
                registered.where(col(Institution.region).startswith(scope.region))
            ),
        )
    return None


# --- appeals ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppealItem:
    appeal: Appeal
    person: Practitioner
    decision: Decision
    institution: Institution  # where the case arose

    @property
    def open(self) -> bool:
        return self.appeal.state in OPEN_APPEAL

    @property
    def due(self) -> date | None:
        """The next deadline: the agency's explanation while it holds the appeal (Hunan-Rules
        Art. 18), then the resolution (National-Procedure Art. 44; paused by a panel)."""
        if not self.open:
            return None
        if self.appeal.state == "received" and self.appeal.explain_due is not None:
            return self.appeal.explain_due
        return self.appeal.resolve_due

    @property
    def due_title(self) -> str:
        if self.appeal.state == "received" and self.appeal.explain_due is not None:
            return "解释说明"
        if self.appeal.state == "expert_panel" and self.appeal.resolve_due is None:
            return "专家评估中，期限中止"
        return "办结"

    def late(self, today: date) -> bool:
        return self.due is not None and self.due < today


def _appeal_rows(session: Session, scope: Scope) -> Any:
    stmt = (
        select(Appeal, Practitioner, Decision, Institution)
        .join(Practitioner, col(Practitioner.id) == col(Appeal.practitioner_id))
        .join(Decision, col(Decision.id) == col(Appeal.decision_id))
        .join(Institution, col(Institution.id) == col(Decision.institution_id))
    )
    where = people_in(scope)
    return stmt if where is None else stmt.where(where)


def _of(stmt: Any, code: str) -> Any:
    """Only one person's items, when a national code is given."""
    return stmt.where(Practitioner.national_code == code) if code else stmt


def appeals(
    session: Session, scope: Scope, show: Show, code: str = "", limit: int = LIMIT
) -> list[AppealItem]:
    """Open: the most urgent first (undated last); decided: the newest first."""
    stmt = _of(_appeal_rows(session, scope), code)
    if show == "open":
        rows = session.exec(stmt.where(col(Appeal.state).in_(OPEN_APPEAL))).all()
        items = [AppealItem(*row) for row in rows]
        items.sort(key=lambda i: (i.due is None, i.due or date.max, i.appeal.received_on))
        return items[:limit]
    stmt = stmt.where(col(Appeal.state).in_(DONE_APPEAL)).order_by(
        col(Appeal.decided_on).desc(), col(Appeal.id).desc()
    )
    return [AppealItem(*row) for row in session.exec(stmt.limit(limit)).all()]


def appeal_item(session: Session, appeal_id: int) -> AppealItem | None:
    row = session.exec(_appeal_rows(session, Scope()).where(Appeal.id == appeal_id)).first()
    return AppealItem(*row) if row else None


# --- repairs and restorations ------------------------------------------------------------------


@dataclass(frozen=True)
class RepairItem:
    application: RepairApplication
    person: Practitioner

    @property
    def open(self) -> bool:
        return self.application.state in OPEN_APPLICATION

    @property
    def due(self) -> date | None:
        return None  # the texts set no time limit for a repair decision

    def late(self, today: date) -> bool:
        return False


@dataclass(frozen=True)
class RestorationItem:
    application: RestorationApplication
    person: Practitioner

    @property
    def open(self) -> bool:
        return self.application.state in OPEN_APPLICATION

    @property
    def due(self) -> date | None:
        """Evaluated within 10 working days of the application (Hunan-Rules Art. 13)."""
        return self.application.evaluate_due if self.open else None

    def late(self, today: date) -> bool:
        return self.due is not None and self.due < today


def repairs(
    session: Session, scope: Scope, show: Show, code: str = "", limit: int = LIMIT
) -> list[RepairItem]:
    """Open: the longest waiting first; decided: the newest first."""
    stmt = _of(
        select(RepairApplication, Practitioner).join(
            Practitioner, col(Practitioner.id) == col(RepairApplication.practitioner_id)
        ),
        code,
    )
    where = people_in(scope)
    if where is not None:
        stmt = stmt.where(where)
    if show == "open":
        stmt = stmt.where(col(RepairApplication.state).in_(OPEN_APPLICATION)).order_by(
            col(RepairApplication.applied_on), col(RepairApplication.id)
        )
    else:
        decided = func.coalesce(
            col(RepairApplication.agency_decided_on), col(RepairApplication.institution_decided_on)
        )  # a refusal by the institution is decided that day
        stmt = stmt.where(col(RepairApplication.state).in_(DONE_APPLICATION)).order_by(
            decided.desc(), col(RepairApplication.id).desc()
        )
    return [RepairItem(*row) for row in session.exec(stmt.limit(limit)).all()]


def repair_item(session: Session, application_id: int) -> RepairItem | None:
    row = session.exec(
        select(RepairApplication, Practitioner)
        .join(Practitioner, col(Practitioner.id) == col(RepairApplication.practitioner_id))
        .where(RepairApplication.id == application_id)
    ).first()
    return RepairItem(*row) if row else None


def restorations(
    session: Session, scope: Scope, show: Show, code: str = "", limit: int = LIMIT
) -> list[RestorationItem]:
    """Open: the most urgent first; decided: the newest first."""
    stmt = _of(
        select(RestorationApplication, Practitioner).join(
            Practitioner, col(Practitioner.id) == col(RestorationApplication.practitioner_id)
        ),
        code,
    )
    where = people_in(scope)
    if where is not None:
        stmt = stmt.where(where)
    if show == "open":
        stmt = stmt.where(col(RestorationApplication.state).in_(OPEN_APPLICATION)).order_by(
            col(RestorationApplication.evaluate_due).nulls_last(),
            col(RestorationApplication.applied_on),
            col(RestorationApplication.id),
        )
    else:
        decided = func.coalesce(
            col(RestorationApplication.agency_decided_on),
            col(RestorationApplication.institution_decided_on),
        )
        stmt = stmt.where(col(RestorationApplication.state).in_(DONE_APPLICATION)).order_by(
            decided.desc(), col(RestorationApplication.id).desc()
        )
    return [RestorationItem(*row) for row in session.exec(stmt.limit(limit)).all()]


def restoration_item(session: Session, application_id: int) -> RestorationItem | None:
    row = session.exec(
        select(RestorationApplication, Practitioner)
        .join(Practitioner, col(Practitioner.id) == col(RestorationApplication.practitioner_id))
        .where(RestorationApplication.id == application_id)
    ).first()
    return RestorationItem(*row) if row else None


def let_go(session: Session, row: Any) -> None:
    """Forget a row read only to authorise a request, so that the service's locked read
    (SELECT … FOR UPDATE) loads it as it is now: on PostgreSQL a concurrent decision may
    have committed in between, and the session would otherwise keep the first copy."""
    if row in session:
        session.expunge(row)


# --- what was decided, and why ---------------------------------------------------------------

ACTION_ZH = {
    "file_appeal": "登记申诉",
    "escalate_appeal": "提交行政部门",
    "expert_panel": "组织专家评估",
    "decide_appeal": "作出申诉处理结论",
    "apply_repair": "提交修复申请",
    "decide_repair_institution": "所在机构审核",
    "decide_repair_agency": "经办机构审核",
    "apply_restoration": "提交恢复申请",
    "decide_restoration_institution": "所在机构审核",
    "decide_restoration_agency": "经办机构评估",
}


@dataclass(frozen=True)
class Step:
    at: str  # China time, minutes
    actor: str
    action: str  # in Chinese
    reason: str


def history(session: Session, entity: str, entity_id: int) -> list[Step]:
    """Every recorded step on one item, oldest first, with who did it and why."""
    rows = session.exec(
        select(AuditLog)
        .where(AuditLog.entity == entity)
        .where(AuditLog.entity_id == entity_id)
        .order_by(col(AuditLog.id))
    ).all()
    return [
        Step(
            at=r.at.replace(tzinfo=r.at.tzinfo or UTC).astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
            actor=r.actor,
            action=ACTION_ZH.get(r.action, r.action),
            reason=r.reason,
        )
        for r in rows
    ]


# --- periods, for restoration and shortening pages ---------------------------------------------


def status_of(session: Session, person: Practitioner, on: date) -> StatusOn:
    return ledger.status_on(session, person.national_code, on)


def periods_of(session: Session, person: Practitioner, today: date) -> tuple[Period, ...]:
    """The person's periods as the ledger stands (later-dated events included)."""
    timeline = ledger.timeline_of(session, person)
    return timeline.periods_on(max(today, timeline.last_date or today))


def ruleset_of(person: Practitioner) -> PractitionerRuleset:
    return practitioner_ruleset(person.ruleset)


def practitioner_rulesets(first: str = "") -> list[PractitionerRuleset]:
    """Every practitioner ruleset, ``first`` (the one in force) leading: for the repair
    routes a form offers."""
    return sorted(
        (r for r in all_rulesets().values() if isinstance(r, PractitionerRuleset)),
        key=lambda r: (r.id != first, r.id),
    )
