"""Public routes: pages for patients, a JSON API, badges, embeds and feeds.

Paths and shapes are a contract (spec/DESIGN.md "Public contracts"). Nothing here shows an
ID number, phone number or birth date (RULES §9). Every route sets Cache-Control on
purpose; search and the API are rate-limited so the site cannot be scraped for a list.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import time
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from litestar import MediaType, Request, Response, get, post
from litestar.datastructures import CacheControlHeader
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Template
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, OperationalError

from portal.clock import china_today
from portal.identifiers import is_national_code
from portal.models import Registration, table
from portal.services import public
from portal.services.public import Filters
from portal.services.registry import STATUS_ZH
from portal.settings import rate_limits
from public_site.ratelimit import throttled
from scoring.rulesets import PractitionerRuleset, all_rulesets
from scoring.workdays import default_calendar

T = TypeVar("T")
PRACTICE_ZH = {"doctor": "医师", "nurse": "护士", "pharmacist": "药师", "technician": "技师"}
KIND_ZH = {"practitioner": "医保支付资格管理", "credit": "医疗保障信用管理"}
PAGES = CacheControlHeader(public=True, max_age=60)
SHORT = CacheControlHeader(public=True, max_age=30)
FEEDS = CacheControlHeader(public=True, max_age=300)
NO_STORE = CacheControlHeader(no_store=True)
SEARCHES_PER_MINUTE, API_PER_SECOND = rate_limits()


def _too_many(request: Request[Any, Any, Any], search: bool = False) -> Response[Any] | None:
    """Search and the API are rate-limited per client so names cannot be harvested."""
    client = request.client.host if request.client else "unknown"
    if search:
        if throttled(request.app.state, client, "search_limiter", SEARCHES_PER_MINUTE, 60):
            return _error(429, "q", "查询过于频繁，请稍后再试")
    elif throttled(request.app.state, client, "api_limiter", API_PER_SECOND, 1):
        return _error(429, "rate", "请求过于频繁，请降低频率")
    return None


REGIONS = [
    ("4301", "长沙市"),
    ("4302", "株洲市"),
    ("4303", "湘潭市"),
    ("4304", "衡阳市"),
    ("4305", "邵阳市"),
    ("4306", "岳阳市"),
    ("4307", "常德市"),
    ("4308", "张家界市"),
    ("4309", "益阳市"),
    ("4310", "郴州市"),
    ("4311", "永州市"),
    ("4312", "怀化市"),
    ("4313", "娄底市"),
    ("4331", "湘西州"),
]
RULES_REF = "湘医保发〔2025〕4号第九条"


class MicroCache:
    """Answers kept for a few seconds in each process: as fresh as the Cache-Control the
    same answers carry (max-age), so a burst of look-ups for one doctor costs one query."""

    def __init__(self, seconds: float, size: int = 200_000) -> None:
        self.seconds, self.size = seconds, size
        self.items: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any) -> Any:
        hit = self.items.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: Any, value: Any) -> None:
        if len(self.items) >= self.size:
            self.items.clear()
        self.items[key] = (time.monotonic() + self.seconds, value)


def _cache(request: Request[Any, Any, Any], name: str, seconds: float) -> MicroCache:
    """One cache per app (and so per database), made on first use."""
    state = request.app.state
    if name not in state:
        state[name] = MicroCache(seconds)
    cache: MicroCache = state[name]
    return cache


def _on_loop_connection(request: Request[Any, Any, Any], read: Callable[[Any], T]) -> T:
    """Run a one-statement read on the event loop's own connection.

    The badge and status handlers run on the loop thread; keeping one autocommit connection
    there saves a pool check-out and check-in per look-up (a good part of a cold look-up's
    cost). A broken connection is replaced once and the read tried again."""
    state = request.app.state
    for attempt in (1, 2):
        conn = state.get("loop_connection")
        if conn is None or conn.closed or conn.invalidated:
            conn = state["loop_connection"] = state.reader.connect()
        try:
            return read(conn)
        except DBAPIError:
            conn.invalidate()
            state["loop_connection"] = None
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _engine(request: Request[Any, Any, Any]) -> Any:
    """Public routes only read: the autocommit reader (no transaction round trips)."""
    return request.app.state.reader


def _error(status: int, field: str, message: str) -> Response[dict[str, str]]:
    return Response(
        {"error": message, "field": field},
        status_code=status,
        media_type=MediaType.JSON,
        headers={"Cache-Control": "no-store"},
    )


def _day(text: str | None, field: str) -> date | Response[dict[str, str]]:
    if not text:
        return china_today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        return _error(400, field, f"{field} 应为日期 YYYY-MM-DD，收到 {text!r}")


# --- pages -------------------------------------------------------------------------


def _ruleset_rows() -> list[dict[str, Any]]:
    rows = []
    for ruleset in all_rulesets().values():
        counts = (
            (len(ruleset.situations), len(ruleset.routes))
            if isinstance(ruleset, PractitionerRuleset)
            else (None, None)
        )
        rows.append(
            {
                "id": ruleset.id,
                "name": ruleset.name,
                "kind": KIND_ZH[ruleset.kind],
                "effective_from": ruleset.effective_from.isoformat(),
                "effective_to": ruleset.effective_to.isoformat() if ruleset.effective_to else None,
                "situations": counts[0],
                "routes": counts[1],
            }
        )
    return rows


@get("/", cache_control=PAGES, sync_to_thread=True, include_in_schema=False)
def home(request: Request[Any, Any, Any], q: FromQuery[str] = "") -> Template:
    if q.strip() and _too_many(request, search=True) is not None:
        return Template(
            template_name="home.html",
            context={"q": q, "people": [], "limit": 20, "throttled": True},
            status_code=429,
        )
    people = _search(request, q)
    return Template(template_name="home.html", context={"q": q, "people": people, "limit": 20})


def _search(request: Request[Any, Any, Any], q: str) -> list[public.PublicPerson]:
    if not q.strip():
        return []
    with _engine(request).connect() as conn:
        return public.search(conn, q[:40], china_today())


@get(
    "/search",
    cache_control=NO_STORE,
    sync_to_thread=False,  # ~1.5 ms of work: cheaper on the loop than a thread hop
    include_in_schema=False,
    media_type=MediaType.HTML,
)
def search(request: Request[Any, Any, Any], q: FromQuery[str] = "") -> Any:
    """The live-results fragment for htmx (the home page renders the same template)."""
    if (refused := _too_many(request, search=True)) is not None:
        return refused
    people = _search(request, q)
    return Template(template_name="_results.html", context={"q": q, "people": people, "limit": 20})


@get("/practitioners/{code:str}", cache_control=PAGES, sync_to_thread=True, include_in_schema=False)
def practitioner_page(request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
    with _engine(request).connect() as conn:
        person = public.person(conn, code, china_today())
    if person is None:
        return Template(template_name="not_found.html", context={"code": code}, status_code=404)
    return Template(
        template_name="practitioner.html",
        context={"p": person, "practice_zh": PRACTICE_ZH, "rules_ref": RULES_REF},
    )


def _filters(region: str, institution: str, status: str) -> Filters | Response[dict[str, str]]:
    if status and status not in ("suspended", "terminated"):
        return _error(400, "status", "status 应为 suspended 或 terminated")
    if region and not (region.isdigit() and len(region) in (2, 4, 6)):
        return _error(400, "region", "region 应为 2、4 或 6 位行政区划代码")
    return Filters(region=region, institution=institution.strip(), status=status)


@get(
    "/disclosures",
    cache_control=PAGES,
    sync_to_thread=True,
    include_in_schema=False,
    media_type=MediaType.HTML,
)
def disclosures_page(
    request: Request[Any, Any, Any],
    region: FromQuery[str] = "",
    institution: FromQuery[str] = "",
    status: FromQuery[str] = "",
    page: FromQuery[int] = 1,
    format: FromQuery[str] = "html",
) -> Any:
    filters = _filters(region, institution, status)
    if isinstance(filters, Response):
        return filters
    page = max(1, page)
    today = china_today()
    per_page = 50 if format == "html" else 5000
    with _engine(request).connect() as conn:
        rows, total = public.disclosures(conn, filters, today, page, per_page)
    query = {"region": region, "institution": institution, "status": status}
    if format == "csv":
        return _csv(
            rows,
            [
                "national_code",
                "name",
                "institution_code",
                "institution",
                "region",
                "status",
                "period_start",
                "period_end",
                "reregister_from",
                "restoration_pending",
            ],
            "disclosures.csv",
        )
    pages = max(1, math.ceil(total / per_page))

    def url(n: int) -> str:
        return "/disclosures?" + urlencode({**query, "page": n})

    return Template(
        template_name="disclosures.html",
        context={
            "rows": rows,
            "total": total,
            "page": page,
            "pages": pages,
            "f": filters,
            "regions": REGIONS,
            "prev_url": url(page - 1) if page > 1 else None,
            "next_url": url(page + 1) if page < pages else None,
            "csv_url": "/disclosures?" + urlencode({**query, "format": "csv"}),
        },
    )


@get("/blacklist", cache_control=PAGES, sync_to_thread=True, include_in_schema=False)
def blacklist_page(request: Request[Any, Any, Any]) -> Template:
    with _engine(request).connect() as conn:
        rows = public.blacklist(conn, china_today(), limit=500)
    return Template(template_name="blacklist.html", context={"rows": rows})


@get("/credit/a-grade", cache_control=PAGES, sync_to_thread=False, include_in_schema=False)
def a_grade() -> Template:
    return Template(template_name="a_grade.html")


@get("/about", cache_control=PAGES, sync_to_thread=True, include_in_schema=False)
def about(request: Request[Any, Any, Any]) -> Template:
    """The rulesets the engine has loaded and the registry's size."""
    registrations = table(Registration)
    counts: dict[str, int] = {}
    try:
        with _engine(request).connect() as conn:
            query = (
                select(registrations.c.status, func.count())
                .where(registrations.c.deregistered_on.is_(None))
                .group_by(registrations.c.status)
            )
            counts = {s: int(n) for s, n in conn.execute(query)}
    except OperationalError:
        pass
    return Template(
        template_name="about.html",
        context={
            "rulesets": _ruleset_rows(),
            "default_ruleset": request.app.state.settings.ruleset,
            "counts": counts,
            "total": sum(counts.values()),
        },
    )


