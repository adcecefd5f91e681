"""Every admin route (spec/DESIGN.md, "Admin"): one module per screen."""

from __future__ import annotations

from admin import (
    auth,
    cases,
    dashboard,
    institutions,
    logs,
    notices,
    practitioners,
    queues,
    registrations,
    users,
)

ROUTES = [*auth.ROUTES, *dashboard.ROUTES, *cases.ROUTES, *users.ROUTES, *queues.ROUTES]
ROUTES += [*practitioners.ROUTES, *institutions.ROUTES, *registrations.ROUTES, *notices.ROUTES]
ROUTES += logs.ROUTES
