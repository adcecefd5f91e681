"""Signed check receipts (spec/DESIGN.md "Receipts"): ``POST /api/v1/receipts`` signs what
the status API answers, ``GET /receipts/{id}`` prints it with a QR code linking to itself,
``GET /.well-known/jwks.json`` publishes the keys that verify it offline.

Issuing writes a row, so it has its own limit (``receipts``, a handful a minute per client:
a platform asks for one when it turns a patient away or a claim is disputed, not for every
look-up). The body is at most 4 KB: ``{"code", "on"?, "purpose"?}`` (purpose ≤ 200
characters, no control characters). No ID number, phone or birth date is in a receipt.
"""

from __future__ import annotations

import re
from typing import Any

import anyio
import segno
from litestar import MediaType, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from portal.clock import china_today
from portal.identifiers import is_national_code
from portal.services import receipts
from portal.services.registry import STATUS_ZH
from public_site.common import (
    NO_STORE,
    PAGES,
    BadInput,
    base_url,
    json_object,
    parse_date,
    parse_text,
    reader,
    require_json,
)
from public_site.limits import limit

MAX_BODY = 4 * 1024
_ID = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16)


def _request(raw: bytes) -> tuple[str, Any, str]:
    data = json_object(raw, MAX_BODY, ("code", "on", "purpose"), '{"code": "D43010200001"}')
    code, on, purpose = data.get("code"), data.get("on"), data.get("purpose")
    if not isinstance(code, str):
        raise BadInput("code", "code 应为医保相关人员代码（字符串）")
    if "on" in data and not isinstance(on, str):
        raise BadInput("on", "on 应为日期字符串 YYYY-MM-DD")
    if "purpose" in data and not isinstance(purpose, str):
        raise BadInput("purpose", "purpose 应为字符串")
    return code, on, parse_text(purpose, "purpose", receipts.PURPOSE_LONGEST)


@post("/api/v1/receipts", status_code=201, cache_control=NO_STORE, tags=["receipts"])
async def issue_receipt(request: Request[Any, Any, Any]) -> Any:
    """Sign the status answer for ``code`` on ``on`` (default today): ``201 {"id", "jws",
    "url"}``; 404 for an unknown code, 400 naming the field for bad input."""
    limit(request, "receipts")  # first: a refused request counts too
    require_json(request)
    code, on, purpose = _request(await request.body())
    wanted = code.strip().upper()
    if not is_national_code(wanted):
        raise BadInput("code", "医保相关人员代码格式不正确")
    day = parse_date(on, "on")
    engine, secret, site = (
        request.app.state.engine,
        request.app.state.settings.secret,
        base_url(request),
    )

    def write() -> receipts.Issued | None:
        with engine.begin() as conn:
            return receipts.issue(conn, secret, code=wanted, on=day, purpose=purpose, iss=site)

    issued = await anyio.to_thread.run_sync(write)
    if issued is None:
        raise BadInput("code", f"未找到医保相关人员代码 {wanted}", status=404)
    url = f"{site}/receipts/{issued.id}"
    return Response(
        {"id": issued.id, "jws": issued.jws, "url": url},
        status_code=201,
        headers={"Location": url},
    )


@get(
    "/receipts/{receipt_id:str}", cache_control=PAGES, sync_to_thread=True, include_in_schema=False
)
def receipt_page(request: Request[Any, Any, Any], receipt_id: FromPath[str]) -> Template:
    """The receipt as a printable page: what was answered, when, from which data, the QR
    code linking here, and — if a later correction changed the answer — that it did."""
    limit(request, "pages")
    shown = None
    if _ID.fullmatch(receipt_id):
        with reader(request).connect() as conn:
            shown = receipts.show(conn, receipt_id)
    if shown is None:
        raise BadInput(None, "未找到该查询凭证：请核对网址或二维码", status=404)
    url = f"{base_url(request)}/receipts/{shown.id}"
    qr = segno.make_qr(url, error="m").svg_inline(scale=4, title="本凭证的网址")
    return Template(
        template_name="receipt.html",
        context={
            "r": shown,
            "p": shown.payload,
            "url": url,
            "qr": qr,
            "status_zh": STATUS_ZH,
            "today": china_today(),
        },
    )


@get("/.well-known/jwks.json", sync_to_thread=True, include_in_schema=False)
def jwks(request: Request[Any, Any, Any]) -> Response[Any]:
    """The keys that sign receipts, current and retired, with their validity (RFC 7517)."""
    limit(request, "api")
    with reader(request).connect() as conn:
        keys = receipts.jwks(conn)
    return Response(
        keys,
        media_type=MediaType.JSON,
        headers={"Cache-Control": "public, max-age=300"},
    )


ROUTES = [issue_receipt, receipt_page, jwks]