@get("/healthz", cache_control=NO_STORE, sync_to_thread=False, include_in_schema=False)
def healthz(request: Request[Any, Any, Any]) -> dict[str, Any]:
    calendar = default_calendar()
    return {
        "status": "ok",
        "default_ruleset": request.app.state.settings.ruleset,
        "rulesets": sorted(all_rulesets()),
        "calendar_years": [min(calendar.known_years), max(calendar.known_years)],
        "server_date": china_today().isoformat(),
    }


# --- JSON API ------------------------------------------------------------------------


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
    if (refused := _too_many(request)) is not None:
        return refused
    day = _day(on, "on")
    if isinstance(day, Response):
        return day
    if not is_national_code(code.strip().upper()):
        return _error(400, "code", "医保相关人员代码格式不正确")
    key = (code.strip().upper(), day)
    cache = _cache(request, "status_cache", 30)
    body = cache.get(key)
    if body is None:
        answer = _on_loop_connection(request, lambda conn: public.fast_status(conn, code, day))
        if answer is None:
            return _error(404, "code", f"未找到医保相关人员代码 {code}")
        body = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        cache.put(key, body)
    return Response(body, media_type=MediaType.JSON)


@post(
    "/api/v1/status:batch",
    status_code=200,
    cache_control=NO_STORE,
    sync_to_thread=True,
    tags=["status"],
)
def status_batch(request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]]) -> Any:
    """Up to 1,000 codes in, one status each out (``found: false`` for unknown codes)."""
    if (refused := _too_many(request)) is not None:
        return refused
    codes = data.get("codes")
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        return _error(400, "codes", "codes 应为医保相关人员代码的列表")
    if not 1 <= len(codes) <= 1000:
        return _error(400, "codes", "每次最多查询 1000 个代码，至少 1 个")
    day = _day(data.get("on"), "on")
    if isinstance(day, Response):
        return day
    results = []
    with _engine(request).connect() as conn:
        for code in codes:
            person = public.person(conn, code, day) if is_national_code(code.upper()) else None
            results.append(
                person.api() | {"found": True} if person else {"code": code, "found": False}
            )
    return {"as_of": day.isoformat(), "results": results}


