"""``GET /credit/a-grade``: the A-grade institutions of the latest published evaluation
(Hunan-Credit Art. 22, 31(1)); nothing before a year is published; no private data."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import AsyncTestClient

from portal.app import create_app
from portal.db import make_engine, session_scope, upgrade
from portal.services import credit_evaluation as credit
from portal.settings import Settings
from tests.portal.conftest import SECRET
from tests.portal.test_credit_evaluation import CREDIT, TODAY, build
from tests.public_site.conftest import UNLIMITED


async def test_the_list_shows_the_latest_published_year_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'credit.db'}"
    engine = make_engine(url)
    upgrade(engine, SECRET)
    with session_scope(engine, write=True) as session:
        w = build(session)
        for indicator in ("commendation", "assists_supervision"):
            credit.record_fact(session, CREDIT, 2025, "designated_pharmacy", w.pharmacy, indicator)
            credit.record_fact(session, CREDIT, 2025, "designated_hospital", w.yueyang, indicator)
        credit.record_consultation(session, CREDIT, 2025, w.yueyang, "同意")
    app = create_app(Settings(database_url=url, secret=SECRET), limits=UNLIMITED)
    async with AsyncTestClient(app=app) as client:
        before = await client.get("/credit/a-grade")
        assert before.status_code == 200 and "尚未发布年度信用评价结果" in before.text
        credit.commit(engine, CREDIT, 2025, None, today=TODAY)
        committed = await client.get("/credit/a-grade")
        assert "尚未发布年度信用评价结果" in committed.text  # committed is not published
        credit.publish(engine, CREDIT, 2025)
        page = await client.get("/credit/a-grade")
        assert page.status_code == 200
        assert "public" in page.headers["cache-control"]
        assert "2025 年度" in page.text and "岳阳市人民医院" in page.text
        assert w.yueyang in page.text and "岳阳市" in page.text
        # The pharmacy's penalty (−20) keeps it at 20 + 50 = 70: B, not listed.
        assert w.pharmacy not in page.text and "长沙市第一医院" not in page.text
        assert "110101" not in page.text and "1390" not in page.text
    engine.dispose()
