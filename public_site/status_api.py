"""The JSON API: a practitioner's status (one, or a batch) and the disclosures.

Registration platforms call these before a patient books; claim auditors ask about a
service date. Errors are ``{"error", "field"}`` (public_site.errors); limits per client
(the batch weighs ⌈n / 100⌉, spec/DESIGN.md "Batch").
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import anyio
import msgspec
from litestar import MediaType, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from portal.clock import china_today
from portal.identifiers import is_national_code
from portal.services import public
from portal.services.lookup import StatusUnknown
from public_site.common import (
    NO_STORE,
    PAGES,
    SHORT,
    BadInput,
    cache_in,
    check_page,
    fresh,
    freshness_in,
    json_object,
    jsonable,
    loop_read,
    parse_date,
    parse_int,
    parse_page,
    reader,
    require_json,
)
from public_site.limits import FAST_FAILED, limit
from public_site.openapi import document as openapi_document
from public_site.pages import read_filters

MAX_BATCH = 1000
UNKNOWN: dict[str, Any] = {"status": None}  # a person whose status cannot be read now
MAX_BODY = 64 * 1024  # 1,000 codes of 16 characters and the JSON around them fit easily


@get(
    "/api/v1/practitioners/{code:str}/status",
    cache_control=SHORT,
    sync_to_thread=False,
    tags=["status"],
)
def status_api(
    request: Request[Any, Any, Any], code: FromPath[str], on: FromQuery[str | None] = None
) -> Any:
    """The status in force on a date (default: today in China), for registration platforms
    and claim checks. ``payable`` / ``emergency_payable`` answer RULES §5.5."""
    limit(request, "api")
    day = parse_date(on, "on")
    wanted = code.strip().upper()
    if not is_national_code(wanted):
        raise BadInput("code", "医保相关人员代码格式不正确")
    failed = request.scope.get("state", {}).pop(FAST_FAILED, None)
    if failed is not None:  # the fast path's read failed: not tried a second time
        raise failed
    body = status_body(request.app.state, wanted, day)
    if body is None:
        raise BadInput("code", f"未找到医保相关人员代码 {wanted}", status=404)
    return Response(body, media_type=MediaType.JSON)


def status_body(state: Any, code: str, day: date) -> bytes | None:
    """The status answer of a well-formed code as JSON bytes, kept for its max-age; None
    when no one has the code. Shared by the route and its fast path (public_site.fast)."""
    cache = cache_in(state, "status_cache", 30)
    body: bytes | None = cache.get((code, day))
    if body is None:
        answer = loop_read(state, lambda conn: public.fast_status(conn, code, day))
        if answer is None:
            return None
        body = msgspec.json.encode({**answer, **freshness_in(state)})
        cache.put((code, day), body)
    return body


def _batch_request(raw: bytes) -> tuple[list[str], Any]:
    """The body of a batch: UTF-8 JSON ``{"codes": [...], "on"?: "YYYY-MM-DD"}``."""
    data = json_object(raw, MAX_BODY, ("codes", "on"), '{"codes": [...]}')
    codes = data.get("codes")
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise BadInput("codes", "codes 应为医保相关人员代码（字符串）的列表")
    if not 1 <= len(codes) <= MAX_BATCH:
        raise BadInput("codes", f"每次最多查询 {MAX_BATCH} 个代码，至少 1 个")
    on = data.get("on")
    if "on" in data and not isinstance(on, str):
        raise BadInput("on", "on 应为日期字符串 YYYY-MM-DD")
    return codes, on


@post(
    "/api/v1/status:batch",
    status_code=200,
    cache_control=NO_STORE,
    tags=["status"],
)
async def status_batch(request: Request[Any, Any, Any]) -> Any:
    """Up to 1,000 codes in, one answer each out, in the order sent (``found: false`` for
    unknown codes, ``invalid: true`` for malformed ones). Request body:
    ``{"codes": ["D43010200001", ...], "on": "YYYY-MM-DD"}`` (``on`` optional)."""
    limit(request, "api")  # first: a refused request counts too
    require_json(request)
    codes, on = _batch_request(await request.body())
    if len(codes) > 100:
        limit(request, "api", math.ceil(len(codes) / 100) - 1)
    day = parse_date(on, "on")
    wanted = {c.strip().upper() for c in codes if is_national_code(c.strip().upper())}
    engine = reader(request)

    def look_up() -> dict[str, dict[str, Any] | None]:
        answers: dict[str, dict[str, Any] | None] = {}
        with engine.connect() as conn:  # each code once, however often it was sent
            for code in sorted(wanted):
                try:
                    answers[code] = public.fast_status(conn, code, day)
                except StatusUnknown:  # one person's damaged history (logged): that one only
                    answers[code] = UNKNOWN
        return answers

    # Off the event loop, and at most two batches at a time per process, so that a burst
    # of large batches cannot hold up the doctor pages and badges others are asking for.
    found = await anyio.to_thread.run_sync(look_up, limiter=request.app.state.batch_threads)
    vouched = fresh(request)
    results = []
    for code in codes:
        key = code.strip().upper()
        answer = found.get(key)
        if answer is UNKNOWN:
            results.append({"code": code, "found": True, "invalid": False, "status": None,
                            "error": "该人员状态暂时无法查询，请稍后再试"})  # fmt: skip
        elif answer is not None:
            results.append({**answer, **vouched, "code": code, "found": True, "invalid": False})
        else:
            results.append({"code": code, "found": False, "invalid": key not in wanted})
    return {"as_of": day.isoformat(), "results": results}


@get("/api/v1/disclosures", cache_control=PAGES, sync_to_thread=True, tags=["disclosures"])
def disclosures_api(
    request: Request[Any, Any, Any],
    region: FromQuery[str | None] = None,
    institution: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
    per_page: FromQuery[str | None] = None,
    decided_from: FromQuery[str | None] = None,
    decided_to: FromQuery[str | None] = None,
    sort: FromQuery[str | None] = None,
) -> Any:
    """The JSON form of /disclosures: same filters, paginated (``page`` 1-1,000,000,
    ``per_page`` 1-500, default 50; a page past the last is 404)."""
    limit(request, "api")
    filters = read_filters(region, institution, status, decided_from, decided_to, sort)
    number = parse_page(page)
    size = parse_int(per_page, "per_page", 50, 1, 500)
    with reader(request).connect() as conn:
        rows, total = public.disclosures(conn, filters, china_today(), number, size)
    check_page(number, total, size)
    return {
        "items": [jsonable(r) for r in rows],
        "total": total,
        "page": number,
        "per_page": size,
    }


@get("/api/v1/openapi.json", sync_to_thread=False, include_in_schema=False)
def openapi(request: Request[Any, Any, Any]) -> Response[Any]:
    """The OpenAPI document of the JSON API (cacheable: it changes with a release)."""
    limit(request, "api")
    return Response(
        openapi_document(),
        media_type="application/vnd.oai.openapi+json",
        headers={"Cache-Control": "public, max-age=300"},
    )


ROUTES = [status_api, status_batch, disclosures_api, openapi]
