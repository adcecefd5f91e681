"""How the admin answers what its pages raise: to the login page, 403, 404, 400."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.response import Redirect

from admin.common import Forbidden, LoginRequired, PasswordChangeRequired
from portal.services.errors import ServiceError
from public_site.security import answer


def login_required(request: Request[Any, Any, Any], _exc: LoginRequired) -> Response[Any]:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.headers.get("hx-request"):  # htmx: send the whole page to the login form
        return Response(b"", status_code=200, headers={"HX-Redirect": "/admin/login"})
    return Redirect("/admin/login?" + urlencode({"next": target}), status_code=303)


def password_change(request: Request[Any, Any, Any], _exc: PasswordChangeRequired) -> Response[Any]:
    return Redirect("/admin/password", status_code=303)


def forbidden(request: Request[Any, Any, Any], exc: Forbidden) -> Response[Any]:
    return answer(request, 403, exc.message)


def service_error(request: Request[Any, Any, Any], exc: ServiceError) -> Response[Any]:
    """A refusal the page did not catch itself: 404 for a record out of reach, else 400."""
    return answer(request, 404 if exc.code == "not_found" else 400, exc.message, exc.field)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    LoginRequired: login_required,
    PasswordChangeRequired: password_change,
    Forbidden: forbidden,
    ServiceError: service_error,
}
