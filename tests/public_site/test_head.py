"""``HEAD`` on every ``GET`` route (spec/DESIGN.md): the GET's status and headers, no body.
Checked for every route the app has (none answers 405), and header by header against the
GET for the public contracts."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient

COMPARED = ("content-type", "content-length", "cache-control", "etag", "content-disposition")


def _concrete(path: str, code: str) -> str:
    """A path template with each parameter filled in (a code, a number, a word)."""

    def fill(match: re.Match[str]) -> str:
        name, kind = match.group(1), match.group(2) or "str"
        if kind == "int" or name.endswith("id"):
            return "1"
        if name == "name":
            return f"{code}.svg"
        if name in ("code", "key"):
            return code
        return "practitioner" if name == "kind" else "x"

    return re.sub(r"\{(\w+)(?::(\w+))?\}", fill, path)


async def test_every_get_route_answers_head(
    client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    app = client.app
    paths = sorted(
        {
            _concrete(route.path, codes["normal"])
            for route in app.routes
            if "GET" in getattr(route, "methods", ())
        }
    )
    assert len(paths) > 20
    for path in paths:
        head = await client.head(path, follow_redirects=False)
        assert head.status_code != 405, path
        assert head.content == b"", path


async def test_head_carries_the_get_headers_without_the_body(
    client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    code = codes["suspended"]
    for path in (
        "/",
        f"/practitioners/{code}",
        "/disclosures",
        "/disclosures?format=csv",
        "/blacklist",
        "/credit/a-grade",
        f"/api/v1/practitioners/{code}/status",
        "/api/v1/disclosures",
        "/api/v1/openapi.json",
        f"/badge/{code}.svg",
        "/badge/D43019999999.svg",
        f"/embed/{code}",
        "/embed.js",
        "/feeds/blacklist.json",
        "/feeds/blacklist.atom",
        "/feeds/disclosures.json",
        "/.well-known/jwks.json",
        "/static/site.css",
        "/practitioners/D43019999999",
    ):
        get = await client.get(path)
        head = await client.head(path)
        assert head.status_code == get.status_code, path
        assert head.content == b"" and get.content, path
        for name in COMPARED:
            assert head.headers.get(name) == get.headers.get(name), (path, name)
        assert head.headers["x-request-id"] and head.headers["x-content-type-options"]
