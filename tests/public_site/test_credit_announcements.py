"""``GET /credit/announcements``: published results announced with how to query them
(Hunan-Credit Art. 22-23): counts only, nothing before publication, no names."""

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


async def test_a_published_year_is_announced_with_its_counts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'credit.db'}"
    engine = make_engine(url)
    upgrade(engine, SECRET)
    with session_scope(engine, write=True) as session:
        w = build(session)
        credit.record_consultation(session, CREDIT, 2025, w.yueyang, "同意")
    app = create_app(Settings(database_url=url, secret=SECRET), limits=UNLIMITED)
    async with AsyncTestClient(app=app) as client:
        before = await client.get("/credit/announcements")
        assert before.status_code == 200 and "尚未发布年度信用评价结果" in before.text
        assert "湘医保" in before.text  # how to query is said even before a year is out
        summary = credit.commit(engine, CREDIT, 2025, None, today=TODAY)
        assert "2025 年度" not in (await client.get("/credit/announcements")).text
        credit.publish(engine, CREDIT, 2025)
        page = await client.get("/credit/announcements")
        assert page.status_code == 200 and "public" in page.headers["cache-control"]
        assert "2025 年度 · 湖南省（43）" in page.text
        assert f"参评 {summary.total} 个信用主体" in page.text
        grades = summary.counts()["grades"]
        assert sum(grades.values()) > 0
        row = "".join(f"<td>{grades[g]}</td>" for g in "ABCD")
        assert f"<td>数量</td>{row}" in page.text
        # Counts, not names: no institution or practitioner is named here.
        assert "岳阳市人民医院" not in page.text and w.yueyang not in page.text
        assert 'href="/credit/a-grade"' in page.text
        a_grade = await client.get("/credit/a-grade")
        assert 'href="/credit/announcements"' in a_grade.text
    engine.dispose()
