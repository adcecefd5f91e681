"""Real browser tests: Debian's chromium driven by Playwright (no downloaded browsers).

`make test` installs chromium and a CJK font with apt-get when they are missing; run
directly without them, these tests are skipped with a message saying so.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from portal.clock import china_today
from portal.db import make_engine, session_scope, upgrade
from portal.services.accounts import create_account
from portal.services.demo import generate
from portal.services.registry import Act
from portal.services.verify import refresh_statuses
from tests.portal.conftest import SECRET

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PORTAL = Path(sys.executable).with_name("portal")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


OFFICER = ("zhoumin", "Browser-Test-Pass-42")  # a provincial administrator


@pytest.fixture(scope="session")
def site_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """3,000 demo practitioners and an officer's account."""
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian chromium is not installed (make test installs it)")
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'site.db'}"
    engine = make_engine(url)
    upgrade(engine, SECRET)
    generate(engine, 3000, seed=5, as_of=china_today(), secret=SECRET)
    refresh_statuses(engine, china_today())
    with session_scope(engine, write=True) as session:
        create_account(
            session,
            Act("setup", datetime.now(UTC), "浏览器测试"),
            username=OFFICER[0],
            role="province_admin",
            password=OFFICER[1],
            display_name="周敏",
        )
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def site(site_db: str) -> Iterator[str]:
    """The portal, served for real on loopback."""
    url = site_db
    port = _free_port()
    proc = subprocess.Popen(
        [str(PORTAL), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "DATABASE_URL": url, "PORTAL_SECRET": SECRET},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def hospital_page(site: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A third-party page on another origin (a hospital's registration page)."""
    folder = tmp_path_factory.mktemp("hospital")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def page(code: str) -> str:
        html = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>某医院预约挂号</title></head><body style="font-family:sans-serif">
<h1>预约挂号 · 内科</h1><p>医生：{code}</p>
<img id="badge" src="{site}/badge/{code}.svg" alt="医保状态">
<div data-yibao-code="{code}"></div>
<script src="{site}/embed.js" defer></script></body></html>"""
        (folder / f"{code}.html").write_text(html, encoding="utf-8")
        return f"http://127.0.0.1:{server.server_address[1]}/{code}.html"

    yield page
    server.shutdown()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    if not shutil.which(CHROMIUM):
        pytest.skip("Debian chromium is not installed (make test installs it)")
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield b
        await b.close()
