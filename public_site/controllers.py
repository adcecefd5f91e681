"""Public routes. For now: a home page and a health check that show the engine is wired in."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, get
from litestar.response import Template
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from portal.models import Registration, table
from scoring.rulesets import PractitionerRuleset, all_rulesets
from scoring.workdays import default_calendar

KIND_ZH = {"practitioner": "医保支付资格管理", "credit": "医疗保障信用管理"}


def _ruleset_rows() -> list[dict[str, Any]]:
    rows = []
    for ruleset in all_rulesets().values():
        counts = (
            (len(ruleset.situations), len(ruleset.routes))
            if isinstance(ruleset, PractitionerRuleset)
            else (None, None)
        )
        rows.append(
            {
                "id": ruleset.id,
                "name": ruleset.name,
                "document": ruleset.document,
                "kind": KIND_ZH[ruleset.kind],
                "effective_from": ruleset.effective_from.isoformat(),
                "effective_to": ruleset.effective_to.isoformat() if ruleset.effective_to else None,
                "situations": counts[0],
                "routes": counts[1],
            }
        )
    return rows


def _registry_counts(request: Request[Any, Any, Any]) -> dict[str, int]:
    """Active registrations by stored status; empty when the database is not migrated."""
    registrations = table(Registration)
    query = (
        select(registrations.c.status, func.count())
        .where(registrations.c.deregistered_on.is_(None))
        .group_by(registrations.c.status)
    )
    try:
        with request.app.state.engine.connect() as conn:
            return {status: int(n) for status, n in conn.execute(query)}
    except OperationalError:
        return {}


@get("/", sync_to_thread=True)
def home(request: Request[Any, Any, Any]) -> Template:
    settings = request.app.state.settings
    counts = _registry_counts(request)
    return Template(
        template_name="home.html",
        context={
            "rulesets": _ruleset_rows(),
            "default_ruleset": settings.ruleset,
            "counts": counts,
            "total": sum(counts.values()),
        },
    )


@get("/healthz", sync_to_thread=False)
def healthz(request: Request[Any, Any, Any]) -> dict[str, Any]:
    calendar = default_calendar()
    return {
        "status": "ok",
        "default_ruleset": request.app.state.settings.ruleset,
        "rulesets": [row["id"] for row in _ruleset_rows()],
        "calendar_years": [min(calendar.known_years), max(calendar.known_years)],
        "server_date": date.today().isoformat(),
    }


ROUTES = [home, healthz]
