"""What every public route shares: errors, parameters, the client, caches, CSV (the rate
limits are in public_site.limits).

Parameters are read as text and checked here, to their documented type and range
(spec/DESIGN.md, "Pinned details"), so that bad input is a 400 naming the field, never a
500 from a number too large for the database or a date in another notation.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import time
from collections.abc import Callable, Iterable
from datetime import date
from ipaddress import ip_address
from typing import Any, TypeVar

from litestar import Request
from litestar.datastructures import CacheControlHeader
from sqlalchemy.exc import DBAPIError

from portal.clock import china_today
from portal.settings import Settings

T = TypeVar("T")
PAGES = CacheControlHeader(public=True, max_age=60)
SHORT = CacheControlHeader(public=True, max_age=30)
FEEDS = CacheControlHeader(public=True, max_age=300)
NO_STORE = CacheControlHeader(no_store=True)
MAX_PAGE = 1_000_000
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII: \d takes other scripts' digits


class BadInput(ValueError):
    """A parameter outside its documented type or range: answered 400 naming the field."""

    def __init__(self, field: str | None, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.field, self.message, self.status = field, message, status


# --- parameters ---------------------------------------------------------------------------


def parse_date(text: str | None, field: str = "on") -> date:
    """``YYYY-MM-DD`` exactly (not 20250101, not 2025-W01-1, not empty); absent (None)
    means today in China."""
    if text is None:
        return china_today()
    if not isinstance(text, str) or not _ISO_DATE.fullmatch(text):
        raise BadInput(field, f"{field} 应为日期 YYYY-MM-DD，收到 {str(text)[:40]!r}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(field, f"{field} 不是有效日期：{text}") from None


def parse_int(text: str | None, field: str, default: int, low: int, high: int) -> int:
    """A whole number written in decimal digits, ``low`` ≤ n ≤ ``high`` (absent: default)."""
    if text is None:
        return default
    if not re.fullmatch(r"[0-9]{1,12}", text) or not low <= int(text) <= high:
        raise BadInput(field, f"{field} 应为 {low} 至 {high:,} 之间的整数，收到 {text[:40]!r}")
    return int(text)


def parse_page(text: str | None) -> int:
    return parse_int(text, "page", 1, 1, MAX_PAGE)


def check_page(page: int, total: int, per_page: int) -> int:
    """A page past the last is 404 (the first page always exists, even when empty)."""
    pages = max(1, math.ceil(total / per_page))
    if page > pages:
        raise BadInput("page", f"共 {pages} 页，没有第 {page} 页", status=404)
    return pages


def parse_choice(text: str | None, field: str, choices: Iterable[str]) -> str:
    options = tuple(choices)
    if text is None or text == "":
        return ""
    if text not in options:
        raise BadInput(field, f"{field} 应为 {' / '.join(options)} 之一")
    return text


def parse_region(text: str | None) -> str:
    if not text:
        return ""
    if not (text.isascii() and text.isdigit() and len(text) in (2, 4, 6)):
        raise BadInput("region", "region 应为 2、4 或 6 位行政区划代码")
    return text


def require_json(request: Request[Any, Any, Any]) -> None:
    """A JSON route's body: ``Content-Type: application/json``, not compressed (else 415)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise BadInput("content-type", "请求体应为 JSON（Content-Type: application/json）", 415)
    coding = request.headers.get("content-encoding", "identity").strip().lower()
    if coding not in ("", "identity"):
        raise BadInput("content-encoding", "请求体不应压缩（不支持 Content-Encoding）", 415)


def json_object(raw: bytes, most: int, fields: tuple[str, ...], example: str) -> dict[str, Any]:
    """A UTF-8 JSON object of at most ``most`` bytes with no fields but ``fields``."""
    if len(raw) > most:
        raise BadInput(None, f"请求体不能超过 {most // 1024} KB", status=413)
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadInput("body", "请求体应为 UTF-8 编码的 JSON") from None
    except (ValueError, RecursionError):
        raise BadInput("body", "请求体不是有效的 JSON") from None
    if not isinstance(data, dict):
        raise BadInput("body", f"请求体应为 JSON 对象 {example}")
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise BadInput(unknown[0], f"未知字段 {unknown[0]}；允许的字段：{'、'.join(fields)}")
    return data


