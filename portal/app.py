"""The app factory: one Litestar application that mounts the public site (and, later, admin)."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from portal.settings import Settings
from public_site import controllers as public_controllers

PUBLIC_TEMPLATES = Path(__file__).resolve().parent.parent / "public_site" / "templates"


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    app = Litestar(
        route_handlers=public_controllers.ROUTES,
        template_config=TemplateConfig(directory=[PUBLIC_TEMPLATES], engine=JinjaTemplateEngine),
    )
    app.state.settings = settings
    return app
