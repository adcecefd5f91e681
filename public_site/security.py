"""What every response gets, and what every failure answers.

- ``X-Request-ID`` on every response (the client's own, if it sent a sane one);
- ``X-Content-Type-Options``, ``Referrer-Policy`` and a Content-Security-Policy the pages
  satisfy (no inline script or style); only ``/embed/*`` may be framed;
- exactly one ``Cache-Control`` (``no-store`` where a route set none);
- requests with too many or too large headers are refused (431) before any route runs;
- errors in one shape: JSON ``{"error", "field"}`` on JSON routes, a Chinese page on HTML
  routes, an SVG on badges; a 500 is logged with its traceback and request id, and its
  body carries the id (spec/DESIGN.md, "Pinned details").
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import secrets
from typing import Any
from urllib.parse import unquote_plus

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Template
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from public_site.common import BadInput
from public_site.limits import TooMany

log = logging.getLogger("portal.errors")
MAX_HEADERS = 100
MAX_HEADER_BYTES = 16 * 1024
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
EMBED_CSP = PAGE_CSP.replace("frame-ancestors 'none'", "frame-ancestors *")
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# The API reference (Redoc, vendored) writes its styles inline and searches in a worker:
# that page alone allows both; scripts still come only from the portal.
DOCS_CSP = PAGE_CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'").replace(
    "connect-src 'self'", "connect-src 'self'; worker-src 'self' blob:; font-src 'self' data:"
)
MESSAGES = {
    400: "请求有误",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持该请求方法",
    413: "请求体过大",
    415: "不支持的内容类型",
    429: "请求过于频繁，请稍后再试",
    431: "请求头过多或过大",
    500: "服务器内部错误",
}


def _is_json_route(path: str) -> bool:
    return path.startswith(("/api/", "/feeds/", "/healthz", "/.well-known/"))


def _csp(path: str) -> str:
    if path.startswith("/embed/"):
        return EMBED_CSP
    if path == "/docs/api":
        return DOCS_CSP
    if _is_json_route(path) or path.startswith("/badge/"):
        return API_CSP
    return PAGE_CSP


_ID_PREFIX = secrets.token_hex(10)  # per process: ids unique across workers and restarts
_ID_COUNT = itertools.count(1)


def _new_request_id() -> str:
    """32 hex digits, like a UUID's, without a system call per request."""
    return f"{_ID_PREFIX}{next(_ID_COUNT):012x}"


def request_id_of(scope: Scope) -> str:
    """The request's id: the client's own ``X-Request-ID`` if it is sane, else a new one."""
    state = scope.setdefault("state", {})
    request_id = state.get("request_id")
    if request_id is None:
        sent = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = sent if _REQUEST_ID.fullmatch(sent) else _new_request_id()
        state["request_id"] = request_id
    return str(request_id)


