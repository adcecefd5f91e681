"""Work queues and the decisions taken from them (spec/DESIGN.md, "Admin").

``GET /admin/queues/{appeals,repairs,restorations}`` list what is open (the most urgent
first, late items marked) or decided (the newest first) in the officer's scope, each with
its working-day deadline (RULES §6). Each item has a page of its own with the steps left:

- appeals (National-Procedure Art. 41-44; Hunan-Rules Art. 18-19): record one received
  (``POST /admin/appeals``), escalate it to the administrative department
  (``/admin/appeals/{id}/escalate``), pause the clock for an expert panel
  (``/admin/appeals/{id}/expert-panel``), decide it (``/admin/appeals/{id}/decision``);
- repairs (Hunan-Rules Art. 12; National-Procedure Art. 38): apply on a practitioner's
  behalf (``POST /admin/repairs``), then the institution's opinion and the agency's
  decision (``/admin/repairs/{id}/decision``, ``level`` institution | agency);
- restorations (Hunan-Rules Art. 13-14; RULES I-12): the same two steps; the application
  date is the application's, the approval date the agency's decision's;
- shortening (Hainan-Rules Art. 16; RULES §7): ``/admin/practitioners/{code}/shorten``,
  refused with the reason where the rules have none (Hunan, Anhui).

Who may (DESIGN's table): ``DECIDE`` decides everything in scope; ``DECIDE_OWN_APPEALS``
decides appeals against the administrative department's own findings — administrative
penalties decided in its region — and those escalated to it (Hunan-Rules Art. 18);
``FIRST_STEP`` gives the institution's opinion for its own people; the others read.
Every decision carries a reason; a refused form is shown again with what was typed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from admin.common import (
    Forbidden,
    Officer,
    back_to,
    db,
    first_submission,
    form_token,
    in_thread,
    is_whole,
    page,
    parse_day,
    practitioner_for,
    signed_in,
)
from portal.clock import china_today
from portal.models import Institution
from portal.services import queues
from portal.services.appeals import decide_appeal, escalate_appeal, expert_panel, file_appeal
from portal.services.duties import Scope
from portal.services.errors import NotFound, ServiceError
from portal.services.notices import decision_by_no
from portal.services.registry import STATUS_ZH
from portal.services.repairs import CREDIT_GRADE_ROUTE, apply_repair, decide_repair
from portal.services.restorations import apply_restoration, decide_restoration
from portal.services.roles import DECIDE, DECIDE_OWN_APPEALS, FIRST_STEP, VIEW
from portal.services.shortening import shorten_period

SHOW = {"open": "待处理", "decided": "已办结"}
APPEAL_STATE_ZH = {
    "received": "经办机构处理中",
    "escalated": "已提交行政部门",
    "expert_panel": "专家评估中",
    "upheld": "申诉成立",
    "rejected": "申诉不成立",
}
APPLICATION_STATE_ZH = {
    "applied": "待所在机构审核",
    "institution_approved": "待经办机构审核",
    "approved": "已通过",
    "refused": "未通过",
}
DECISION_TYPE_ZH = {"administrative_penalty": "行政处罚", "agreement_action": "协议处理"}
PERIOD_ZH = {"suspension": "暂停", "termination": "终止", "cancellation": "取消"}
LEVEL_ZH = {"institution": "所在机构审核", "agency": "经办机构审核"}
ROUTE_ZH = {
    "exam": "医保政策考试",
    "article": "发表医保政策宣传文章",
    "credit_grade": "上年度信用评价等级",
    "report": "举报冒名顶替或获举报奖励",
    "commendation": "获得表彰",
    "training_exam": "参加培训考试",
    "assist": "协助查处违法违规行为",
    "other": "其他（按规定分值）",
    "online_learning": "线上学习",
    "offline_training": "线下培训",
    "publicity": "参与医保宣传",
    "report_reward": "举报获奖励",
    "management": "参与医保管理",
}
PARAM_ZH = {
    "score": "成绩 0–100",
    "points": "分值 1–12",
    "level": "级别",
    "grade": "等级",
}
CHOICE_ZH = {
    "city": "市级",
    "county": "县级",
    "province": "省级",
    "national": "国家级",
    "impersonation": "发现冒名顶替",
    "reward1": "一级举报奖励",
    "reward2": "二级举报奖励",
    "reward3": "三级举报奖励",
}
REASON_LONGEST = 500


# --- reading forms ------------------------------------------------------------------------------


class _Invalid(Exception):
    """What was typed cannot be accepted: the form is shown again with it (400)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    @property
    def errors(self) -> dict[str, str]:
        return {self.field or "_form": self.message}


