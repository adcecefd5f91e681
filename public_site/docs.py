"""Documentation that loads anywhere: the integrators' page in Chinese (badge, embed, status
and batch API, feeds, receipts, limits, with code samples) and the API reference drawn by
Redoc from the OpenAPI document — Redoc is vendored under /static/redoc (MIT, licence
kept), so the page works offline and behind a firewall: no CDN."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from public_site.common import PAGES, base_url
from public_site.limits import limit


@get("/docs", cache_control=PAGES, sync_to_thread=False, include_in_schema=False)
def integrators(request: Request[Any, Any, Any]) -> Template:
    """接入说明: how a registration platform, a claim auditor or a credit platform uses the
    portal, with the limits each route has (portal.settings.RATE_LIMITS)."""
    limit(request, "pages")
    limits = request.app.state.limiters
    per = {name: limits.of(name) for name in limits.local}
    context = {"base": base_url(request), "limits": per, "shared": limits.shared}
    return Template(template_name="docs.html", context=context)


@get("/docs/api", cache_control=PAGES, sync_to_thread=False, include_in_schema=False)
def api_reference(request: Request[Any, Any, Any]) -> Template:
    """The API reference (Redoc over /api/v1/openapi.json), served wholly by the portal."""
    limit(request, "pages")
    return Template(template_name="docs_api.html", context={})


ROUTES = [integrators, api_reference]
