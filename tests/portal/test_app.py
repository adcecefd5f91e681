"""The portal serves the engine: the home page, the health check and ``portal serve``."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from portal.app import create_app
from portal.db import make_engine, upgrade
from portal.services.demo import generate
from portal.settings import Settings, SettingsError
from tests.portal.conftest import SECRET

PORTAL = Path(sys.executable).with_name("portal")


async def test_the_about_page_lists_the_loaded_rulesets_in_chinese(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", secret=SECRET)
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.get("/about")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in response.text
    assert "2025-03-01 至 2027-02-28" in response.text
    assert "14 种情形，5 种修复途径" in response.text  # Hunan-Rules Art. 8 and Art. 12


async def test_the_about_page_counts_registrations_from_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    engine = make_engine(url)
    upgrade(engine)
    summary = generate(engine, 400, seed=2, as_of=date.today(), secret=SECRET)
    engine.dispose()
    async with AsyncTestClient(app=create_app(Settings(database_url=url, secret=SECRET))) as client:
        page = (await client.get("/about")).text
    assert f"目前登记备案 {summary.registrations:,} 人次" in page


async def test_the_health_check_reports_the_engine(tmp_path: Path) -> None:
    settings = Settings(
        ruleset="anhui-2025", database_url=f"sqlite:///{tmp_path / 'x.db'}", secret=SECRET
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        body = (await client.get("/healthz")).json()
    assert body["status"] == "ok"
    assert body["default_ruleset"] == "anhui-2025"
    assert "hunan-credit-2024" in body["rulesets"]
    assert body["calendar_years"][1] >= 2026


def test_settings_refuse_an_unknown_ruleset_and_a_bad_port() -> None:
    key = {"PORTAL_SECRET": SECRET}
    with pytest.raises(SettingsError, match="PORTAL_RULESET"):
        Settings.from_env(key | {"PORTAL_RULESET": "mars-2025"})
    with pytest.raises(SettingsError, match="PORTAL_PORT"):
        Settings.from_env(key | {"PORTAL_PORT": "eighty"})
    with pytest.raises(SettingsError, match="PORTAL_CREDIT_RULESET"):
        Settings.from_env(key | {"PORTAL_CREDIT_RULESET": "hunan-2025"})
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        Settings.from_env(key | {"DATABASE_URL": "mysql://root@localhost/x"})
    production = Settings.from_env(
        {"DATABASE_URL": "postgresql://portal@db:5432/portal", "PORTAL_SECRET": "x" * 32}
    )
    assert production.database_url.startswith("postgresql")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [str(PORTAL), "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={
            **os.environ,
            "PORTAL_RULESET": "hainan-2025",
            "PORTAL_SECRET": SECRET,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
        },
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_portal_serve_migrates_and_runs_a_real_server(served: str, tmp_path: Path) -> None:
    with urllib.request.urlopen(served + "/about", timeout=5) as response:
        page = response.read().decode("utf-8")
    assert "默认：hainan-2025" in page
    with sqlite3.connect(tmp_path / "served.db") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"practitioner", "ledger_entry", "status_cache"} <= tables


def test_portal_serve_refuses_bad_settings() -> None:
    run = subprocess.run(
        [str(PORTAL), "serve"],
        capture_output=True,
        text=True,
        env={**os.environ, "PORTAL_PORT": "99999", "PORTAL_SECRET": SECRET},
        check=False,
        timeout=30,
    )
    assert run.returncode != 0
    assert "PORTAL_PORT" in run.stderr


@pytest.mark.parametrize("url", ["sqlite:///portal.db", "postgresql://portal@db:5432/portal"])
def test_no_database_is_opened_without_a_secret(url: str) -> None:
    with pytest.raises(SettingsError, match="PORTAL_SECRET"):
        Settings.from_env({"DATABASE_URL": url})
    with pytest.raises(SettingsError, match="PORTAL_SECRET"):
        Settings.from_env({"DATABASE_URL": url, "PORTAL_SECRET": "short"})
    with pytest.raises(SettingsError, match="PORTAL_SECRET"):
        Settings(database_url=url)


def test_the_secret_can_come_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "portal.secret"
    path.write_text("k" * 40 + "\n")
    assert Settings.from_env({"PORTAL_SECRET_FILE": str(path)}).secret == "k" * 40
    with pytest.raises(SettingsError, match="PORTAL_SECRET_FILE"):
        Settings.from_env({"PORTAL_SECRET_FILE": str(tmp_path / "missing")})
    with pytest.raises(SettingsError, match="not both"):
        Settings.from_env({"PORTAL_SECRET_FILE": str(path), "PORTAL_SECRET": "k" * 20})


def test_base_url_and_trusted_proxies_are_checked() -> None:
    key = {"PORTAL_SECRET": SECRET}
    assert Settings.from_env(key).base_url == "http://127.0.0.1:8000"
    assert (
        Settings.from_env(key | {"PORTAL_BASE_URL": "https://yibao.example.cn/"}).base_url
        == "https://yibao.example.cn"
    )
    with pytest.raises(SettingsError, match="PORTAL_BASE_URL"):
        Settings.from_env(key | {"PORTAL_BASE_URL": "yibao.example.cn"})
    proxies = Settings.from_env(key | {"PORTAL_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.5"})
    assert [str(n) for n in proxies.trusted_proxies] == ["10.0.0.0/8", "192.168.1.5/32"]
    with pytest.raises(SettingsError, match="PORTAL_TRUSTED_PROXIES"):
        Settings.from_env(key | {"PORTAL_TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"})
