"""Accounts: request, approval, change of role or scope, deactivation (National-Procedure
Art. 56; Hainan-Rules Art. 32, 34: a managed lifecycle, one post one set of rights).

A newcomer requests an account from the login page (no password; nothing is granted until
approved); an administrator of the right scope approves it, setting a first password the
newcomer must change, creates accounts, changes roles and deactivates. The auditor reads;
other roles have no account pages (spec/DESIGN.md, "Admin"). Every step is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session, col, select

from admin.common import (
    Forbidden,
    Officer,
    back_to,
    db,
    first_submission,
    form_token,
    in_thread,
    page,
    signed_in,
)
from portal.models import UserAccount
from portal.services import accounts
from portal.services.errors import NotFound, ServiceError
from portal.services.registry import Act
from portal.services.roles import ROLES, USERS_MANAGE, USERS_READ, in_region
from public_site.limits import limit

STATE_ZH = {"requested": "待审批", "active": "在用", "deactivated": "已停用"}


def _visible(officer: Officer, account: UserAccount) -> bool:
    if officer.role.scope == "province":
        return True
    return officer.role.scope == "region" and in_region(officer.account.region, account.region)


def _account_for(session: Session, officer: Officer, username: str) -> UserAccount:
    found = session.exec(select(UserAccount).where(UserAccount.username == username[:64])).first()
    if found is None or not _visible(officer, found):
        raise NotFound("username", f"未找到用户 {username[:64]}")
    return found


def _list(
    request: Request[Any, Any, Any],
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(USERS_READ)
        people = [
            a
            for a in session.exec(select(UserAccount).order_by(col(UserAccount.username)))
            if _visible(officer, a)
        ]
        return page(
            request, "admin/users.html", officer, status_code=status_code, accounts=people,
            roles=ROLES, state_zh=STATE_ZH, errors=errors or {}, typed=typed or {},
            token=form_token(), may_manage=lambda a: accounts.may_manage(officer.account, a),
        )  # fmt: skip


@get("/admin/users", include_in_schema=False)
async def users_page(request: Request[Any, Any, Any]) -> Template:
    return await in_thread(_list, request)


def _typed(data: dict[str, str]) -> dict[str, str]:
    keys = ("username", "display_name", "role", "region", "institution", "reason")
    return {k: str(data.get(k, "")).strip()[:64] for k in keys}


def _create(request: Request[Any, Any, Any], data: dict[str, str]) -> Any:
    """An administrator's new account: a first password the user must change."""
    typed = _typed(data)
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            officer.require(USERS_MANAGE)
            if first_submission(session, officer, str(data.get("form_token", "")), "/admin/users"):
                return back_to("/admin/users")
            if officer.role.scope == "region" and not in_region(
                officer.account.region, typed["region"]
            ):
                raise ServiceError("region", "只能在本辖区内新建账号")
            accounts.create_account(
                session,
                officer.act(typed["reason"] or "新建账号"),
                username=typed["username"],
                role=typed["role"],
                region=typed["region"],
                institution=typed["institution"],
                display_name=typed["display_name"],
                password=str(data.get("password", "")),
                must_change=True,
            )
        return back_to("/admin/users")
    except ServiceError as exc:
        return _list(request, {f"create_{exc.field}": exc.message}, typed, status_code=400)


@post("/admin/users", include_in_schema=False)
async def create_user(request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, str]]) -> Any:
    return await in_thread(_create, request, data)


def _request_page(
    request: Request[Any, Any, Any],
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    done: bool = False,
) -> Template:
    return page(
        request, "admin/request_account.html", None, status_code=status_code, roles=ROLES,
        typed=typed or {}, errors=errors or {}, done=done,
    )  # fmt: skip


@get("/admin/request-account", sync_to_thread=False, include_in_schema=False)
def request_account_page(request: Request[Any, Any, Any]) -> Template:
    return _request_page(request)


def _request(request: Request[Any, Any, Any], data: dict[str, str]) -> Template:
    typed = _typed(data)
    try:
        if not typed["reason"]:
            raise ServiceError("reason", "请写明所在单位、岗位和申请理由，供审批人核实")
        with db(request, write=True) as session:
            accounts.create_account(
                session,
                Act(f"request:{typed['username'][:48]}", datetime.now(UTC), typed["reason"]),
                username=typed["username"],
                role=typed["role"],
                region=typed["region"],
                institution=typed["institution"],
                display_name=typed["display_name"],
                password=None,
                state="requested",
            )
    except ServiceError as exc:
        return _request_page(request, typed, {exc.field: exc.message}, status_code=400)
    return _request_page(request, done=True)


@post("/admin/request-account", include_in_schema=False)
async def request_account(
    request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, str]]
) -> Template:
    """A newcomer's request (signed out): it grants nothing until an administrator of the
    right scope approves it; limited per client like the search, so it cannot be flooded."""
    limit(request, "search")
    return await in_thread(_request, request, data)


def _change(
    request: Request[Any, Any, Any], username: str, data: dict[str, str], what: str
) -> Template | Redirect:
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            officer.require(USERS_MANAGE)
            account = _account_for(session, officer, username)
            if not accounts.may_manage(officer.account, account):
                raise Forbidden("无权管理该账号（不能管理本人账号或辖区外账号）")
            if first_submission(session, officer, str(data.get("form_token", "")), "/admin/users"):
                return back_to("/admin/users")
            reason = str(data.get("reason", "")).strip()
            if not reason:
                raise ServiceError("reason", "请说明理由（记入审计日志）")
            act = officer.act(reason)
            if what == "approve":
                accounts.approve_account(
                    session, act, officer.account, account, str(data.get("password", ""))
                )
            elif what == "role":
                accounts.change_role(
                    session, act, officer.account, account,
                    role=str(data.get("role", "")), region=str(data.get("region", "")).strip(),
                    institution=str(data.get("institution", "")).strip(),
                )  # fmt: skip
            else:
                accounts.deactivate(session, act, account)
        return back_to("/admin/users")
    except ServiceError as exc:
        if exc.code == "not_found":
            raise
        return _list(request, {f"{what}_{exc.field}": exc.message}, status_code=400)


@post("/admin/users/{username:str}/approve", include_in_schema=False)
async def approve_user(
    request: Request[Any, Any, Any], username: FromPath[str], data: URLEncodedBody[dict[str, str]]
) -> Any:
    return await in_thread(_change, request, username, data, "approve")


@post("/admin/users/{username:str}/role", include_in_schema=False)
async def change_user_role(
    request: Request[Any, Any, Any], username: FromPath[str], data: URLEncodedBody[dict[str, str]]
) -> Any:
    return await in_thread(_change, request, username, data, "role")


@post("/admin/users/{username:str}/deactivate", include_in_schema=False)
async def deactivate_user(
    request: Request[Any, Any, Any], username: FromPath[str], data: URLEncodedBody[dict[str, str]]
) -> Any:
    return await in_thread(_change, request, username, data, "deactivate")


ROUTES = [
    users_page, create_user, request_account_page, request_account, approve_user,
    change_user_role, deactivate_user,
]  # fmt: skip
