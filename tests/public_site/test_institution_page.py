"""``GET /institutions/{code}``: an institution's practitioners and their statuses today,
paged (a hospital shows all its doctors, not the first 20); a page past the end and an
unknown code are 404 pages; the doctor's page links to it."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import text

from portal.clock import china_today
from portal.db import make_engine


def _busiest(demo_url: str) -> tuple[str, int]:
    engine = make_engine(demo_url)
    with engine.connect() as conn:
        code, count = conn.execute(
            text(
                "SELECT i.code, COUNT(DISTINCT r.practitioner_id) FROM institution i "
                "JOIN registration r ON r.institution_id = i.id WHERE r.registered_on <= :d "
                "AND (r.deregistered_on IS NULL OR r.deregistered_on > :d) "
                "GROUP BY i.code ORDER BY 2 DESC LIMIT 1"
            ),
            {"d": china_today().isoformat()},
        ).one()
    engine.dispose()
    return str(code), int(count)


async def test_an_institution_lists_all_its_practitioners_page_by_page(
    client: AsyncTestClient[Any], demo_url: str, codes: dict[str, str]
) -> None:
    code, count = _busiest(demo_url)
    assert count > 50  # the demo's busiest hospital needs more than one page
    first = await client.get(f"/institutions/{code}")
    assert first.status_code == 200 and f"共 {count} 人" in first.text
    assert "public" in first.headers["cache-control"]
    pages = -(-count // 50)
    seen: set[str] = set()
    for number in range(1, pages + 1):
        page = await client.get(f"/institutions/{code}?page={number}")
        found = set(re.findall(r'href="/practitioners/([A-Z0-9]+)"', page.text))
        assert found and not found & seen
        seen |= found
    assert len(seen) == count
    assert (await client.get(f"/institutions/{code}?page={pages + 1}")).status_code == 404
    missing = await client.get("/institutions/H43999999999")
    assert missing.status_code == 404 and "未找到定点医药机构" in missing.text
    assert (await client.get(f"/institutions/{code}?page=０")).status_code == 400
    doctor = await client.get(f"/practitioners/{codes['suspended']}")
    assert 'href="/institutions/' in doctor.text
