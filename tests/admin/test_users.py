"""Account lifecycle in the admin: request → approval → role change → deactivation."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from portal.db import make_engine
from portal.models import AuditLog, UserAccount
from tests.admin.conftest import log_in, post_form, token_in


def _account(url: str, username: str) -> UserAccount | None:
    engine = make_engine(url)
    with Session(engine) as session:
        found = session.exec(select(UserAccount).where(UserAccount.username == username)).first()
    engine.dispose()
    return found


def _actions(url: str) -> list[str]:
    engine = make_engine(url)
    with Session(engine) as session:
        actions = [a.action for a in session.exec(select(AuditLog))]
    engine.dispose()
    return actions


async def test_a_newcomer_requests_and_an_administrator_approves(site: Any, admin_url: str) -> None:
    await site.get("/admin/login")
    form = await site.get("/admin/request-account")
    assert form.status_code == 200 and "申请工作账号" in form.text
    no_reason = await post_form(
        site, "/admin/request-account",
        {"username": "xiaochen", "role": "agency_officer", "region": "430102"},
    )  # fmt: skip
    assert no_reason.status_code == 400 and 'value="xiaochen"' in no_reason.text
    requested = await post_form(
        site, "/admin/request-account",
        {"username": "xiaochen", "display_name": "小陈", "role": "agency_officer",
         "region": "430102", "reason": "长沙市医保事务中心 经办岗 新入职"},
    )  # fmt: skip
    assert requested.status_code == 200 and "申请已提交" in requested.text
    account = _account(admin_url, "xiaochen")
    assert account is not None and account.state == "requested" and not account.password_hash
    await log_in(site, "zhoumin")
    users = await site.get("/admin/users")
    assert "xiaochen" in users.text and "待审批" in users.text
    approved = await post_form(
        site, "/admin/users/xiaochen/approve",
        {"password": "First-Password-77", "reason": "审批通过",
         "form_token": token_in(users.text) + "-ax"},
    )  # fmt: skip
    assert approved.status_code == 303
    account = _account(admin_url, "xiaochen")
    assert account is not None and account.state == "active" and account.must_change_password
    assert {"request_account", "approve_account"} <= set(_actions(admin_url))


async def test_an_administrator_creates_changes_and_deactivates(
    as_user: Any, admin_url: str
) -> None:
    site = await as_user("zhoumin")
    token = token_in((await site.get("/admin/users")).text)
    weak = await post_form(
        site, "/admin/users",
        {"username": "laowang", "role": "auditor", "password": "laowang-12345",
         "form_token": token + "-1"},
    )  # fmt: skip
    assert weak.status_code == 400 and "不能包含用户名" in weak.text
    assert 'value="laowang"' in weak.text  # what was typed is kept
    made = await post_form(
        site, "/admin/users",
        {"username": "laowang", "display_name": "老王", "role": "agency_officer",
         "region": "4301", "password": "Strong-Start-Pass-1", "form_token": token + "-2"},
    )  # fmt: skip
    assert made.status_code == 303
    changed = await post_form(
        site, "/admin/users/laowang/role",
        {"role": "agency_officer", "region": "4306", "reason": "调往岳阳",
         "form_token": token + "-3"},
    )  # fmt: skip
    assert changed.status_code == 303 and _account(admin_url, "laowang").region == "4306"  # type: ignore[union-attr]
    gone = await post_form(
        site, "/admin/users/laowang/deactivate", {"reason": "离职", "form_token": token + "-4"}
    )
    assert gone.status_code == 303 and _account(admin_url, "laowang").state == "deactivated"  # type: ignore[union-attr]
    assert {"create_account", "change_role", "deactivate_account"} <= set(_actions(admin_url))


async def test_auditor_reads_but_cannot_post(as_user: Any, admin_url: str) -> None:
    site = await as_user("sunli")
    page = await site.get("/admin/users")
    assert page.status_code == 200 and "liming" in page.text and "立即结束其登录" not in page.text
    refused = await post_form(
        site, "/admin/users/liming/deactivate", {"reason": "x", "form_token": "t" * 20}
    )
    assert refused.status_code == 403 and _account(admin_url, "liming").state == "active"  # type: ignore[union-attr]


async def test_nobody_manages_their_own_account(as_user: Any) -> None:
    site = await as_user("zhoumin")
    refused = await post_form(
        site, "/admin/users/zhoumin/role",
        {"role": "auditor", "reason": "x", "form_token": "t" * 20},
    )  # fmt: skip
    assert refused.status_code == 403


async def test_roles_without_account_rights_get_403(as_user: Any) -> None:
    """spec/DESIGN.md "Admin": users — province_admin manages, auditor reads, others —."""
    site = await as_user("wangfang")
    assert (await site.get("/admin/users")).status_code == 403
    fields = {"username": "x1", "role": "auditor", "password": "A-Long-Password-9"}
    refused = await post_form(site, "/admin/users", {**fields, "form_token": "t" * 20})
    assert refused.status_code == 403