@get(
    "/api/v1/disclosures",
    cache_control=PAGES,
    sync_to_thread=True,
    tags=["disclosures"],
)
def disclosures_api(
    request: Request[Any, Any, Any],
    region: FromQuery[str] = "",
    institution: FromQuery[str] = "",
    status: FromQuery[str] = "",
    page: FromQuery[int] = 1,
    per_page: FromQuery[int] = 50,
) -> Any:
    """The JSON form of /disclosures: same filters, paginated (per_page up to 500)."""
    if (refused := _too_many(request)) is not None:
        return refused
    filters = _filters(region, institution, status)
    if isinstance(filters, Response):
        return filters
    if not 1 <= per_page <= 500:
        return _error(400, "per_page", "per_page 应在 1 至 500 之间")
    with _engine(request).connect() as conn:
        rows, total = public.disclosures(conn, filters, china_today(), max(1, page), per_page)
    return {
        "items": [_jsonable(r) for r in rows],
        "total": total,
        "page": page,
        "per_page": per_page,
    }


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()}


def _csv(rows: list[dict[str, Any]], columns: list[str], filename: str) -> Response[bytes]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_jsonable(row).get(c, "") for c in columns])
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "public, max-age=300",
        },
    )


# --- badges and embeds ---------------------------------------------------------------