@contextmanager
def _checked(rename: dict[str, str] | None = None) -> Iterator[None]:
    """A service's refusal names its own field; the form may call it otherwise. A refusal
    about the record itself (its state) belongs to the whole form."""
    names = {"appeal_id": "_form", "application_id": "_form", "form_token": "_form"}
    names.update(rename or {})
    try:
        yield
    except ServiceError as exc:
        raise _Invalid(names.get(exc.field, exc.field), exc.message) from exc


def _text(data: dict[str, str], name: str, longest: int = 64) -> str:
    return str(data.get(name, "")).strip()[:longest]


def _date(
    data: dict[str, str], name: str, label: str, today: date, *, future: bool = False,
    optional: bool = False,
) -> date | None:  # fmt: skip
    """``YYYY-MM-DD`` exactly; empty is today (or nothing, when optional)."""
    raw = _text(data, name, 32)
    if not raw:
        return None if optional else today
    value = parse_day(
        raw,
        name,
        f"{label}应为 YYYY-MM-DD 格式的日期，例如 {today.isoformat()}",
        f"{label}不是有效的日期：{raw}",
    )
    if not future and value > today:
        raise ServiceError(name, f"{label}不能晚于今天（{today.isoformat()}）")
    return value


def _day(data: dict[str, str], name: str, label: str, today: date) -> date:
    value = _date(data, name, label, today)
    assert value is not None
    return value


def _reason(data: dict[str, str], required: bool = True, default: str = "") -> str:
    reason = str(data.get("reason", "")).strip()
    if not reason:
        if required:
            raise ServiceError("reason", "请填写理由（将记入审计日志）")
        return default
    if len(reason) > REASON_LONGEST:
        raise ServiceError("reason", f"理由最多 {REASON_LONGEST} 字，当前 {len(reason)} 字")
    return reason


def _choice(data: dict[str, str], name: str, choices: dict[str, bool], message: str) -> bool:
    value = _text(data, name)
    if value not in choices:
        raise ServiceError(name, message)
    return choices[value]


def _token(data: dict[str, str]) -> str:
    return _text(data, "form_token")


def _show(request: Request[Any, Any, Any]) -> queues.Show:
    show = request.query_params.get("state", "open")
    if show == "open":
        return "open"
    if show == "decided":
        return "decided"
    raise ServiceError("state", "state 应为 open（待处理）或 decided（已办结）")


def _code(request: Request[Any, Any, Any]) -> str:
    """``?code=``: one person's items (the practitioner page links here)."""
    return str(request.query_params.get("code", "")).strip().upper()[:32]


def _scope(officer: Officer) -> Scope:
    account = officer.account
    return Scope.of(account.role, account.region, account.institution_code)


def _require_any(officer: Officer, *rights: str) -> None:
    if not any(officer.can(r) for r in rights):
        raise Forbidden()


def _sees(session: Session, officer: Officer, code: str) -> bool:
    try:
        practitioner_for(session, officer, code)
    except NotFound:
        return False
    return True


def _common(today: date, **context: Any) -> dict[str, Any]:
    """What every queue page shows beside its own: the day, fresh form tokens, the labels."""
    return {
        "today": today,
        "token": form_token,
        "typed": {},
        "errors": {},
        "form": "",
        "appeal_state_zh": APPEAL_STATE_ZH,
        "application_state_zh": APPLICATION_STATE_ZH,
        "decision_type_zh": DECISION_TYPE_ZH,
        "period_zh": PERIOD_ZH,
        "status_zh": STATUS_ZH,
        "level_zh": LEVEL_ZH,
        "route_zh": ROUTE_ZH,
        "choice_zh": CHOICE_ZH,
        **context,
    }


