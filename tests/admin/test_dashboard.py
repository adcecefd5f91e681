"""The dashboard: what is due by the deadlines of RULES §6, late items marked, in scope."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import time_machine

from portal.db import make_engine, session_scope
from portal.services.ledger import Finding, record_case
from portal.services.registry import Act
from tests.admin.conftest import Places

OFFICER = Act("liming", datetime(2025, 9, 19, 1, 0, tzinfo=UTC), "依法处理")


def _case(url: str, places: Places, no: str, day: date, points: int) -> None:
    engine = make_engine(url)
    with session_scope(engine, write=True) as session:
        record_case(
            session,
            OFFICER,
            institution_code=places.changsha_hospital,
            decision_type="agreement_action",
            legal_basis="服务协议第三十八条",
            document_no=no,
            decision_date=day,
            amount=None,
            findings=[Finding(places.changsha_doctor, points=points)],
            as_of=day,
        )
    engine.dispose()


async def test_it_lists_notices_to_issue_and_reports_due_late_in_red(
    as_user: Any, admin_url: str, places: Places
) -> None:
    _case(admin_url, places, "湘医保协〔2025〕31号", date(2025, 9, 19), 10)
    with time_machine.travel(datetime(2025, 10, 13, 2, 0, tzinfo=UTC), tick=False):
        site = await as_user("liming")
        page = await site.get("/admin/")
    text = page.text
    assert "出具处理通知书：湘医保协〔2025〕31号" in text
    assert "单次记分 10 分，上报并通报" in text and "Hunan-Rules Art. 16" in text
    # 5 working days after 19 Sep 2025 is 26 Sep: late on 13 Oct
    assert "2025-09-26（已逾期）" in text and 'class="late"' in text
    assert "National-Procedure Art. 31" in text


async def test_it_hides_other_regions(as_user: Any, admin_url: str, places: Places) -> None:
    _case(admin_url, places, "湘医保协〔2025〕32号", date(2025, 9, 19), 4)
    with time_machine.travel(datetime(2025, 9, 22, 2, 0, tzinfo=UTC), tick=False):
        site = await as_user("wangfang")
        page = await site.get("/admin/")
    assert page.status_code == 200 and "湘医保协〔2025〕32号" not in page.text


async def test_it_counts_registrations_by_city(as_user: Any) -> None:
    site = await as_user("zhoumin")
    page = await site.get("/admin/")
    assert "<td>4301</td><td>2</td>" in page.text and "<td>4306</td><td>1</td>" in page.text
