"""The two hottest answers, one practitioner's status (JSON) and the badge (SVG), served
straight from ASGI, before the framework's routing, middleware, parameter parsing and
response objects, which cost more than the answer itself (README "Speed": registration
pages ask for one of these for every doctor they show).

Only the plain successful request takes this path: ``GET``, no ``Origin`` header (CORS
stays the framework's), headers within their limits, a well-formed code, and for the status
no query or exactly ``on=YYYY-MM-DD``. The answer is made by the same functions the routes
use (``status_body``, ``badge_answer``, the rate limits, the security headers), so it is
the route's answer, byte for byte (a test holds them equal). Everything else (``HEAD``,
every error, refusal and 404) goes on to the route, which answers it the one documented
way; the rate-limit unit counted here is handed over, never counted twice.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, cast

from litestar.types import Scope, Send

from portal.clock import china_today
from portal.identifiers import is_national_code
from public_site.badges import BADGE_MEDIA, badge_answer
from public_site.common import SHORT, client_address
from public_site.limits import FAST_FAILED, GROUPS_OF, TAKEN, Limits
from public_site.security import finish_headers, headers_too_large, request_id_of
from public_site.status_api import status_body

_STATUS = re.compile(r"/api/v1/practitioners/([A-Za-z0-9]{1,32})/status", re.ASCII)
_BADGE = re.compile(r"/badge/([A-Za-z0-9]{1,32})\.svg", re.ASCII)
_ON = re.compile(rb"on=([0-9]{4}-[0-9]{2}-[0-9]{2})", re.ASCII)
_STATUS_CACHE = SHORT.to_header().encode("latin-1")
_JSON = b"application/json"


async def answer(state: Any, scope: dict[str, Any], send: Send) -> bool:
    """Answer ``scope`` here when it is a plain status or badge request; False (nothing
    sent) when the route must answer it."""
    path = scope["path"]
    if path.startswith("/api/v1/practitioners/"):
        found = _STATUS.fullmatch(path)
        group = "api"
    elif path.startswith("/badge/"):
        found = _BADGE.fullmatch(path)
        group = "badges"
    else:
        return False
    if found is None or scope["method"] != "GET":
        return False
    code = found.group(1).upper()
    headers = scope["headers"]
    if not is_national_code(code) or headers_too_large(headers):
        return False  # the route answers (400, 431)
    forwarded: list[str] = []
    if_none_match: str | None = None  # the first one, as the route reads it
    for name, value in headers:
        if name == b"origin":
            return False
        if name == b"x-forwarded-for":
            forwarded.append(value.decode("latin-1"))
        elif name == b"if-none-match" and if_none_match is None:
            if_none_match = value.decode("latin-1")
    day: date | None = None
    if group == "api":
        query = scope["query_string"]
        if query:
            on = _ON.fullmatch(query)
            if on is None:
                return False
            try:
                day = date.fromisoformat(on.group(1).decode())
            except ValueError:
                return False
    limits: Limits = state.limiters
    peer = scope.get("client")
    client = str(peer[0]) if peer else "unknown"
    if state.settings.trusted_proxies:
        client = client_address(client, forwarded, state.settings)
    refused = await limits.take_async(GROUPS_OF.get(group, (group,)), client, 1)
    scope.setdefault("state", {})[TAKEN] = (group, refused)  # for the route, if it answers
    if refused is not None:
        return False
    try:
        if group == "api":
            body = status_body(state, code, day or china_today())
            if body is None:
                return False
            out = [(b"cache-control", _STATUS_CACHE), (b"content-type", _JSON)]
            status = 200
        else:
            made = badge_answer(state, code, if_none_match or "")
            if made is None:
                return False
            status, extra, body = made
            out = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]
            if status == 200:
                out.append((b"content-type", BADGE_MEDIA.encode("latin-1")))
    except Exception as exc:  # the route answers (and logs) it its way, without reading again
        scope["state"][FAST_FAILED] = exc
        return False
    if status == 200:
        out.append((b"content-length", str(len(body)).encode("latin-1")))
    start: Any = {
        "type": "http.response.start",
        "status": status,
        "headers": finish_headers(out, path, request_id_of(cast(Scope, scope)), status),
    }
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})
    return True