def _again(
    render: Callable[..., Template], request: Request[Any, Any, Any], *args: Any,
    form: str, data: dict[str, str], exc: _Invalid,
) -> Template:  # fmt: skip
    """The page again, 400, with what was typed into ``form`` and the error beside its field."""
    typed = {k: str(v) for k, v in data.items() if k not in ("_csrf_token", "form_token")}
    return render(request, *args, status=400, form=form, typed=typed, errors=exc.errors)


# --- appeals -------------------------------------------------------------------------------------


def _appeal_for(session: Session, officer: Officer, appeal_id: int) -> queues.AppealItem:
    """The appeal the officer may see (its person is theirs), else 404."""
    item = queues.appeal_item(session, appeal_id)
    if item is None or not _sees(session, officer, item.person.national_code):
        raise NotFound("appeal_id", f"未找到申诉 {appeal_id}")
    return item


def _own_finding(officer: Officer, decision_type: str, region: str, state: str = "") -> bool:
    """The administrative department's own: its penalties (Hunan-Rules Art. 19) and what the
    agency could not resolve and passed to it (Art. 18), in its region."""
    own = decision_type == "administrative_penalty" or state == "escalated"
    return officer.can(DECIDE_OWN_APPEALS) and own and officer.sees_region(region)


def _may_decide_appeal(officer: Officer, item: queues.AppealItem) -> bool:
    return officer.can(DECIDE) or _own_finding(
        officer, item.decision.decision_type, item.institution.region, item.appeal.state
    )


def _appeal_steps(officer: Officer, item: queues.AppealItem) -> dict[str, bool]:
    decide = item.open and _may_decide_appeal(officer, item)
    return {
        "escalate": decide and officer.can(DECIDE) and item.appeal.state == "received",
        "panel": decide,
        "decision": decide,
    }


@get("/admin/queues/appeals", include_in_schema=False)
async def appeals_queue(request: Request[Any, Any, Any]) -> Template:
    return await in_thread(_appeals_queue, request)


def _appeals_queue(request: Request[Any, Any, Any], status: int = 200, **shown: Any) -> Template:
    today = china_today()
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(VIEW)
        show = "open" if shown else _show(request)
        code = "" if shown else _code(request)
        items = queues.appeals(session, _scope(officer), show, code)
        context = _common(
            today, items=items, show=show, shows=SHOW, code=code,
            can_file=officer.can(DECIDE) or officer.can(DECIDE_OWN_APPEALS),
            decides={i.appeal.id: _may_decide_appeal(officer, i) for i in items}, **shown,
        )  # fmt: skip
    return page(request, "admin/queue_appeals.html", officer, status_code=status, **context)


