"""Logging in and out, and changing one's password (spec/DESIGN.md, "Admin").

Form fields ``username``, ``password`` and the CSRF field; the session cookie is HttpOnly,
SameSite=Lax and Secure when the portal is served over HTTPS. The password check (argon2,
~0.2 s) runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from admin.common import COOKIE, Officer, db, in_thread, page, signed_in
from portal.services.accounts import LONGEST, login, logout, set_password
from portal.services.errors import ServiceError
from public_site.common import client_of


def _safe_next(target: str) -> str:
    """Only a path of this site (no open redirect to another host)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/admin") or "\\" in target:
        return "/admin/"
    return target


def _cookie(request: Request[Any, Any, Any], value: str, max_age: int) -> Cookie:
    secure = request.app.state.settings.base_url.startswith("https://") or (
        request.url.scheme == "https"
    )
    return Cookie(
        key=COOKIE,
        value=value,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
        max_age=max_age,
    )


@get("/admin/login", sync_to_thread=False, include_in_schema=False)
def login_page(request: Request[Any, Any, Any], next: FromQuery[str] = "/admin/") -> Template:
    return page(request, "admin/login.html", None, next=_safe_next(next), username="", error="")


@post("/admin/login", include_in_schema=False)
async def login_submit(
    request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    return await in_thread(_login, request, data)


def _login(request: Request[Any, Any, Any], data: dict[str, str]) -> Template | Redirect:
    username = str(data.get("username", ""))[:64]
    target = _safe_next(str(data.get("next", "/admin/")))
    with db(request, write=True) as session:
        result = login(
            session, username, str(data.get("password", "")), client_of(request),
            datetime.now(UTC),
        )  # fmt: skip
    if result.account is None:
        return page(
            request, "admin/login.html", None, status_code=400, next=target, username=username,
            error=result.refusal,
        )  # fmt: skip
    response = Redirect(target, status_code=303)
    response.cookies.append(_cookie(request, result.token, int(LONGEST.total_seconds())))
    return response


@post("/admin/logout", include_in_schema=False)
async def logout_submit(request: Request[Any, Any, Any]) -> Redirect:
    return await in_thread(_logout, request)


def _logout(request: Request[Any, Any, Any]) -> Redirect:
    with db(request, write=True) as session:
        logout(session, request.cookies.get(COOKIE, ""), datetime.now(UTC))
    response = Redirect("/admin/login", status_code=303)
    response.cookies.append(_cookie(request, "", 0))
    return response


@get("/admin/password", include_in_schema=False)
async def password_page(request: Request[Any, Any, Any]) -> Template:
    return await in_thread(_password_page, request)


def _password_page(request: Request[Any, Any, Any]) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
    return page(request, "admin/password.html", officer, error="", field="")


@post("/admin/password", include_in_schema=False)
async def password_submit(
    request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    return await in_thread(_password_submit, request, data)


def _password_submit(request: Request[Any, Any, Any], data: dict[str, str]) -> Template | Redirect:
    try:
        with db(request, write=True) as session:
            officer: Officer = signed_in(request, session)
            if data.get("password") != data.get("password_again"):
                raise ServiceError("password_again", "两次输入的新密码不一致")
            set_password(
                session, officer.act("修改密码"), officer.account,
                str(data.get("old_password", "")), str(data.get("password", "")),
            )  # fmt: skip
    except ServiceError as exc:
        with db(request) as session:
            officer = signed_in(request, session)
        return page(request, "admin/password.html", officer, status_code=400, error=exc.message,
                    field=exc.field)  # fmt: skip
    return Redirect("/admin/", status_code=303)


ROUTES = [login_page, login_submit, logout_submit, password_page, password_submit]
