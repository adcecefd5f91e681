"""The integrators' page and the API reference: served wholly by the portal (Redoc vendored
with its licence), no cookie, and the relaxed style policy on the reference page only."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient


async def test_the_docs_are_served_by_the_portal(client: AsyncTestClient[Any]) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200 and "接入说明" in page.text
    assert "/badge/" in page.text and "status:batch" in page.text and "receipts" in page.text
    assert "次 / 60 秒" in page.text  # the limits as configured
    api = await client.get("/docs/api")
    assert api.status_code == 200
    assert 'src="/static/redoc/redoc.standalone.js"' in api.text
    assert 'spec-url="/api/v1/openapi.json"' in api.text
    assert "cdn" not in api.text.lower() and "https://" not in api.text
    policy = api.headers["content-security-policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy and "script-src 'self';" in policy
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    for response in (page, api):
        assert "set-cookie" not in response.headers
    script = await client.get("/static/redoc/redoc.standalone.js")
    assert script.status_code == 200 and len(script.content) > 500_000
    licence = await client.get("/static/redoc/LICENSE.txt")
    assert licence.status_code == 200 and "MIT License" in licence.text
