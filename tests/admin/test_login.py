"""Logging in and out: sessions in the database, CSRF, lockout, the first-login change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import time_machine
from litestar.testing import AsyncTestClient
from sqlmodel import Session, select

from portal.db import make_engine, session_scope
from portal.models import AdminSession, AuditLog
from portal.services.accounts import create_account, deactivate, get_account
from portal.services.registry import Act
from tests.admin.conftest import PASSWORD, log_in, post_form


async def test_it_sends_strangers_to_the_login_page(site: AsyncTestClient[Any]) -> None:
    for path in ("/admin/", "/admin/password"):
        response = await site.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/login?next=")


async def test_it_logs_in_and_shows_the_dashboard(site: AsyncTestClient[Any]) -> None:
    response = await log_in(site, "liming")
    cookie = response.headers["set-cookie"]
    assert "portal_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = await site.get("/admin/")
    assert page.status_code == 200 and "李明" in page.text and "待办事项" in page.text
    assert page.headers["cache-control"] == "no-store"


async def test_it_refuses_a_wrong_password_and_keeps_the_username(
    site: AsyncTestClient[Any],
) -> None:
    await site.get("/admin/login")
    refused = await post_form(site, "/admin/login", {"username": "liming", "password": "nope"})
    assert refused.status_code == 400 and "用户名或密码不正确" in refused.text
    assert 'value="liming"' in refused.text
    assert "portal_session" not in refused.headers.get("set-cookie", "")


async def test_it_requires_csrf_on_login_and_every_post(site: AsyncTestClient[Any]) -> None:
    await site.get("/admin/login")
    without = await post_form(
        site, "/admin/login", {"username": "liming", "password": PASSWORD}, csrf=False
    )
    assert without.status_code == 403 and "CSRF" in without.text
    await log_in(site, "liming")
    assert (await post_form(site, "/admin/logout", {}, csrf=False)).status_code == 403
    assert (await site.get("/admin/")).status_code == 200  # still signed in


async def test_five_failures_lock_the_account_for_15_minutes(site: AsyncTestClient[Any]) -> None:
    await site.get("/admin/login")
    for _ in range(5):
        await post_form(site, "/admin/login", {"username": "wangfang", "password": "wrong-one"})
    locked = await post_form(site, "/admin/login", {"username": "wangfang", "password": PASSWORD})
    assert locked.status_code == 400 and "锁定" in locked.text
    with time_machine.travel(datetime.now(UTC).replace(microsecond=0) + _minutes(16), tick=False):
        await site.get("/admin/login")
        again = await post_form(
            site, "/admin/login", {"username": "wangfang", "password": PASSWORD}
        )
        assert again.status_code == 303


async def test_a_client_guessing_many_accounts_is_held_off(site: AsyncTestClient[Any]) -> None:
    await site.get("/admin/login")
    for n in range(10):
        await post_form(site, "/admin/login", {"username": f"guess{n}", "password": "x" * 12})
    held = await post_form(site, "/admin/login", {"username": "liming", "password": PASSWORD})
    assert held.status_code == 400 and "锁定" in held.text


async def test_logging_out_ends_the_session_in_the_database(
    site: AsyncTestClient[Any], admin_url: str
) -> None:
    await log_in(site, "liming")
    cookie = site.cookies.get("portal_session")
    assert (await post_form(site, "/admin/logout", {})).status_code == 303
    site.cookies.set("portal_session", str(cookie))  # an old copy of the cookie
    assert (await site.get("/admin/", follow_redirects=False)).status_code == 303
    engine = make_engine(admin_url)
    with Session(engine) as session:
        assert all(s.ended_at for s in session.exec(select(AdminSession)))
    engine.dispose()


async def test_deactivation_ends_the_sessions_at_once(
    site: AsyncTestClient[Any], admin_url: str
) -> None:
    await log_in(site, "wangfang")
    assert (await site.get("/admin/")).status_code == 200
    engine = make_engine(admin_url)
    with session_scope(engine, write=True) as session:
        deactivate(
            session, Act("zhoumin", datetime.now(UTC), "调岗"), get_account(session, "wangfang")
        )
    engine.dispose()
    assert (await site.get("/admin/", follow_redirects=False)).status_code == 303
    await site.get("/admin/login")
    again = await post_form(site, "/admin/login", {"username": "wangfang", "password": PASSWORD})
    assert again.status_code == 400


async def test_an_idle_session_ends_after_30_minutes(site: AsyncTestClient[Any]) -> None:
    await log_in(site, "liming")
    with time_machine.travel(datetime.now(UTC) + _minutes(31), tick=False):
        assert (await site.get("/admin/", follow_redirects=False)).status_code == 303


async def test_an_account_made_for_someone_else_changes_its_password_first(
    site: AsyncTestClient[Any], admin_url: str
) -> None:
    engine = make_engine(admin_url)
    with session_scope(engine, write=True) as session:
        create_account(
            session, Act("zhoumin", datetime.now(UTC), "新入职"), username="newbie",
            role="agency_officer", region="4301", password="Temporary-Pass-01", must_change=True,
        )  # fmt: skip
    await log_in(site, "newbie", "Temporary-Pass-01")
    first = await site.get("/admin/", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/admin/password"
    weak = await post_form(
        site, "/admin/password",
        {"old_password": "Temporary-Pass-01", "password": "short", "password_again": "short"},
    )  # fmt: skip
    assert weak.status_code == 400 and "至少 12 个字符" in weak.text
    done = await post_form(
        site, "/admin/password",
        {"old_password": "Temporary-Pass-01", "password": "Brand-New-Secret-42",
         "password_again": "Brand-New-Secret-42"},
    )  # fmt: skip
    assert done.status_code == 303 and (await site.get("/admin/")).status_code == 200
    with Session(engine) as session:
        actions = [a.action for a in session.exec(select(AuditLog))]
    assert "change_password" in actions and "login" in actions
    engine.dispose()


async def test_the_next_parameter_cannot_send_anyone_elsewhere(
    site: AsyncTestClient[Any],
) -> None:
    await site.get("/admin/login")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = await post_form(
            site, "/admin/login", {"username": "liming", "password": PASSWORD, "next": target}
        )
        assert response.headers["location"] == "/admin/"
        await post_form(site, "/admin/logout", {})


def _minutes(n: int) -> Any:
    from datetime import timedelta

    return timedelta(minutes=n)
