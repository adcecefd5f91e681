"""记分修复: repair applications, the institution step, then the agency step."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from portal.models import (
    CreditResult,
    CreditRun,
    Practitioner,
    RepairApplication,
)
from portal.services.applications import (
    agency_decides,
    check_step,
    institution_decides,
)
from portal.services.errors import NotFound, ServiceError
from portal.services.registry import (
    Act,
    audit,
    get_practitioner,
)
from scoring.model import Repair
from scoring.rulesets import practitioner_ruleset

# --- repairs -------------------------------------------------------------------------

CREDIT_GRADE_ROUTE = "credit_grade"
REPAIRING_GRADES = ("A", "B")


def previous_grade(session: Session, person: Practitioner, applied_on: date) -> str:
    """The practitioner's grade of the year before ``applied_on`` (Hunan-Rules Art. 12(3):
    A → 5 points, B → 2; RULES §8 last bullet), looked up, never typed: the current result
    (the row nobody supersedes) of a committed or published run of that year. Committed
    results are decided (Hunan-Credit Art. 20: decided by 30 April), so publication is not
    awaited. None, not graded, or C/D: refused, naming the route."""
    year = applied_on.year - 1
    row = session.exec(
        select(CreditResult)
        .join(CreditRun, col(CreditRun.id) == col(CreditResult.run_id))
        .where(col(CreditRun.state).in_(("committed", "published")))
        .where(CreditResult.year == year)
        .where(CreditResult.subject_kind == "practitioner")
        .where(CreditResult.subject_key == person.national_code)
        .order_by(col(CreditResult.id).desc())
        .limit(1)
    ).first()
    if row is None:
        raise ServiceError(
            "route", f"未找到该人员 {year} 年度已提交的信用评价结果，不能按上年度信用等级修复"
            "（湖南细则第十二条第三项）",
        )  # fmt: skip
    if row.state != "graded" or row.grade not in REPAIRING_GRADES:
        shown = row.grade if row.state == "graded" else "未评定等级"
        raise ServiceError(
            "route", f"该人员 {year} 年度信用评价为 {shown}，只有 A 级（减免5分）或 B 级（减免2分）"
            "可按上年度信用等级修复（湖南细则第十二条第三项）",
        )  # fmt: skip
    return str(row.grade)


def apply_repair(
    session: Session,
    act: Act,
    *,
    national_code: str,
    route: str,
    param: str | int | None,
    applied_on: date,
) -> RepairApplication:
    """记分修复申请 (Hunan-Rules Art. 12; Anhui-Rules Art. 30; Hainan-Rules Art. 27-28)."""
    person = get_practitioner(session, national_code)
    ruleset = practitioner_ruleset(person.ruleset)
    spec = ruleset.routes.get(route)
    if spec is None:
        raise ServiceError(
            "route", f"本规则集没有修复途径 {route}；可选：{'、'.join(ruleset.routes)}"
        )
    if route == CREDIT_GRADE_ROUTE and spec.param == "grade":
        param = previous_grade(session, person, applied_on)
    if spec.param is not None and (param is None or str(param) == ""):
        raise ServiceError("param", "请填写该修复途径所需的成绩、级别或分值")
    if spec.param in ("score", "points"):
        try:
            value = int(str(param))
        except ValueError:
            raise ServiceError("param", "应为整数") from None
        high = 100 if spec.param == "score" else 12
        if not (0 if spec.param == "score" else 1) <= value <= high:
            raise ServiceError("param", f"超出范围（最大 {high}）")
        param = value
    elif spec.param is not None and str(param) not in spec.choices():
        raise ServiceError("param", f"可选：{'、'.join(spec.choices())}")
    application = RepairApplication(
        practitioner_id=person.id or 0,
        route=route,
        param="" if param is None else str(param),
        applied_on=applied_on,
        state="applied",
        **act.stamp(),
    )
    session.add(application)
    session.flush()
    audit(session, act, "apply_repair", "repair_application", application.id, route=route)
    return application


def decide_repair(
    session: Session, act: Act, application_id: int, *, approve: bool, on: date, level: str
) -> RepairApplication:
    """Institution first, then the agency (Hunan-Rules Art. 12; National-Procedure Art. 38).

    The agency's approval is tried on the engine: a route worth nothing, a year with no
    points or a used-up cap is refused with the reason, and nothing enters the ledger.
    """
    application = session.get(RepairApplication, application_id, with_for_update=True)
    if application is None:
        raise NotFound("application_id", f"未找到修复申请 {application_id}")
    check_step(application, level, on)
    if level == "institution":
        institution_decides(application, act, approve, on)
        application.institution_decided_by = act.actor
    else:
        application.agency_decided_by = act.actor
        person = session.get(Practitioner, application.practitioner_id)
        assert person is not None
        route = practitioner_ruleset(person.ruleset).routes[application.route]
        param: str | int | None = application.param or None
        if param is not None and route.param in ("score", "points"):
            param = int(param)
        outcome = agency_decides(
            session,
            act,
            application,
            approve=approve,
            event=Repair(on, route.id, param),
            kind="repair",
            payload={"route": route.id, "param": param},
        )
        if application.state == "approved":
            application.granted = outcome.granted
            _reevaluate_credit(session, act, person, application)
    session.add(application)
    audit(
        session,
        act,
        f"decide_repair_{level}",
        "repair_application",
        application.id,
        approve=approve,
    )
    return application


def _reevaluate_credit(
    session: Session, act: Act, person: Practitioner, application: RepairApplication
) -> None:
    """A repair changes the year's points: committed credit years follow (Hunan-Credit
    Art. 19, 22)."""
    from portal.services.credit_evaluation import reevaluate_subject

    why = f"记分修复（第 {application.id} 号）减免 {application.granted} 分"
    reevaluate_subject(session, act, "practitioner", person.national_code, why=why)
