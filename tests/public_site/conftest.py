"""One demo database for the public-site tests (SQLite), and a client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from portal.app import create_app
from portal.clock import china_today
from portal.db import make_engine, upgrade
from portal.models import Registration, table
from portal.services.demo import generate
from portal.services.verify import refresh_statuses
from portal.settings import RATE_LIMITS, Settings
from tests.portal.conftest import SECRET

UNLIMITED = {name: (10**9, window) for name, (_var, _n, window) in RATE_LIMITS.items()}


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path: Path = tmp_path_factory.mktemp("site") / "site.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    generate(engine, 3000, seed=11, as_of=china_today(), secret=SECRET)
    refresh_statuses(engine, china_today())
    engine.dispose()
    yield url


@pytest.fixture
async def client(demo_url: str) -> AsyncIterator[AsyncTestClient[Any]]:
    """The site with generous limits (the limits have tests of their own)."""
    app = create_app(Settings(database_url=demo_url, secret=SECRET), limits=UNLIMITED)
    async with AsyncTestClient(app=app) as c:
        yield c


@pytest.fixture(scope="session")
def codes(demo_url: str) -> dict[str, str]:
    """A national code per stored status (normal, suspended, terminated)."""
    engine = make_engine(demo_url)
    regs = table(Registration)
    people = {}
    with engine.connect() as conn:
        from portal.models import Practitioner

        p = table(Practitioner)
        for status in ("normal", "suspended", "terminated"):
            code = conn.execute(
                select(p.c.national_code)
                .join(regs, regs.c.practitioner_id == p.c.id)
                .where(regs.c.status == status)
                .limit(1)
            ).scalar_one()
            people[status] = code
    engine.dispose()
    return people
