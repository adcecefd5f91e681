"""Feeds for the credit-sharing platform and registration platforms: JSON, CSV, Atom.

``since`` is 0 (from the start) or a cursor the feed returned, else 400; ``limit``
1-1,000 (default 100); ``next`` is the URL of the next page, null once caught up
(spec/DESIGN.md, "Feeds"). Absolute links come from PORTAL_BASE_URL.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from litestar import Request, Response, get
from litestar.params import FromPath, FromQuery
from litestar.serialization import encode_json

from portal.clock import china_today
from portal.services import disclosure_feed, public
from portal.services.registry import STATUS_ZH
from public_site.common import FEEDS, BadInput, base_url, csv_body, jsonable, parse_int, reader
from public_site.limits import limit

FEED_FORMATS = {"blacklist": ("json", "csv", "atom"), "disclosures": ("json", "csv", "atom")}
# The DESIGN feed item ("Feeds"), then the listing authority, the kind of subject and
# under_objection (true while an objection on the listing is open: marked 异议处理中,
# Hunan-Credit Art. 24; DESIGN allows extra fields).
BLACKLIST_COLUMNS = [
    "id",
    "type",
    "code",
    "name",
    "status",
    "published",
    "effective",
    "period_start",
    "period_end",
    "reregister_from",
    "document_no",
    "replaces",
    "subject_kind",
    "authority",
    "under_objection",
]
TYPE_ZH = {"listed": "列入名单", "repaired": "信用修复", "removed": "公示期满移出",
           "corrected": "更正", "withdrawn": "撤销"}  # fmt: skip


def _since(text: str | None, latest: int) -> int:
    """0 or a cursor this feed can have returned (an item id no later than the newest)."""
    if text is None or text == "0":  # absent or 0: from the start; "" is no cursor
        return 0
    if not (text.isascii() and text.isdigit()) or len(text) > 18 or int(text) > latest:
        raise BadInput("since", "since 应为 0 或订阅源返回的游标（next_since）")
    return int(text)


def _blacklist_entry(item: dict[str, Any], base: str) -> str:
    summary = (
        f"{item['name']}（{item['code']}）{TYPE_ZH.get(item['type'], item['type'])}"
        f"，生效 {item['effective']}；{item['document_no']}；{item['authority']}"
        + ("；异议处理中" if item.get("under_objection") else "")
    )
    link = f"{base}/blacklist"
    if item.get("subject_kind") == "practitioner":
        link = f"{base}/practitioners/{item['code']}"
    return (
        f"<entry><id>urn:yibao:blacklist:{item['id']}</id>"
        f"<title>{escape(summary)}</title><updated>{item['published']}T00:00:00+08:00</updated>"
        f'<link href="{escape(link)}"/><summary>{escape(summary)}</summary></entry>'
    )


def _disclosure_entry(item: dict[str, Any], base: str) -> str:
    period = f"，自 {item['period_start']}" if item["period_start"] else ""
    if item["period_end"]:
        period += f"至 {item['period_end']}"
    summary = (
        f"{item['name']}（{item['code']}）"
        f"{disclosure_feed.TYPE_ZH.get(item['type'], item['type'])}：{STATUS_ZH[item['status']]}"
        f"，生效 {item['effective']}{period}"
        + (f"；{item['document_no']}" if item["document_no"] else "")
    )
    return (
        f"<entry><id>urn:yibao:disclosures:{item['id']}</id>"
        f"<title>{escape(summary)}</title><updated>{item['published']}T00:00:00+08:00</updated>"
        f'<link href="{escape(base)}/practitioners/{escape(item["code"])}"/>'
        f"<summary>{escape(summary)}</summary></entry>"
    )


def _atom(
    title: str,
    kind: str,
    items: list[dict[str, Any]],
    base: str,
    self_url: str,
    next_url: str | None = None,
) -> Response[str]:
    entry = _blacklist_entry if kind == "blacklist" else _disclosure_entry
    entries = [entry(item, base) for item in items]
    updated = max((i["published"] for i in items), default=china_today())
    next_link = f'<link rel="next" href="{escape(next_url)}"/>' if next_url else ""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>urn:yibao:{kind}</id><title>{escape(title)}</title>"
        f"<author><name>医疗保障部门</name></author>"
        f'<link rel="self" href="{escape(self_url)}"/>{next_link}'
        f"<updated>{updated}T00:00:00+08:00</updated>{''.join(entries)}</feed>"
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@get("/feeds/{name:str}", cache_control=FEEDS, sync_to_thread=True, include_in_schema=False)
def feeds(
    request: Request[Any, Any, Any],
    name: FromPath[str],
    since: FromQuery[str | None] = None,
) -> Any:
    """blacklist.json / .csv / .atom and disclosures.json / .csv / .atom, with a ``since``
    cursor: pass the last ``cursor`` (``next_since``) to get only what is new. The items are
    public changes: the blacklist's (``blacklist_event``: listed, repaired, removed,
    corrected, withdrawn) and the disclosures' (``disclosure_event``: suspended,
    terminated, cancelled, restored, shortened, corrected, withdrawn)."""
    limit(request, "feeds")
    kind, _, fmt = name.partition(".")
    if fmt not in FEED_FORMATS.get(kind, ()):
        raise BadInput("name", f"没有订阅源 {name[:40]}", status=404)
    size = parse_int(request.query_params.get("limit"), "limit", 100, 1, 1000)
    today = china_today()
    with reader(request).connect() as conn:
        if kind == "blacklist":
            cursor = _since(since, public.blacklist_latest(conn, today))
            items = public.blacklist_events(conn, today, since=cursor, limit=size)
        else:
            cursor = _since(since, disclosure_feed.latest(conn, today))
            items = disclosure_feed.items(conn, today, since=cursor, limit=size)
    base = base_url(request)
    next_since = items[-1]["id"] if items else cursor
    next_url = (
        f"{base}/feeds/{name}?" + urlencode({"since": next_since, "limit": size})
        if len(items) == size
        else None
    )
    answer: Response[Any]
    if fmt == "json":
        body = {
            "items": [jsonable(i) for i in items],
            "since": cursor,
            "next_since": next_since,
            "cursor": str(next_since),
            "next": next_url,
            "generated": china_today().isoformat(),
        }
        if kind == "blacklist":
            return body
        answer = Response(encode_json(body), media_type="application/json")
    elif fmt == "atom":
        title = "失信联合惩戒对象名单" if kind == "blacklist" else "暂停、终止医保支付资格公示"
        self_url = f"{base}/feeds/{name}?" + urlencode({"since": cursor, "limit": size})
        answer = _atom(title, kind, items, base, self_url, next_url)
    else:
        columns = BLACKLIST_COLUMNS if kind == "blacklist" else disclosure_feed.COLUMNS
        answer = _csv(columns, items, f"{kind}.csv")
    return answer if kind == "blacklist" else _tagged(request, answer)


def _tagged(request: Request[Any, Any, Any], answer: Response[Any]) -> Response[Any]:
    """An ``ETag`` from the body; ``If-None-Match`` with it answers 304 with no body (a
    platform polling the feed downloads nothing new)."""
    content = answer.content
    raw = content if isinstance(content, bytes) else str(content).encode("utf-8")
    etag = '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'
    answer.headers["ETag"] = etag
    if etag in request.headers.get("if-none-match", ""):
        return Response(b"", status_code=304, headers={"ETag": etag})
    return answer


def _csv(columns: list[str], rows: list[dict[str, Any]], filename: str) -> Response[bytes]:
    return Response(
        csv_body(columns, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _month(text: str) -> tuple[int, int]:
    """``YYYY-MM.csv`` exactly, a real month (else 400 naming ``month``)."""
    stem, dot, ext = text.partition(".")
    ok = dot and ext == "csv" and len(stem) == 7 and stem[4] == "-" and stem.isascii()
    digits = stem[:4] + stem[5:]
    if not ok or not digits.isdigit() or not 1 <= int(stem[5:]) <= 12 or int(stem[:4]) < 1900:
        raise BadInput("month", "月份应写作 YYYY-MM.csv，例如 2026-01.csv")
    return int(stem[:4]), int(stem[5:])


@get(
    "/feeds/extracts/{month:str}",
    cache_control=FEEDS,
    sync_to_thread=True,
    include_in_schema=False,
)
def extract(request: Request[Any, Any, Any], month: FromPath[str]) -> Any:
    """The public state at the end of a month (a monthly full extract, like LEIE's): per
    code the latest item in force then whose status is not normal. A month not yet over:
    404."""
    limit(request, "feeds")
    year, number = _month(month)
    _first, last = disclosure_feed.month_bounds(year, number)
    if last >= china_today():
        raise BadInput("month", f"{year}年{number}月尚未结束，没有全量文件", status=404)
    with reader(request).connect() as conn:
        rows = disclosure_feed.extract(conn, last)
    answer = _csv(disclosure_feed.EXTRACT_COLUMNS, rows, f"extract-{year}-{number:02d}.csv")
    return _tagged(request, answer)


@get(
    "/feeds/changes/{month:str}",
    cache_control=FEEDS,
    sync_to_thread=True,
    include_in_schema=False,
)
def changes(request: Request[Any, Any, Any], month: FromPath[str]) -> Any:
    """A month's changes: the items that entered the public state in it (published in the
    month, or published earlier and taking effect in it; so far, for the current month).
    Last month's extract with these applied in order is this month's extract."""
    limit(request, "feeds")
    year, number = _month(month)
    first, last = disclosure_feed.month_bounds(year, number)
    today = china_today()
    if first > today:
        raise BadInput("month", f"{year}年{number}月尚未开始", status=404)
    with reader(request).connect() as conn:
        rows = disclosure_feed.changes(conn, first, min(last, today))
    return _tagged(request, _csv(disclosure_feed.COLUMNS, rows, f"changes-{year}-{number:02d}.csv"))


ROUTES = [feeds, extract, changes]
