"""Badges and embeds for hospitals' registration pages.

The badge always answers an SVG (unknown code: 404 "未找到"; malformed: 400 "代码有误",
spec/DESIGN.md); the embed is the one page that may be framed (frame-ancestors *).
"""

from __future__ import annotations

import hashlib
from typing import Any
from xml.sax.saxutils import escape

from litestar import Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from portal.clock import china_today
from portal.identifiers import is_national_code
from portal.services import public
from portal.services.registry import STATUS_ZH
from public_site.common import PAGES, base_url, cache_in, fresh, freshness_in, loop_read, reader
from public_site.limits import FAST_FAILED, limit

BADGE_COLOURS = {
    "normal": "#1b6b2f",
    "suspended": "#8a5a00",
    "terminated": "#a4161a",
    "cancelled": "#a4161a",
    "unknown": "#666666",
}
_BADGE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="22" role="img" '
    'aria-label="医保支付资格：{word}"><title>{name} 医保支付资格：{word}（{day}）</title>'
    '<rect width="44" height="22" fill="#444" shape-rendering="crispEdges"/>'
    '<rect x="44" width="{right}" height="22" fill="{colour}" shape-rendering="crispEdges"/>'
    '<g fill="#fff" font-family="Noto Sans CJK SC,PingFang SC,Microsoft YaHei,SimHei,sans-serif" '
    'font-size="13" text-anchor="middle" text-rendering="geometricPrecision">'
    '<text x="22" y="15.5">医保</text><text x="{middle}" y="15.5">{word}</text></g></svg>'
)
BADGE_MEDIA = "image/svg+xml"
STALE_WORD = "数据待更新"  # the day's refresh has not run: the portal does not vouch (DESIGN)


def badge_svg(word: str, name: str, day: object, colour: str) -> str:
    """The badge: "医保" and the word, the word's part as wide as the word needs."""
    right = max(52, 13 * len(word) + 12)
    return _BADGE.format(word=word, name=name, day=day, colour=colour, width=44 + right,
                         right=right, middle=44 + right // 2)  # fmt: skip


def error_badge(status: int, word: str, headers: dict[str, str] | None = None) -> Response[bytes]:
    """A grey badge saying what went wrong: a badge route always answers an SVG."""
    svg = badge_svg(word, "", china_today(), BADGE_COLOURS["unknown"])
    return Response(
        svg.encode("utf-8"),
        status_code=status,
        media_type=BADGE_MEDIA,
        headers={
            "Cache-Control": "no-store",
            "Access-Control-Allow-Origin": "*",
            **(headers or {}),
        },
    )


@get("/badge/{name:str}", sync_to_thread=False, include_in_schema=False)
def badge(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[Any]:
    """An SVG badge (正常 / 暂停 / 终止 / 取消); ETag and a short max-age, 304 when unchanged."""
    limit(request, "badges")
    code = name.removesuffix(".svg").upper()
    if not name.endswith(".svg") or not is_national_code(code):
        return error_badge(400, "代码有误")
    failed = request.scope.get("state", {}).pop(FAST_FAILED, None)
    if failed is not None:  # the fast path's read failed: not tried a second time
        raise failed
    found = badge_answer(request.app.state, code, request.headers.get("if-none-match", ""))
    if found is None:
        return error_badge(404, "未找到")
    status, headers, body = found
    if status == 304:
        return Response(b"", status_code=304, headers=headers)
    return Response(body, media_type=BADGE_MEDIA, headers=headers)


def badge_answer(
    state: Any, code: str, if_none_match: str
) -> tuple[int, dict[str, str], bytes] | None:
    """The badge of a well-formed code as (status, headers, body): 200 or 304 when the
    client's copy is current; None when no one has the code. Shared by the route and its
    fast path (public_site.fast)."""
    day = china_today()
    stale = freshness_in(state)["stale"]
    cache = cache_in(state, "badge_cache", 60)
    cached = cache.get((code, day, stale))
    if cached is None:
        found = loop_read(state, lambda conn: public.fast_badge(conn, code, day))
        if found is None:
            return None
        person_name, status = found
        word = STALE_WORD if stale else STATUS_ZH[status.status]
        colour = BADGE_COLOURS["unknown" if stale else status.status]
        tag = hashlib.sha1(f"{code}|{word}|{person_name}|{day}".encode()).hexdigest()[:20]
        svg = badge_svg(word, escape(person_name), day, colour)
        cached = (f'"{tag}"', svg.encode("utf-8"))
        cache.put((code, day, stale), cached)
    etag, svg_bytes = cached
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=60",
        "Access-Control-Allow-Origin": "*",
    }
    if etag in if_none_match:
        return 304, headers, b""
    return 200, headers, svg_bytes


@get("/embed/{code:str}", cache_control=PAGES, sync_to_thread=False, include_in_schema=False)
def embed(request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
    """A small card for an iframe on a hospital's registration page."""
    limit(request, "pages")
    with reader(request).connect() as conn:
        person = public.person(conn, code[:32], china_today())
        vouched = fresh(request, conn)
    if person is None:
        return Template(
            template_name="embed_not_found.html",
            context={"code": code[:32]},
            status_code=404,
            headers={"Cache-Control": "no-store"},
        )
    s = person.status
    detail = {
        "normal": "可正常使用医保结算",
        "suspended": f"暂停至 {s.period_end}，仅可自费"
        if not s.restoration_pending
        else f"暂停期已满（{s.period_end}），恢复待审核，仅可自费",
        "terminated": f"自 {s.period_start} 起终止，仅可自费",
        "cancelled": "医保支付资格已取消，仅可自费",
    }[s.status]
    return Template(
        template_name="embed.html",
        context={
            "p": person,
            "words": STATUS_ZH[s.status],
            "detail": detail,
            "base": base_url(request),
            "fresh": vouched,
        },
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
  /* Each card says how tall it is (embed-card.js): its frame follows, within bounds. */
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== origin || !data || data.type !== "yibao-embed-height") return;
    document.querySelectorAll("[data-yibao-code] iframe").forEach(function (frame) {
      if (frame.contentWindow === event.source) {
        frame.style.height = Math.max(40, Math.min(600, Number(data.height) || 96)) + "px";
      }
    });
  });
  document.querySelectorAll("[data-yibao-code]").forEach(mount);
})();
"""


@get("/embed.js", sync_to_thread=False, include_in_schema=False)
def embed_js(request: Request[Any, Any, Any]) -> Response[str]:
    """One tag on a registration page: <script src=".../embed.js" defer></script> and
    <div data-yibao-code="D43…"></div> where the card should appear."""
    limit(request, "pages")
    return Response(
        EMBED_JS,
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )


ROUTES = [badge, embed, embed_js]
