"""The app factory: one Litestar application that mounts the public site (and, later, admin)."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from portal.db import make_engine
from portal.settings import Settings
from public_site import controllers as public_controllers

PUBLIC_TEMPLATES = Path(__file__).resolve().parent.parent / "public_site" / "templates"


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url)
    app = Litestar(
        route_handlers=public_controllers.ROUTES,
        template_config=TemplateConfig(directory=[PUBLIC_TEMPLATES], engine=JinjaTemplateEngine),
        on_shutdown=[lambda: engine.dispose()],
    )
    app.state.settings = settings
    app.state.engine = engine
    return app
