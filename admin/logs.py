"""The audit log and the query log, for those who audit (spec/DESIGN.md "Admin": read by
province_admin and auditor, the LOGS right; others 403).

Both are searchable — by who, what, which record or person, and days (China time, both
inclusive) — paginated and newest first. Plain GET forms: they work without JavaScript
and every search is a link one can send. The audit page shows the chain's head; whether
the chain is intact is `portal audit verify` (a walk of the whole log, not for a request).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.response import Template

from admin.common import db, in_thread, page, signed_in
from portal.clock import CHINA
from portal.services import audit
from portal.services.querylog import WHAT_ZH
from portal.services.roles import LOGS
from public_site.common import BadInput, check_page, parse_date, parse_int, parse_page, parse_text

PER_PAGE = 50
ACTION_ZH = {
    "create": "新建", "register": "登记备案", "deregister": "取消登记备案",
    "reenter_id_number": "补录身份证件号码", "record_case": "录入案件",
    "ledger_score": "记分", "ledger_repair": "记分修复", "ledger_restore": "资格恢复",
    "ledger_appeal": "申诉更正", "ledger_shorten": "缩短期限", "ledger_void": "作废记录",
    "ledger_linked": "关联处理", "issue_notice": "出具处理通知书", "deliver_notice": "送达通知书",
    "file_appeal": "收到申诉", "escalate_appeal": "申诉提交行政部门", "expert_panel": "专家评估",
    "decide_appeal": "申诉办结", "apply_repair": "申请记分修复",
    "decide_repair_institution": "机构审核记分修复", "decide_repair_agency": "经办机构审核记分修复",
    "apply_restoration": "申请资格恢复",
    "decide_restoration_institution": "机构审核资格恢复",
    "decide_restoration_agency": "经办机构审核资格恢复",
    "agreement_suspended": "暂停协议", "agreement_terminated": "解除协议",
    "agreement_reinstated": "恢复协议", "create_account": "新建账号",
    "request_account": "申请账号", "approve_account": "审批账号", "change_role": "变更角色或范围",
    "deactivate_account": "停用账号", "change_password": "修改密码", "login": "登录",
    "rotate_secret": "更换加密密钥", "webhook_subscribe": "订阅状态变化",
    "demo_data": "生成演示数据",
}  # fmt: skip
ENTITY_ZH = {
    "institution": "定点医药机构", "practitioner": "医保相关人员", "registration": "登记备案",
    "decision": "处理决定", "ledger_entry": "记分记录", "notice": "处理通知书", "appeal": "申诉",
    "repair_application": "记分修复申请", "restoration_application": "资格恢复申请",
    "user_account": "账号", "webhook_subscription": "状态订阅", "job": "后台任务",
}  # fmt: skip


@dataclass(frozen=True)
class Typed:
    """The search as typed, shown again in the form and carried by the page links."""

    actor: str = ""
    entity: str = ""
    entity_id: str = ""
    action: str = ""
    q: str = ""
    subject: str = ""
    what: str = ""
    since: str = ""
    until: str = ""

    def link(self, path: str, number: int) -> str:
        fields = {k: v for k, v in asdict(self).items() if v}
        for ours, theirs in (("since", "from"), ("until", "to")):
            if ours in fields:
                fields[theirs] = fields.pop(ours)
        return f"{path}?{urlencode({**fields, 'page': number})}"


def _typed(request: Request[Any, Any, Any]) -> Typed:
    query = request.query_params
    return Typed(
        actor=parse_text(query.get("actor"), "actor", 64),
        entity=parse_text(query.get("entity"), "entity", 32),
        entity_id=parse_text(query.get("entity_id"), "entity_id", 12),
        action=parse_text(query.get("action"), "action", 48),
        q=parse_text(query.get("q"), "q", 100),
        subject=parse_text(query.get("subject"), "subject", 32).upper(),
        what=parse_text(query.get("what"), "what", 64),
        since=parse_text(query.get("from"), "from", 10),
        until=parse_text(query.get("to"), "to", 10),
    )


def _period(typed: Typed) -> audit.Period:
    since = parse_date(typed.since, "from") if typed.since else None
    until = parse_date(typed.until, "to") if typed.until else None
    if since and until and until < since:
        raise BadInput("to", "结束日期不能早于开始日期")
    return audit.Period(since, until)


def _when(moment: Any) -> str:
    return str(moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"))


def _detail_lines(detail: str) -> list[str]:
    """The detail JSON in words: before → after per field, then the rest."""
    try:
        data = json.loads(detail)
    except ValueError:
        return [detail]
    if not isinstance(data, dict):
        return [detail]
    lines = []
    before, after = data.pop("before", None), data.pop("after", None)
    if isinstance(after, dict):
        was = before if isinstance(before, dict) else {}
        lines += [f"{k}：{_shown(was.get(k))} → {_shown(v)}" for k, v in after.items()]
    elif before is not None:
        lines.append(f"变更前：{_shown(before)}")
    lines += [f"{k}：{_shown(v)}" for k, v in data.items()]
    return lines


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@get("/admin/audit", include_in_schema=False)
async def audit_page(request: Request[Any, Any, Any]) -> Template:
    return await in_thread(_audit_page, request)


def _audit_page(request: Request[Any, Any, Any]) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(LOGS)
        typed, number = _typed(request), parse_page(request.query_params.get("page"))
        search = audit.AuditSearch(
            actor=typed.actor, entity=typed.entity, action=typed.action, text=typed.q,
            entity_id=(parse_int(typed.entity_id, "entity_id", 0, 1, 2**31 - 1)
                       if typed.entity_id else None),
            period=_period(typed),
        )  # fmt: skip
        found = audit.audit_entries(session, search, number, PER_PAGE)
        pages = check_page(number, found.total, PER_PAGE)
        head = audit.head(session)
        rows = [
            {"id": r.id, "seq": r.seq, "at": _when(r.at), "actor": r.actor,
             "action": ACTION_ZH.get(r.action, r.action), "code": r.action,
             "entity": ENTITY_ZH.get(r.entity, r.entity), "entity_id": r.entity_id,
             "reason": r.reason, "detail": _detail_lines(r.detail)}
            for r in found.rows
        ]  # fmt: skip
    return page(
        request, "admin/audit.html", officer, rows=rows, typed=typed, total=found.total,
        number=number, pages=pages, head=head, entities=ENTITY_ZH,
        prev_url=typed.link("/admin/audit", number - 1) if number > 1 else "",
        next_url=typed.link("/admin/audit", number + 1) if number < pages else "",
    )  # fmt: skip


@get("/admin/queries", include_in_schema=False)
async def queries_page(request: Request[Any, Any, Any]) -> Template:
    return await in_thread(_queries_page, request)


def _queries_page(request: Request[Any, Any, Any]) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(LOGS)
        typed, number = _typed(request), parse_page(request.query_params.get("page"))
        if typed.what and typed.what not in WHAT_ZH:
            raise BadInput("what", f"what 应为 {' / '.join(WHAT_ZH)} 之一")
        search = audit.QuerySearch(
            actor=typed.actor, subject=typed.subject, what=typed.what, period=_period(typed)
        )
        found = audit.query_entries(session, search, number, PER_PAGE)
        pages = check_page(number, found.total, PER_PAGE)
        rows = [
            {"id": r.id, "at": _when(r.at), "actor": r.actor, "subject": r.subject,
             "what": WHAT_ZH.get(r.what, r.what), "purpose": r.purpose}
            for r in found.rows
        ]  # fmt: skip
    return page(
        request, "admin/queries.html", officer, rows=rows, typed=typed, total=found.total,
        number=number, pages=pages, whats=WHAT_ZH,
        prev_url=typed.link("/admin/queries", number - 1) if number > 1 else "",
        next_url=typed.link("/admin/queries", number + 1) if number < pages else "",
    )  # fmt: skip


ROUTES = [audit_page, queries_page]
