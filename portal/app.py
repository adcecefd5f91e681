"""The app factory: one Litestar application that mounts the public site (and, later, admin)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import anyio
from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.config.cors import CORSConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import Message, Send
from sqlalchemy import Engine

from admin.errors import EXCEPTION_HANDLERS as ADMIN_EXCEPTION_HANDLERS
from admin.routes import ROUTER as ADMIN_ROUTER
from portal.clock import china_today
from portal.crypto import csrf_secret
from portal.db import make_engine
from portal.services import blacklist
from portal.services.receipts import ensure_key
from portal.services.secrets import check_secret
from portal.services.verify import refresh_statuses
from portal.services.webhooks import deliver
from portal.settings import Settings, rate_limits
from public_site import fast
from public_site.limits import make_limits, static_gate
from public_site.routes import ROUTES as PUBLIC_ROUTES
from public_site.security import EXCEPTION_HANDLERS, finish_response, header_limits

PUBLIC_TEMPLATES = Path(__file__).resolve().parent.parent / "public_site" / "templates"
# Everything that is not the admin or /me: no CSRF token and no cookie there.
PUBLIC_PATHS = (
    r"^/($|\?|search|practitioners/|institutions/|disclosures|blacklist|credit/|about|healthz"
    r"|api/|badge/|embed|feeds/|static/|receipts|docs|\.well-known/|_openapi)"
)
ADMIN_TEMPLATES = Path(__file__).resolve().parent.parent / "admin" / "templates"
PUBLIC_STATIC = PUBLIC_TEMPLATES.parent / "static"


def _refresh(engine: Engine, today: date) -> None:
    """The day's status refresh, unless it is recorded already (by another worker, or the
    CLI): workers that start after it do not repeat the full pass."""
    from portal.services.public import data_as_of

    with engine.connect() as conn:
        as_of = data_as_of(conn)
    if as_of is None or as_of < today:
        refresh_statuses(engine, today)


async def _background(engine: Engine) -> None:
    """On a single machine, `portal serve` also delivers webhooks (every 30 s) and brings
    registrations' stored statuses to the day's (at start and after midnight in China,
    unless that day's refresh is recorded already). Both are idempotent, so a second
    process doing the same harms nothing."""
    done: dict[str, date] = {}  # each daily task's last day done, tried alone
    daily: dict[str, Callable[[Engine, date], object]] = {
        "refresh": _refresh,
        "blacklist": blacklist.daily,
    }
    while True:
        today = china_today()
        for name, task in daily.items():
            if done.get(name) == today:
                continue
            try:
                await anyio.to_thread.run_sync(task, engine, today)
                done[name] = today
            except Exception:  # keep serving; the next round tries again
                logging.getLogger("portal").exception("background round: %s failed", name)
        try:
            await anyio.to_thread.run_sync(deliver, engine)
        except Exception:
            logging.getLogger("portal").exception("background round: webhooks failed")
        await asyncio.sleep(30)


def _template_names(engine: JinjaTemplateEngine) -> None:
    """Names every page says the same way (one name per concept, RULES §1)."""
    from portal.credit_models import SUBJECT_KIND_ZH
    from portal.services.credit_evaluation import EXCLUSION_ZH

    engine.engine.globals["exclusion_zh"] = EXCLUSION_ZH
    engine.engine.globals["kind_zh"] = SUBJECT_KIND_ZH


class Portal(Litestar):
    """The app, answering ``HEAD`` on every ``GET`` route (spec/DESIGN.md: same headers, no
    body). Litestar routes HEAD only to handlers declared for it, so a HEAD request is run
    as the GET it stands for, before routing, and its body is dropped on the way out: the
    headers (Content-Length, ETag, Cache-Control...) are exactly the GET's."""

    fast_path = True  # public_site.fast answers plain status and badge requests first

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            if scope["method"] == "HEAD":
                scope = {**scope, "method": "GET"}
                await super().__call__(scope, receive, _without_body(send))
                return
            if self.fast_path and await fast.answer(self.state, scope, send):
                return
        await super().__call__(scope, receive, send)


def _without_body(send: Send) -> Send:
    async def head_send(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return  # every chunk but the last is dropped; the last goes out empty
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return head_send


def create_app(
    settings: Settings | None = None,
    background: bool = False,
    limits: dict[str, tuple[int, float]] | None = None,
) -> Litestar:
    """The app; ``limits`` replaces the rate limits read from the environment (tests)."""
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url)
    reads = make_engine(settings.database_url, reads=True)
    tasks: list[asyncio.Task[None]] = []

    async def start() -> None:
        # Everything loaded at start (rulesets, calendar, templates, the framework) lives as
        # long as the process: keep it out of the collector's full passes, which otherwise
        # show as tail latency under load.
        check_secret(engine, settings.secret)  # never serve data sealed under another key
        with engine.begin() as conn:  # a first receipt key, random, when there is none
            ensure_key(conn, settings.secret)
        gc.collect()
        gc.freeze()
        if background:
            tasks.append(asyncio.create_task(_background(engine)))

    async def stop(app: Litestar) -> None:
        for task in tasks:
            task.cancel()
        loop_connection = app.state.get("loop_connection")
        if loop_connection is not None:
            loop_connection.close()
        engine.dispose()
        reads.dispose()

    app = Portal(
        route_handlers=[
            *PUBLIC_ROUTES,
            ADMIN_ROUTER,
            create_static_files_router(
                path="/static",
                directories=[PUBLIC_STATIC],
                include_in_schema=False,
                cache_control=CacheControlHeader(public=True, max_age=86400),
                before_request=static_gate,
            ),
        ],
        template_config=TemplateConfig(
            directory=[PUBLIC_TEMPLATES, ADMIN_TEMPLATES],
            engine=JinjaTemplateEngine,
            engine_callback=_template_names,
        ),
        # Every state-changing request of the admin and /me carries the token; the public
        # JSON API has no cookies and stays exempt (spec/DESIGN.md "Admin").
        csrf_config=CSRFConfig(
            secret=csrf_secret(settings.secret),
            # Only the admin and /me have sessions: elsewhere no token and no cookie, so
            # that public pages stay cacheable and the public API stays CSRF-free.
            exclude=[PUBLIC_PATHS],
            cookie_httponly=False,
            cookie_secure=settings.base_url.startswith("https://"),
            cookie_samesite="lax",
        ),
        cors_config=CORSConfig(
            allow_origins=["*"], allow_methods=["GET", "POST", "OPTIONS"], allow_credentials=False
        ),
        openapi_config=None,  # the document is the contract, kept in public_site.openapi
        # gzip when asked (a batch of 1,000 answers is ~390 KB, ~25 KB gzipped); not on the
        # small hot answers (badge, one status, embed), where it would cost more than it saves
        compression_config=CompressionConfig(
            backend="gzip",
            minimum_size=1024,
            gzip_compress_level=5,
            exclude=["^/badge/", "^/api/v1/practitioners/", "^/embed", "^/static/"],
        ),
        on_startup=[start],
        on_shutdown=[stop],
        middleware=[header_limits],
        before_send=[finish_response],
        exception_handlers={**EXCEPTION_HANDLERS, **ADMIN_EXCEPTION_HANDLERS},
        request_max_body_size=1024 * 1024,
    )
    app.state.settings = settings
    app.state.error_pages = {"/admin": "admin/error.html", "/me": "admin/error.html"}
    app.state.engine = engine
    app.state.reader = reads
    app.state.limiters = make_limits(
        limits or rate_limits(), settings.redis_url, settings.database_url
    )
    app.state.batch_threads = anyio.CapacityLimiter(2)
    return app


def serve_app() -> Litestar:
    """The factory uvicorn's workers call (``PORTAL_WORKERS`` > 1)."""
    return create_app(Settings.from_env(), background=True)