@post("/admin/appeals", include_in_schema=False)
async def appeal_file(
    request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    return await in_thread(_appeal_file, request, data)


def _appeal_file(request: Request[Any, Any, Any], data: dict[str, str]) -> Template | Redirect:
    today = china_today()
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            _require_any(officer, DECIDE, DECIDE_OWN_APPEALS)
            with _checked({"document_no": "decision_no"}):
                done = first_submission(session, officer, _token(data), "/admin/queues/appeals")
                if done:
                    return back_to(done)
                received_on = _day(data, "received_on", "收到申诉日期", today)
                reason = _reason(data, required=False, default="登记收到的书面申诉")
                person = practitioner_for(session, officer, _text(data, "national_code"))
                decision = decision_by_no(session, _text(data, "decision_no"))
                region = session.get_one(Institution, decision.institution_id).region
                if not officer.can(DECIDE) and not _own_finding(
                    officer, decision.decision_type, region
                ):
                    raise ServiceError(
                        "decision_no", "行政部门只能登记对本部门行政处罚决定（本辖区）的申诉"
                    )
                appeal = file_appeal(
                    session, officer.act(reason), decision_no=decision.document_no,
                    national_code=person.national_code, received_on=received_on,
                )  # fmt: skip
    except _Invalid as exc:
        return _again(_appeals_queue, request, form="file", data=data, exc=exc)
    return back_to(f"/admin/appeals/{appeal.id}")


@get("/admin/appeals/{appeal_id:int}", include_in_schema=False)
async def appeal_page(request: Request[Any, Any, Any], appeal_id: FromPath[int]) -> Template:
    return await in_thread(_appeal_page, request, appeal_id)


def _appeal_page(
    request: Request[Any, Any, Any], appeal_id: int, status: int = 200, **shown: Any
) -> Template:
    today = china_today()
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(VIEW)
        item = _appeal_for(session, officer, appeal_id)
        context = _common(
            today, item=item, steps=_appeal_steps(officer, item),
            history=queues.history(session, "appeal", appeal_id), **shown,
        )  # fmt: skip
    return page(request, "admin/queue_appeal.html", officer, status_code=status, **context)


def _appeal_action(
    request: Request[Any, Any, Any], appeal_id: int, data: dict[str, str], step: str,
    act: Callable[[Session, Officer, date], Any], rename: dict[str, str] | None = None,
) -> Template | Redirect:  # fmt: skip
    """One step on one appeal: rights, scope, the form token, then the service."""
    today = china_today()
    target = f"/admin/appeals/{appeal_id}"
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            _require_any(officer, DECIDE, DECIDE_OWN_APPEALS)
            if step == "escalate":
                officer.require(DECIDE)
            item = _appeal_for(session, officer, appeal_id)
            if not _may_decide_appeal(officer, item):
                raise Forbidden(
                    "行政部门只能处理对本部门行政处罚决定的申诉，以及经办机构提交的申诉"
                )
            queues.let_go(session, item.appeal)
            with _checked(rename):
                done = first_submission(session, officer, _token(data), target)
                if done:
                    return back_to(done)
                act(session, officer, today)
    except _Invalid as exc:
        return _again(_appeal_page, request, appeal_id, form=step, data=data, exc=exc)
    return back_to(target)


@post("/admin/appeals/{appeal_id:int}/escalate", include_in_schema=False)
async def appeal_escalate(
    request: Request[Any, Any, Any], appeal_id: FromPath[int], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    def act(session: Session, officer: Officer, today: date) -> None:
        on = _day(data, "escalated_on", "提交日期", today)
        escalate_appeal(session, officer.act(_reason(data)), appeal_id, on)

    return await in_thread(
        _appeal_action, request, appeal_id, data, "escalate", act, {"on": "escalated_on"}
    )


@post("/admin/appeals/{appeal_id:int}/expert-panel", include_in_schema=False)
async def appeal_expert_panel(
    request: Request[Any, Any, Any], appeal_id: FromPath[int], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    def act(session: Session, officer: Officer, today: date) -> None:
        start = _day(data, "panel_from", "专家评估开始日期", today)
        end = _date(data, "panel_until", "专家评估结束日期", today, future=True, optional=True)
        expert_panel(session, officer.act(_reason(data)), appeal_id, start, end)

    rename = {"start": "panel_from", "end": "panel_until"}
    return await in_thread(_appeal_action, request, appeal_id, data, "panel", act, rename)


@post("/admin/appeals/{appeal_id:int}/decision", include_in_schema=False)
async def appeal_decision(
    request: Request[Any, Any, Any], appeal_id: FromPath[int], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    def act(session: Session, officer: Officer, today: date) -> None:
        upheld = _choice(
            data, "outcome", {"upheld": True, "rejected": False}, "请选择申诉成立或不成立"
        )
        points = _points(data) if upheld else None
        decided_on = _day(data, "decided_on", "办结日期", today)
        decide_appeal(
            session, officer.act(_reason(data)), appeal_id, upheld=upheld,
            decided_on=decided_on, points=points,
        )  # fmt: skip

    return await in_thread(_appeal_action, request, appeal_id, data, "decision", act)


def _points(data: dict[str, str]) -> int | None:
    raw = _text(data, "points", 8)
    if not raw:
        return None  # the service asks for it
    if not is_whole(raw):
        raise ServiceError("points", "更正后的记分应为 0 至 12 的整数（0 为撤销记分）")
    return int(raw)


# --- repairs and restorations: shared ----------------------------------------------------------


def _step_of(state: str) -> str | None:
    return {"applied": "institution", "institution_approved": "agency"}.get(state)


def _right_of(level: str) -> str:
    return FIRST_STEP if level == "institution" else DECIDE


def _level(data: dict[str, str]) -> str:
    level = _text(data, "level")
    if level not in LEVEL_ZH:
        raise ServiceError("level", "审核层级应为 institution（所在机构）或 agency（经办机构）")
    return level


def _decide(
    request: Request[Any, Any, Any], kind: str, application_id: int, data: dict[str, str],
    fetch: Callable[[Session, Officer, int], Any], render: Callable[..., Template],
    decide: Callable[..., Any],
) -> Template | Redirect:  # fmt: skip
    """The institution's opinion (FIRST_STEP) or the agency's decision (DECIDE): a reason
    either way; the agency's approval is tried on the engine by the service."""
    today = china_today()
    target = f"/admin/{kind}/{application_id}"
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            _require_any(officer, FIRST_STEP, DECIDE)
            with _checked():
                level = _level(data)
            officer.require(_right_of(level))
            queues.let_go(session, fetch(session, officer, application_id).application)
            with _checked({"on": "decided_on"}):
                done = first_submission(session, officer, _token(data), target)
                if done:
                    return back_to(done)
                approve = _choice(
                    data, "outcome", {"approve": True, "refuse": False}, "请选择同意或不同意"
                )
                on = _day(data, "decided_on", "审核日期", today)
                reason = _reason(data)
                decide(session, officer.act(reason), application_id, approve=approve, on=on,
                       level=level)  # fmt: skip
    except _Invalid as exc:
        return _again(render, request, application_id, form="decision", data=data, exc=exc)
    return back_to(target)


def _application_steps(officer: Officer, state: str) -> dict[str, Any]:
    step = _step_of(state)
    return {"level": step, "may": step is not None and officer.can(_right_of(step))}


# --- repairs -------------------------------------------------------------------------------------


def _repair_for(session: Session, officer: Officer, application_id: int) -> queues.RepairItem:
    item = queues.repair_item(session, application_id)
    if item is None or not _sees(session, officer, item.person.national_code):
        raise NotFound("application_id", f"未找到修复申请 {application_id}")
    return item


def _routes(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    """The repair routes of each ruleset, the one in force first, for the form's choices."""
    groups = []
    for ruleset in queues.practitioner_rulesets(request.app.state.settings.ruleset):
        routes = []
        for route in ruleset.routes.values():
            hint = PARAM_ZH.get(route.param or "", "")
            if route.id == CREDIT_GRADE_ROUTE:  # looked up, never typed (Hunan-Rules Art. 12(3))
                hint = "无需填写：按上年度已提交的信用评价结果自动查询（A 级减免5分、B 级减免2分）"
            elif route.choices():
                hint += "：" + "、".join(
                    f"{c}（{CHOICE_ZH[c]}）" if c in CHOICE_ZH else c for c in route.choices()
                )
            routes.append({"id": route.id, "name": ROUTE_ZH.get(route.id, route.id),
                           "hint": hint, "ref": route.ref})  # fmt: skip
        groups.append({"id": ruleset.id, "name": ruleset.name, "routes": routes})
    return groups


@get("/admin/queues/repairs", include_in_schema=False)
async def repairs_queue(request: Request[Any, Any, Any]) -> Template:
    return await in_thread(_repairs_queue, request)


def _repairs_queue(request: Request[Any, Any, Any], status: int = 200, **shown: Any) -> Template:
    today = china_today()
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(VIEW)
        show = "open" if shown else _show(request)
        code = "" if shown else _code(request)
        items = queues.repairs(session, _scope(officer), show, code)
        context = _common(
            today, items=items, show=show, shows=SHOW, code=code, routes=_routes(request),
            can_file=officer.can(FIRST_STEP) or officer.can(DECIDE), **shown,
        )  # fmt: skip
    return page(request, "admin/queue_repairs.html", officer, status_code=status, **context)


@post("/admin/repairs", include_in_schema=False)
async def repair_file(
    request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    return await in_thread(_repair_file, request, data)


def _repair_file(request: Request[Any, Any, Any], data: dict[str, str]) -> Template | Redirect:
    today = china_today()
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            _require_any(officer, FIRST_STEP, DECIDE)
            with _checked():
                done = first_submission(session, officer, _token(data), "/admin/queues/repairs")
                if done:
                    return back_to(done)
                applied_on = _day(data, "applied_on", "申请日期", today)
                reason = _reason(data, required=False, default="代为提交记分修复申请")
                person = practitioner_for(session, officer, _text(data, "national_code"))
                application = apply_repair(
                    session, officer.act(reason), national_code=person.national_code,
                    route=_text(data, "route", 32), param=_param(data),
                    applied_on=applied_on,
                )  # fmt: skip
    except _Invalid as exc:
        return _again(_repairs_queue, request, form="file", data=data, exc=exc)
    return back_to(f"/admin/repairs/{application.id}")


def _param(data: dict[str, str]) -> str | None:
    """What the form typed for the route; nothing for the credit-grade route, whose grade the
    service looks up (Hunan-Rules Art. 12(3))."""
    if _text(data, "route", 32) == CREDIT_GRADE_ROUTE:
        return None
    return _text(data, "param", 32) or None


@get("/admin/repairs/{application_id:int}", include_in_schema=False)
async def repair_page(request: Request[Any, Any, Any], application_id: FromPath[int]) -> Template:
    return await in_thread(_repair_page, request, application_id)


def _repair_page(
    request: Request[Any, Any, Any], application_id: int, status: int = 200, **shown: Any
) -> Template:
    today = china_today()
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(VIEW)
        item = _repair_for(session, officer, application_id)
        context = _common(
            today, item=item, step=_application_steps(officer, item.application.state),
            history=queues.history(session, "repair_application", application_id), **shown,
        )  # fmt: skip
    return page(request, "admin/queue_repair.html", officer, status_code=status, **context)


@post("/admin/repairs/{application_id:int}/decision", include_in_schema=False)
async def repair_decision(
    request: Request[Any, Any, Any],
    application_id: FromPath[int],
    data: URLEncodedBody[dict[str, str]],
) -> Template | Redirect:
    return await in_thread(
        _decide, request, "repairs", application_id, data, _repair_for, _repair_page,
        decide_repair,
    )  # fmt: skip


# --- restorations --------------------------------------------------------------------------------


def _restoration_for(
    session: Session, officer: Officer, application_id: int
) -> queues.RestorationItem:
    item = queues.restoration_item(session, application_id)
    if item is None or not _sees(session, officer, item.person.national_code):
        raise NotFound("application_id", f"未找到恢复申请 {application_id}")
    return item


@get("/admin/queues/restorations", include_in_schema=False)
async def restorations_queue(request: Request[Any, Any, Any]) -> Template:
    return await in_thread(_restorations_queue, request)


def _restorations_queue(
    request: Request[Any, Any, Any], status: int = 200, **shown: Any
) -> Template:
    today = china_today()
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(VIEW)
        show = "open" if shown else _show(request)
        code = "" if shown else _code(request)
        items = queues.restorations(session, _scope(officer), show, code)
        context = _common(
            today, items=items, show=show, shows=SHOW, code=code,
            can_file=officer.can(FIRST_STEP) or officer.can(DECIDE), **shown,
        )  # fmt: skip
    return page(request, "admin/queue_restorations.html", officer, status_code=status, **context)


@post("/admin/restorations", include_in_schema=False)
async def restoration_file(
    request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    return await in_thread(_restoration_file, request, data)


def _restoration_file(request: Request[Any, Any, Any], data: dict[str, str]) -> Template | Redirect:
    today = china_today()
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            _require_any(officer, FIRST_STEP, DECIDE)
            with _checked():
                outcome = "/admin/queues/restorations"
                done = first_submission(session, officer, _token(data), outcome)
                if done:
                    return back_to(done)
                applied_on = _day(data, "applied_on", "申请日期", today)
                reason = _reason(data, required=False, default="代为提交资格恢复申请")
                person = practitioner_for(session, officer, _text(data, "national_code"))
                application = apply_restoration(
                    session, officer.act(reason), national_code=person.national_code,
                    applied_on=applied_on,
                )  # fmt: skip
    except _Invalid as exc:
        return _again(_restorations_queue, request, form="file", data=data, exc=exc)
    return back_to(f"/admin/restorations/{application.id}")


@get("/admin/restorations/{application_id:int}", include_in_schema=False)
async def restoration_page(
    request: Request[Any, Any, Any], application_id: FromPath[int]
) -> Template:
    return await in_thread(_restoration_page, request, application_id)


def _restoration_page(
    request: Request[Any, Any, Any], application_id: int, status: int = 200, **shown: Any
) -> Template:
    today = china_today()
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(VIEW)
        item = _restoration_for(session, officer, application_id)
        application = item.application
        context = _common(
            today, item=item, step=_application_steps(officer, application.state),
            at_application=queues.status_of(session, item.person, application.applied_on),
            history=queues.history(session, "restoration_application", application_id),
            **shown,
        )  # fmt: skip
    return page(request, "admin/queue_restoration.html", officer, status_code=status, **context)


@post("/admin/restorations/{application_id:int}/decision", include_in_schema=False)
async def restoration_decision(
    request: Request[Any, Any, Any],
    application_id: FromPath[int],
    data: URLEncodedBody[dict[str, str]],
) -> Template | Redirect:
    return await in_thread(
        _decide, request, "restorations", application_id, data, _restoration_for,
        _restoration_page, decide_restoration,
    )  # fmt: skip


# --- shortening (Hainan) -------------------------------------------------------------------------


@get("/admin/shortening/new", include_in_schema=False)
async def shorten_new(request: Request[Any, Any, Any]) -> Redirect:
    """The practitioner page's link (``?code=``) to the form on the person's own path."""
    code = _code(request)
    if not code:
        raise ServiceError("code", "请指定医保相关人员代码（code）")
    return Redirect(f"/admin/practitioners/{quote(code, safe='')}/shorten", status_code=303)


@get("/admin/practitioners/{code:str}/shorten", include_in_schema=False)
async def shorten_page(request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
    return await in_thread(_shorten_page, request, code)


def _shorten_page(
    request: Request[Any, Any, Any], code: str, status: int = 200, **shown: Any
) -> Template:
    today = china_today()
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(VIEW)
        person = practitioner_for(session, officer, code)
        context = _common(
            today, person=person, ruleset=queues.ruleset_of(person),
            status=queues.status_of(session, person, today),
            periods=queues.periods_of(session, person, today), can_decide=officer.can(DECIDE),
            **shown,
        )  # fmt: skip
    return page(request, "admin/queue_shorten.html", officer, status_code=status, **context)


@post("/admin/practitioners/{code:str}/shorten", include_in_schema=False)
async def shorten_submit(
    request: Request[Any, Any, Any], code: FromPath[str], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    return await in_thread(_shorten_submit, request, code, data)


def _shorten_submit(
    request: Request[Any, Any, Any], code: str, data: dict[str, str]
) -> Template | Redirect:
    """缩减暂停或终止期限 (Hainan-Rules Art. 16): the engine refuses it where the rules do
    not provide it (Hunan-Rules Art. 12, Anhui-Rules: ``not_eligible``) or where the new
    last day is not within the period (``invalid_end``); the reason is shown."""
    today = china_today()
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            officer.require(DECIDE)
            person = practitioner_for(session, officer, code)
            target = f"/admin/practitioners/{person.national_code}/shorten"
            with _checked({"on": "shortened_on"}):
                done = first_submission(session, officer, _token(data), target)
                if done:
                    return back_to(done)
                on = _day(data, "shortened_on", "缩减决定日期", today)
                new_end = _date(data, "new_end", "新的截止日期", today, future=True, optional=True)
                if new_end is None:
                    raise ServiceError("new_end", "请填写缩减后期限的最后一天")
                shorten_period(
                    session, officer.act(_reason(data)), national_code=person.national_code,
                    on=on, new_end=new_end,
                )  # fmt: skip
    except _Invalid as exc:
        return _again(_shorten_page, request, code, form="shorten", data=data, exc=exc)
    return back_to(target)


ROUTES = [
    appeals_queue, appeal_file, appeal_page, appeal_escalate, appeal_expert_panel,
    appeal_decision,
    repairs_queue, repair_file, repair_page, repair_decision,
    restorations_queue, restoration_file, restoration_page, restoration_decision,
    shorten_new, shorten_page, shorten_submit,
]  # fmt: skip