def header_limits(app: ASGIApp) -> ASGIApp:
    """Requests with more than 100 headers or 16 KB of them (431), or a NUL in the path
    (400: no file or route has one), are refused before the route."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":  # type: ignore[comparison-overlap]
            if headers_too_large(scope["headers"]):
                await _refuse(send, scope, 431, "请求头过多或过大（最多 100 个、共 16 KB）")
                return
            if "\x00" in scope["path"]:
                await _refuse(send, scope, 400, "请求地址中含有不允许的字符")
                return
            repeated = _repeated_parameter(scope)
            if repeated is not None:
                await _refuse(send, scope, 400, f"参数 {repeated} 只能出现一次", repeated)
                return
        await app(scope, receive, send)

    return middleware


def headers_too_large(headers: Any) -> bool:
    """More than MAX_HEADERS headers, or more than MAX_HEADER_BYTES of them (431)."""
    headers = list(headers)
    size = sum(len(k) + len(v) for k, v in headers)
    return len(headers) > MAX_HEADERS or size > MAX_HEADER_BYTES


async def finish_response(message: Message, scope: Scope) -> None:
    """Every response of the app (also the framework's own 404s): request id, security
    headers and exactly one Cache-Control."""
    if message["type"] == "http.response.start":
        message["headers"] = finish_headers(
            list(message.get("headers", [])),
            scope["path"],
            request_id_of(scope),
            int(message["status"]),
        )


def finish_headers(
    headers: list[tuple[bytes, bytes]], path: str, request_id: str, status: int
) -> list[tuple[bytes, bytes]]:
    out: list[tuple[bytes, bytes]] = []
    cache_control = False
    names = set()
    for name, value in headers:
        lower = name.lower()
        if lower == b"cache-control":
            if cache_control or status >= 400:
                continue  # one Cache-Control; errors and refusals are never stored
            cache_control = True
        names.add(lower)
        out.append((name, value))
    if not cache_control:
        out.append((b"cache-control", b"no-store"))
    for name, value in (
        (b"x-request-id", request_id.encode("latin-1")),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"content-security-policy", _csp(path).encode("latin-1")),
    ):
        if name not in names:
            out.append((name, value))
    if not path.startswith("/embed/") and b"x-frame-options" not in names:
        out.append((b"x-frame-options", b"DENY"))
    return out


def _repeated_parameter(scope: Scope) -> str | None:
    """On the JSON routes every query parameter is one value: the name of one sent twice
    (``?since=1&since=2`` would otherwise be read as one of them, silently)."""
    query = scope.get("query_string", b"")
    if b"&" not in query or not _is_json_route(str(scope.get("path", ""))):
        return None
    names = [unquote_plus(part.partition(b"=")[0].decode("latin-1")) for part in query.split(b"&")]
    seen: set[str] = set()
    for name in names:
        if name in seen and name:
            return name[:40]
        seen.add(name)
    return None


async def _refuse(
    send: Send, scope: Scope, status: int, message: str, field: str | None = None
) -> None:
    """An answer before any route: JSON on the JSON routes, a plain Chinese page elsewhere."""
    request_id = request_id_of(scope)
    path = str(scope.get("path", ""))
    if _is_json_route(path):
        body = json.dumps(
            {"error": message, "field": field, "request_id": request_id}, ensure_ascii=False
        ).encode("utf-8")
        media = b"application/json"
    else:
        body = (
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>'
            f"{message}</title></head><body><h1>{message}</h1><p>请求编号：{request_id}</p>"
            '<p><a href="/">返回首页</a></p></body></html>'
        ).encode()
        media = b"text/html; charset=utf-8"
    start: Any = {
        "type": "http.response.start",
        "status": status,
        "headers": finish_headers(
            [(b"content-type", media), (b"content-length", str(len(body)).encode())],
            path,
            request_id,
            status,
        ),
    }
    end: Any = {"type": "http.response.body", "body": body, "more_body": False}
    await send(start)
    await send(end)


# --- errors ----------------------------------------------------------------------------------


def answer(
    request: Request[Any, Any, Any],
    status: int,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    request_id: str | None = None,
) -> Response[Any]:
    path = request.url.path
    headers = {"Cache-Control": "no-store", **(headers or {})}
    if _is_json_route(path):
        body: dict[str, Any] = {"error": message, "field": field}
        if request_id:
            body["request_id"] = request_id
        return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)
    if path.startswith("/badge/"):
        from public_site.badges import error_badge

        return error_badge(status, {429: "稍后再试", 404: "未找到"}.get(status, "出错"), headers)
    template = "error.html"
    for prefix, name in request.app.state.get("error_pages", {}).items():
        if path.startswith(prefix):
            template = name  # the admin's pages have their own frame
    return Template(
        template_name=template,
        context={"status": status, "message": message, "field": field, "request_id": request_id},
        status_code=status,
        headers=headers,
        media_type=MediaType.HTML,
    )


def bad_input(request: Request[Any, Any, Any], exc: BadInput) -> Response[Any]:
    return answer(request, exc.status, exc.message, exc.field)


def too_many(request: Request[Any, Any, Any], exc: TooMany) -> Response[Any]:
    return answer(request, 429, exc.message, None, {"Retry-After": str(exc.retry_after)})


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """The framework's own errors (unknown path, wrong method, its validation) in our shape."""
    status = exc.status_code
    if status >= 500:
        return server_error(request, exc)
    field = None
    message = MESSAGES.get(status, str(exc.detail))
    if "CSRF" in str(exc.detail):
        message, field = (
            "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重新提交",
            "_csrf_token",
        )
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list) and exc.extra:
        first = exc.extra[0]
        if isinstance(first, dict):
            field = first.get("key") or None
            message = f"{field or '请求'} 有误：{first.get('message', exc.detail)}"
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"}
    return answer(request, status, message, field, headers)


def server_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    request_id = request_id_of(request.scope)
    log.error(
        "unhandled error on %s %s [request %s]",
        request.method,
        request.url.path,
        request_id,
        exc_info=exc,
    )
    return answer(
        request, 500, f"服务器内部错误，请稍后再试（请求编号 {request_id}）", None,
        request_id=request_id,
    )  # fmt: skip


EXCEPTION_HANDLERS: dict[Any, Any] = {
    BadInput: bad_input,
    TooMany: too_many,
    HTTPException: http_error,
    Exception: server_error,
}
