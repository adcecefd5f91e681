"""Every admin route (spec/DESIGN.md, "Admin"): one module per screen."""

from __future__ import annotations

from litestar import Router

from admin import (
    auth,
    blacklist,
    cases,
    credit,
    credit_archive,
    credit_catalogue,
    credit_objections,
    credit_repairs,
    dashboard,
    institutions,
    logs,
    notices,
    practitioners,
    queues,
    registrations,
    users,
)
from admin.common import admin_gate

ROUTES = [*auth.ROUTES, *dashboard.ROUTES, *cases.ROUTES, *users.ROUTES, *queues.ROUTES]
ROUTES += [*practitioners.ROUTES, *institutions.ROUTES, *registrations.ROUTES, *notices.ROUTES]
ROUTES += [*logs.ROUTES, *credit.ROUTES]
ROUTES += [*credit_objections.ROUTES, *credit_repairs.ROUTES]
ROUTES += [*blacklist.ROUTES]
ROUTES += [*credit_archive.ROUTES]
ROUTES += [*credit_catalogue.ROUTES]
# One router for the admin: its gate runs before every handler (login first, ids bounded).
ROUTER = Router(path="/", route_handlers=ROUTES, before_request=admin_gate)
