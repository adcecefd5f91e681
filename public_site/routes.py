"""Every public route, by contract (spec/DESIGN.md, "Public contracts")."""

from __future__ import annotations

from public_site import badges, docs, feeds, pages, receipts, status_api

ROUTES = [*pages.ROUTES, *status_api.ROUTES, *badges.ROUTES, *feeds.ROUTES, *receipts.ROUTES]
ROUTES += docs.ROUTES