BADGE_COLOURS = {
    "normal": "#1b6b2f",
    "suspended": "#8a5a00",
    "terminated": "#a4161a",
    "cancelled": "#a4161a",
}
BADGE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="22" role="img" '
    'aria-label="医保支付资格：{word}"><title>{name} 医保支付资格：{word}（{day}）</title>'
    '<rect width="44" height="22" fill="#444" shape-rendering="crispEdges"/>'
    '<rect x="44" width="52" height="22" fill="{colour}" shape-rendering="crispEdges"/>'
    '<g fill="#fff" font-family="Noto Sans CJK SC,PingFang SC,Microsoft YaHei,SimHei,sans-serif" '
    'font-size="13" text-anchor="middle" text-rendering="geometricPrecision">'
    '<text x="22" y="15.5">医保</text><text x="70" y="15.5">{word}</text></g></svg>'
)


@get("/badge/{name:str}", sync_to_thread=False, include_in_schema=False)
def badge(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[Any]:
    """An SVG badge (正常 / 暂停 / 终止 / 取消); ETag and a short max-age, 304 when unchanged."""
    code = name.removesuffix(".svg").upper()
    if not name.endswith(".svg") or not is_national_code(code):
        return _error(404, "code", "徽标地址应为 /badge/医保相关人员代码.svg")
    day = china_today()
    cache = _cache(request, "badge_cache", 60)
    cached = cache.get((code, day))
    if cached is None:
        found = _on_loop_connection(request, lambda conn: public.fast_badge(conn, code, day))
        if found is None:
            return _error(404, "code", f"未找到医保相关人员代码 {code}")
        name, status = found
        word = STATUS_ZH[status.status]
        tag = hashlib.sha1(f"{code}|{word}|{name}|{day}".encode()).hexdigest()[:20]
        svg = BADGE.format(
            word=word, name=escape(name), day=day, colour=BADGE_COLOURS[status.status]
        )
        cached = (f'"{tag}"', svg.encode("utf-8"))
        cache.put((code, day), cached)
    etag, svg_bytes = cached
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=60",
        "Access-Control-Allow-Origin": "*",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(b"", status_code=304, headers=headers)
    return Response(svg_bytes, media_type="image/svg+xml", headers=headers)


@get("/embed/{code:str}", cache_control=PAGES, sync_to_thread=False, include_in_schema=False)
def embed(request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
    """A small card for an iframe on a hospital's registration page."""
    with _engine(request).connect() as conn:
        person = public.person(conn, code, china_today())
    if person is None:
        return Template(template_name="not_found.html", context={"code": code}, status_code=404)
    s = person.status
    detail = {
        "normal": "可正常使用医保结算",
        "suspended": f"暂停至 {s.period_end}，仅可自费"
        if not s.restoration_pending
        else f"暂停期已满（{s.period_end}），恢复待审核，仅可自费",
        "terminated": f"自 {s.period_start} 起终止，仅可自费",
        "cancelled": "医保支付资格已取消，仅可自费",
    }[s.status]
    base = str(request.base_url).rstrip("/")
    return Template(
        template_name="embed.html",
        context={"p": person, "words": STATUS_ZH[s.status], "detail": detail, "base": base},
        headers={"Content-Security-Policy": "frame-ancestors *"},
    )


EMBED_JS = """(function () {
  var script = document.currentScript;
  var origin = new URL(script.src).origin;
  function mount(el) {
    var code = el.getAttribute("data-yibao-code");
    if (!code || el.querySelector("iframe")) return;
    var frame = document.createElement("iframe");
    frame.src = origin + "/embed/" + encodeURIComponent(code);
    frame.title = "医保支付资格";
    frame.style.cssText = "border:0;width:100%;max-width:360px;height:96px";
    frame.loading = "lazy";
    el.appendChild(frame);
  }
  document.querySelectorAll("[data-yibao-code]").forEach(mount);
})();
"""


@get("/embed.js", sync_to_thread=False, include_in_schema=False)
def embed_js() -> Response[str]:
    """One tag on a registration page: <script src=".../embed.js" defer></script> and
    <div data-yibao-code="D43…"></div> where the card should appear."""
    return Response(
        EMBED_JS,
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )


# --- feeds ---------------------------------------------------------------------------


def _atom(title: str, feed_id: str, items: list[dict[str, Any]], base: str) -> Response[str]:
    entries = []
    for item in items:
        summary = (
            f"{item['name']}（{item['national_code']}）"
            f"{STATUS_ZH[item.get('status', 'terminated')]}"
            f"，自 {item['period_start']}；{item['document_no']}；{item['institution']}"
        )
        entries.append(
            f"<entry><id>urn:yibao:{feed_id}:{item['id']}</id>"
            f"<title>{escape(summary)}</title><updated>{item['issued_on']}T00:00:00+08:00</updated>"
            f'<link href="{base}/practitioners/{item["national_code"]}"/>'
            f"<summary>{escape(summary)}</summary></entry>"
        )
    updated = items[-1]["issued_on"] if items else china_today()
    body = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>urn:yibao:{feed_id}</id><title>{escape(title)}</title>"
        f"<updated>{updated}T00:00:00+08:00</updated>{''.join(entries)}</feed>"
    )
    return Response(
        body,
        media_type="application/atom+xml; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


def _feed_json(items: list[dict[str, Any]], since: int) -> dict[str, Any]:
    return {
        "items": [_jsonable(i) for i in items],
        "since": since,
        "next_since": items[-1]["id"] if items else since,
        "generated": china_today().isoformat(),
    }


@get("/feeds/{name:str}", sync_to_thread=True, include_in_schema=False)
def feeds(request: Request[Any, Any, Any], name: FromPath[str], since: FromQuery[int] = 0) -> Any:
    """blacklist.json / .csv / .atom and disclosures.json / .atom, with a ``since`` cursor:
    pass the last ``next_since`` to get only what is new."""
    if since < 0:
        return _error(400, "since", "since 应为非负整数")
    base = str(request.base_url).rstrip("/")
    with _engine(request).connect() as conn:
        if name.startswith("blacklist."):
            items = public.blacklist(conn, china_today(), since=since)
        elif name.startswith("disclosures."):
            items = public.status_changes(conn, since=since)
        else:
            return _error(404, "name", "没有该订阅源")
    kind, _, fmt = name.partition(".")
    if fmt == "json":
        return Response(_feed_json(items, since), headers={"Cache-Control": "public, max-age=300"})
    if fmt == "atom":
        title = "失信联合惩戒对象名单" if kind == "blacklist" else "暂停、终止医保支付资格公示"
        return _atom(title, kind, items, base)
    if fmt == "csv" and kind == "blacklist":
        return _csv(
            items,
            [
                "id",
                "national_code",
                "name",
                "institution",
                "document_no",
                "period_start",
                "reregister_from",
                "issued_on",
            ],
            "blacklist.csv",
        )
    return _error(404, "name", "没有该订阅源格式")


ROUTES = [
    home,
    search,
    practitioner_page,
    disclosures_page,
    blacklist_page,
    a_grade,
    about,
    healthz,
    status_api,
    status_batch,
    disclosures_api,
    badge,
    embed,
    embed_js,
    feeds,
]
