"""The dashboard: what is due today and this week, late items first, flags and counts."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from admin.common import db, in_thread, page, signed_in
from portal.clock import china_today
from portal.services import duties
from portal.services.roles import VIEW


@get("/admin/", include_in_schema=False)
async def dashboard(request: Request[Any, Any, Any]) -> Template:
    return await in_thread(_dashboard, request)


def _dashboard(request: Request[Any, Any, Any]) -> Template:
    today = china_today()
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(VIEW)
        scope = duties.Scope.of(officer.account.role, officer.account.region,
                                officer.account.institution_code)  # fmt: skip
        due = duties.due_items(session, scope, today)
        flags = duties.flags_in_scope(session, scope, today.year)
        counts = duties.counts_by_region(session, scope)
    return page(
        request, "admin/dashboard.html", officer, today=today, groups=duties.group(due, today),
        flags=flags, counts=counts,
    )  # fmt: skip


ROUTES = [dashboard]
