"""Feeds for the credit-sharing platform and registration platforms: JSON, CSV, Atom.

``since`` is 0 (from the start) or a cursor the feed returned, else 400; ``limit``
1-1,000 (default 100); ``next`` is the URL of the next page, null once caught up
(spec/DESIGN.md, "Feeds"). Absolute links come from PORTAL_BASE_URL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from litestar import Request, Response, get
from litestar.params import FromPath, FromQuery
from sqlalchemy import func, select

from portal.clock import china_today
from portal.models import Notice, table
from portal.services import public
from portal.services.registry import STATUS_ZH
from public_site.common import (
    FEEDS,
    BadInput,
    base_url,
    csv_body,
    jsonable,
    limit,
    parse_int,
    reader,
)

FEED_FORMATS = {"blacklist": ("json", "csv", "atom"), "disclosures": ("json", "atom")}
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
    if text is None or text in ("", "0"):
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


def _atom(
    title: str, kind: str, items: list[dict[str, Any]], base: str, self_url: str
) -> Response[str]:
    entries = []
    for item in items:
        if kind == "blacklist":
            entries.append(_blacklist_entry(item, base))
            continue
        summary = (
            f"{item['name']}（{item['national_code']}）"
            f"{STATUS_ZH[item.get('status', 'terminated')]}"
            f"，自 {item['period_start']}；{item['document_no']}；{item['institution']}"
        )
        entries.append(
            f"<entry><id>urn:yibao:{kind}:{item['id']}</id>"
            f"<title>{escape(summary)}</title><updated>{item['issued_on']}T00:00:00+08:00</updated>"
            f'<link href="{escape(base)}/practitioners/{escape(item["national_code"])}"/>'
            f"<summary>{escape(summary)}</summary></entry>"
        )
    day = "published" if kind == "blacklist" else "issued_on"
    updated = max((i[day] for i in items), default=china_today())
    body = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>urn:yibao:{kind}</id><title>{escape(title)}</title>"
        f"<author><name>医疗保障部门</name></author>"
        f'<link rel="self" href="{escape(self_url)}"/>'
        f"<updated>{updated}T00:00:00+08:00</updated>{''.join(entries)}</feed>"
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@get("/feeds/{name:str}", cache_control=FEEDS, sync_to_thread=True, include_in_schema=False)
def feeds(
    request: Request[Any, Any, Any],
    name: FromPath[str],
    since: FromQuery[str | None] = None,
) -> Any:
    """blacklist.json / .csv / .atom and disclosures.json / .atom, with a ``since`` cursor:
    pass the last ``next_since`` to get only what is new. The blacklist's items are its
    public changes (``blacklist_event``: listed, repaired, removed, corrected, withdrawn)."""
    limit(request, "feeds")
    kind, _, fmt = name.partition(".")
    if fmt not in FEED_FORMATS.get(kind, ()):
        raise BadInput("name", f"没有订阅源 {name[:40]}", status=404)
    size = parse_int(request.query_params.get("limit"), "limit", 100, 1, 1000)
    with reader(request).connect() as conn:
        if kind == "blacklist":
            today = china_today()
            cursor = _since(since, public.blacklist_latest(conn, today))
            items = public.blacklist_events(conn, today, since=cursor, limit=size)
        else:
            latest = int(conn.execute(select(func.max(table(Notice).c.id))).scalar() or 0)
            cursor = _since(since, latest)
            items = public.status_changes(conn, since=cursor, limit=size)
    base = base_url(request)
    next_since = items[-1]["id"] if items else cursor
    next_url = (
        f"{base}/feeds/{name}?" + urlencode({"since": next_since, "limit": size})
        if len(items) == size
        else None
    )
    if fmt == "json":
        return {
            "items": [jsonable(i) for i in items],
            "since": cursor,
            "next_since": next_since,
            "cursor": str(next_since),
            "next": next_url,
            "generated": china_today().isoformat(),
        }
    if fmt == "atom":
        title = "失信联合惩戒对象名单" if kind == "blacklist" else "暂停、终止医保支付资格公示"
        self_url = f"{base}/feeds/{name}?" + urlencode({"since": cursor, "limit": size})
        return _atom(title, kind, items, base, self_url)
    return Response(
        csv_body(BLACKLIST_COLUMNS, items),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="blacklist.csv"'},
    )


ROUTES = [feeds]
