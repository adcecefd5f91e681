"""The app factory: one Litestar application that mounts the public site (and, later, admin)."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import CacheControlHeader
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from portal.db import make_engine
from portal.settings import Settings
from public_site import controllers as public_controllers

PUBLIC_TEMPLATES = Path(__file__).resolve().parent.parent / "public_site" / "templates"
PUBLIC_STATIC = PUBLIC_TEMPLATES.parent / "static"


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url)
    app = Litestar(
        route_handlers=[
            *public_controllers.ROUTES,
            create_static_files_router(
                path="/static",
                directories=[PUBLIC_STATIC],
                include_in_schema=False,
                cache_control=CacheControlHeader(public=True, max_age=86400),
            ),
        ],
        template_config=TemplateConfig(directory=[PUBLIC_TEMPLATES], engine=JinjaTemplateEngine),
        cors_config=CORSConfig(
            allow_origins=["*"], allow_methods=["GET", "POST", "OPTIONS"], allow_credentials=False
        ),
        openapi_config=OpenAPIConfig(
            title="医保相关人员支付资格 API",
            version="1.0.0",
            path="/api/v1",
            description="Status of medical-insurance practitioners for registration platforms "
            "and claim checks. No ID numbers, phone numbers or birth dates are ever returned.",
        ),
        on_shutdown=[lambda: engine.dispose()],
    )
    app.state.settings = settings
    app.state.engine = engine
    return app
