"""The admin on a small registry of two cities, and its cast (STYLE.md):

- 李明 (``liming``), agency officer of 长沙市 (4301); 王芳 (``wangfang``), of 岳阳市 (4306);
- 赵强 (``zhaoqiang``), administrative-department officer of 长沙市;
- 陈静 (``chenjing``), credit officer of 长沙市;
- 刘洋 (``liuyang``), administrator of 长沙市第一医院 (H43010200001);
- 孙丽 (``sunli``), auditor; 周敏 (``zhoumin``), provincial administrator.

Each test gets its own copy of the database (made once), so tests that change things do
not see each other.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from portal.app import create_app
from portal.db import make_engine, session_scope, upgrade
from portal.identifiers import make_credit_code, make_resident_id
from portal.services.accounts import create_account
from portal.services.registrations import register
from portal.services.registry import Act, create_institution, create_practitioner
from portal.settings import Settings
from tests.portal.conftest import SECRET
from tests.public_site.conftest import UNLIMITED

PASSWORD = "Correct-Horse-Battery-9"
SETUP = Act("setup", datetime(2025, 3, 1, 1, 0, tzinfo=UTC), "测试数据")


@dataclass(frozen=True)
class Places:
    changsha_hospital: str = "H43010200001"
    changsha_pharmacy: str = "P43010300001"
    yueyang_hospital: str = "H43060200001"
    changsha_doctor: str = "D43010200001"
    changsha_nurse: str = "N43010200002"
    yueyang_doctor: str = "D43060200001"


CAST = {
    "liming": ("agency_officer", "4301", "", "李明"),
    "wangfang": ("agency_officer", "4306", "", "王芳"),
    "zhaoqiang": ("admin_officer", "4301", "", "赵强"),
    "chenjing": ("credit_officer", "4301", "", "陈静"),
    "liuyang": ("institution_admin", "", "H43010200001", "刘洋"),
    "sunli": ("auditor", "", "", "孙丽"),
    "zhoumin": ("province_admin", "", "", "周敏"),
}


def _build(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine, SECRET)
    p = Places()
    with session_scope(engine, write=True) as session:
        for code, name, region, kind, n in (
            (p.changsha_hospital, "长沙市第一医院", "430102", "hospital", "MB1A00001"),
            (p.changsha_pharmacy, "老百姓大药房长沙店", "430103", "pharmacy", "MA4L00001"),
            (p.yueyang_hospital, "岳阳市人民医院", "430602", "hospital", "MB1A00009"),
        ):
            create_institution(
                session, SETUP, code=code, name=name, kind=kind, region=region,
                credit_code=make_credit_code(region, n), ownership="public",
            )  # fmt: skip
        for code, name, region, born, where in (
            (p.changsha_doctor, "张伟", "430102", date(1980, 5, 17), p.changsha_hospital),
            (p.changsha_nurse, "李娜", "430102", date(1990, 2, 3), p.changsha_hospital),
            (p.yueyang_doctor, "王强", "430602", date(1977, 8, 9), p.yueyang_hospital),
        ):
            create_practitioner(
                session, SETUP, national_code=code, name=name, secret=SECRET,
                id_number=make_resident_id(region, born, 3, "male"), phone="13907310001",
            )  # fmt: skip
            register(
                session, SETUP, national_code=code, institution_code=where,
                registered_on=date(2025, 3, 1), commitment_signed_on=date(2025, 3, 1),
            )  # fmt: skip
        for username, (role, region, institution, name) in CAST.items():
            create_account(
                session, SETUP, username=username, role=role, password=PASSWORD, region=region,
                institution=institution, display_name=name,
            )  # fmt: skip
    engine.dispose()


@pytest.fixture(scope="session")
def admin_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("admin") / "template.db"
    _build(f"sqlite:///{path}")
    return path


@pytest.fixture
def admin_url(admin_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "admin.db"
    shutil.copy(admin_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def places() -> Places:
    return Places()


@pytest.fixture
async def site(admin_url: str) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(Settings(database_url=admin_url, secret=SECRET), limits=UNLIMITED)
    async with AsyncTestClient(app=app) as client:
        yield client


def csrf_of(client: AsyncTestClient[Any]) -> str:
    token = client.cookies.get("csrftoken")
    assert token, "a page was fetched first, so the CSRF cookie is set"
    return str(token)


async def post_form(
    client: AsyncTestClient[Any], path: str, data: dict[str, Any], csrf: bool = True
) -> Any:
    """Submit a form as the browser does: the page first (CSRF cookie), then the POST."""
    if not client.cookies.get("csrftoken"):
        await client.get("/admin/login")
    body = {**data, "_csrf_token": csrf_of(client)} if csrf else dict(data)
    return await client.post(path, data=body, follow_redirects=False)


async def log_in(client: AsyncTestClient[Any], username: str, password: str = PASSWORD) -> Any:
    await client.get("/admin/login")
    response = await post_form(client, "/admin/login", {"username": username, "password": password})
    assert response.status_code == 303, response.text[:300]
    return response


def token_in(html: str, name: str = "form_token") -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found, f"the form carries {name}"
    return found.group(1)


@pytest.fixture
async def as_user(site: AsyncTestClient[Any]) -> Any:
    """``await as_user("liming")`` logs the cast member in on the test's client."""

    async def login(username: str) -> AsyncTestClient[Any]:
        await log_in(site, username)
        return site

    return login