def parse_text(text: str | None, field: str, limit: int) -> str:
    text = (text or "").strip()
    if len(text) > limit or any(ord(c) < 32 for c in text):
        raise BadInput(field, f"{field} 最多 {limit} 个字符，且不含控制字符")
    return text


# --- the client and the base URL -----------------------------------------------------------


def client_of(request: Request[Any, Any, Any]) -> str:
    """The client's address. ``X-Forwarded-For`` counts only when the peer is a configured
    proxy (PORTAL_TRUSTED_PROXIES); then the client is the rightmost address in it that is
    not a trusted proxy (spec/DESIGN.md, "Settings")."""
    peer = request.client.host if request.client else "unknown"
    settings: Settings = request.app.state.settings
    if not settings.trusted_proxies:
        return peer
    return client_address(peer, request.headers.getall("x-forwarded-for", []), settings)


def client_address(peer: str, forwarded_headers: list[str], settings: Settings) -> str:
    """``client_of`` from the peer's address and the ``X-Forwarded-For`` headers' values."""
    proxies = settings.trusted_proxies
    if not proxies or not _trusted(peer, settings):
        return peer
    forwarded = ",".join(forwarded_headers)
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        if not _trusted(hop, settings):
            try:
                return str(ip_address(hop))
            except ValueError:
                return peer  # garbage in the header: fall back to the proxy itself
    return peer


def _trusted(host: str, settings: Settings) -> bool:
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return any(address in net for net in settings.trusted_proxies)


def base_url(request: Request[Any, Any, Any]) -> str:
    """Absolute links come from PORTAL_BASE_URL, never from the request's Host header."""
    settings: Settings = request.app.state.settings
    return settings.base_url


# --- per-process answers and the loop's own connection ------------------------------------


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


def cache_in(state: Any, name: str, seconds: float) -> MicroCache:
    """The app's cache ``name`` (one per app, and so per database), made on first use."""
    cache: MicroCache | None = state.get(name)
    if cache is None:
        cache = state[name] = MicroCache(seconds)
    return cache


def fresh(request: Request[Any, Any, Any], conn: Any = None) -> dict[str, Any]:
    """``stale`` and ``data_as_of`` for every status answer (spec/DESIGN.md): read once every
    few seconds per process, so the hot paths pay nothing for it. Handlers on the event loop
    pass no ``conn`` (the loop's own connection is used); threaded ones pass theirs."""
    return freshness_in(request.app.state, conn)


def freshness_in(state: Any, conn: Any = None) -> dict[str, Any]:
    """``fresh`` from the app's state."""
    cache = cache_in(state, "freshness", 5)
    today = china_today()
    found = cache.get(today)
    if found is None:
        from portal.services.public import data_as_of, freshness

        as_of = data_as_of(conn) if conn is not None else loop_read(state, data_as_of)
        found = freshness(as_of, today)
        cache.put(today, found)
    return dict(found)


def loop_read(state: Any, read: Callable[[Any], T]) -> T:
    """Run a one-statement read on the event loop's own connection (``state``: the app's).

    The badge and status answers are made on the loop thread; keeping one autocommit
    connection there saves a pool check-out and check-in per look-up (a good part of a cold
    look-up's cost). A broken connection is replaced once and the read tried again."""
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


def reader(request: Request[Any, Any, Any]) -> Any:
    """Public routes only read: the autocommit reader (no transaction round trips)."""
    return request.app.state.reader


# --- CSV -----------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value: Any) -> str:
    """OWASP's rule against formula injection: a text cell that a spreadsheet would read
    as a formula (``=``, ``+``, ``-``, ``@``, tab or return first, also after spaces) is
    prefixed with a single quote. Dates and numbers are written as they are."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool | int | float):
        return str(value)
    text = str(value)
    if text.lstrip(" ").startswith(_FORMULA_START):
        return "'" + text
    return text


def csv_body(columns: list[str], rows: Iterable[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte-order mark (so that spreadsheet programs read Chinese right)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()}
