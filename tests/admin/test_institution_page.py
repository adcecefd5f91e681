"""The institution page: its staff, their points and statuses, what it must publish within
one working day (Hunan-Rules Art. 11) and the printable notice-board sheet."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine

from portal.identifiers import make_resident_id, mask_id
from scoring.deadlines import due_date
from scoring.rulesets import practitioner_ruleset
from tests.admin.conftest import Places
from tests.admin.test_practitioner_page import give_points, notify

NOW = datetime(2025, 7, 15, 2, 0, tzinfo=UTC)
CASE = "湘医保协〔2025〕9号"


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def suspended(admin_url: str, places: Places) -> str:
    """张伟 suspended from 1 June to 30 September 2025; the notice received on 13 June."""
    give_points(admin_url, places.changsha_doctor, 10, date(2025, 5, 12), CASE,
                places.changsha_hospital)  # fmt: skip
    give_points(admin_url, places.changsha_nurse, 2, date(2025, 6, 3), "湘医保协〔2025〕10号",
                places.changsha_hospital)  # fmt: skip
    return notify(admin_url, places.changsha_doctor, CASE, date(2025, 6, 12), date(2025, 6, 13))


async def test_it_lists_staff_with_points_and_statuses(
    frozen: None, suspended: str, as_user: Any, places: Places
) -> None:
    site = await as_user("liming")
    page = await site.get(f"/admin/institutions/{places.changsha_hospital}")
    assert page.status_code == 200
    text = page.text
    assert "长沙市第一医院" in text and "张伟" in text and "李娜" in text
    assert "在岗登记备案 2 人：正常 1，暂停 1" in text
    assert text.index("张伟") < text.index("李娜")  # the restricted first
    assert "10 分" in text and "2 分" in text and "至 2025-09-30" in text
    only = await site.get(f"/admin/institutions/{places.changsha_hospital}?status=restricted")
    assert "张伟" in only.text and places.changsha_nurse not in only.text


async def test_it_says_what_to_publish_and_by_when(
    frozen: None, suspended: str, as_user: Any, places: Places
) -> None:
    site = await as_user("liuyang")
    text = (await site.get(f"/admin/institutions/{places.changsha_hospital}")).text
    due = due_date(practitioner_ruleset("hunan-2025"), "institution_publish", date(2025, 6, 13))
    assert due.due == date(2025, 6, 16)  # received on a Friday: the next working day
    assert suspended in text and "2025-06-16 前" in text and "Hunan-Rules Art. 11" in text
    assert "暂停 2025-06-01 至 2025-09-30" in text and "期限已过，请确认已公开" in text


async def test_the_notice_board_sheet_prints(
    frozen: None, suspended: str, as_user: Any, places: Places
) -> None:
    site = await as_user("liuyang")
    page = await site.get(f"/admin/institutions/{places.changsha_hospital}/notice-board")
    assert page.status_code == 200
    text = page.text
    assert "医保支付资格暂停、终止人员公示" in text and "张伟" in text and suspended in text
    assert "暂停，2025-06-01 至 2025-09-30" in text and "急诊、抢救除外" in text
    assert "李娜" not in text  # 2 points: nothing to publish
    born = make_resident_id("430102", date(1980, 5, 17), 3, "male")
    assert mask_id(born) not in text and "13907310001" not in text  # nothing private


async def test_it_hides_other_regions(frozen: None, as_user: Any, places: Places) -> None:
    site = await as_user("wangfang")
    assert (await site.get(f"/admin/institutions/{places.changsha_hospital}")).status_code == 404
    board = await site.get(f"/admin/institutions/{places.changsha_hospital}/notice-board")
    assert board.status_code == 404
    assert (await site.get(f"/admin/institutions/{places.yueyang_hospital}")).status_code == 200
    assert (await site.get("/admin/institutions/H43999999999")).status_code == 404


async def test_institution_admin_sees_only_its_staff(
    frozen: None, as_user: Any, places: Places
) -> None:
    site = await as_user("liuyang")
    own = await site.get(f"/admin/institutions/{places.changsha_hospital}")
    assert own.status_code == 200 and "王强" not in own.text
    for other in (places.changsha_pharmacy, places.yueyang_hospital):
        assert (await site.get(f"/admin/institutions/{other}")).status_code == 404
    assert (await site.get(f"/admin/practitioners/{places.yueyang_doctor}")).status_code == 404


async def test_a_page_past_the_last_is_404(frozen: None, as_user: Any, places: Places) -> None:
    site = await as_user("zhoumin")
    path = f"/admin/institutions/{places.changsha_hospital}"
    assert (await site.get(path + "?page=2")).status_code == 404
    assert (await site.get(path + "?page=x")).status_code == 400
