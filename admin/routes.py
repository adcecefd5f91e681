"""Every admin route (spec/DESIGN.md, "Admin"): one module per screen."""

from __future__ import annotations

from admin import auth, dashboard

ROUTES = [*auth.ROUTES, *dashboard.ROUTES]
