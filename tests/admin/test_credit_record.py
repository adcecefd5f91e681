"""A subject's credit results on its admin record (Hunan-Credit Art. 13, 19, 31-32): the
practitioner and institution pages show the current result of each year to those who read
credit, within their scope (others get 404, as for the record itself)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from portal.db import make_engine
from portal.services import credit_evaluation as credit
from portal.services.registry import Act
from tests.admin.conftest import Places

ACT = Act("chenjing", datetime(2026, 1, 10, 2, 0, tzinfo=UTC), "年度信用评价")


def commit_2025(admin_url: str, publish: bool = False) -> None:
    engine = make_engine(admin_url)
    credit.commit(engine, ACT, 2025, "43", today=datetime(2026, 1, 10).date())
    if publish:
        credit.publish(engine, ACT, 2025, "43")
    engine.dispose()


async def test_before_any_evaluation_the_record_says_so(as_user: Any, places: Places) -> None:
    client = await as_user("chenjing")
    page = await client.get(f"/admin/practitioners/{places.changsha_doctor}")
    assert page.status_code == 200
    assert "信用评价" in page.text and "尚无信用评价结果" in page.text


async def test_the_year_result_shows_on_practitioner_and_institution_pages(
    as_user: Any, admin_url: str, places: Places
) -> None:
    commit_2025(admin_url)
    client = await as_user("liming")  # agency officer of 长沙 (4301): reads credit
    person = (await client.get(f"/admin/practitioners/{places.changsha_doctor}")).text
    # Registered on 1 March 2025: fund use shorter than the year (Art. 20(1)).
    assert "2025" in person and "不参加本期评价" in person and "不满一个评价年度" in person
    assert "已提交，未发布" in person
    place = (await client.get(f"/admin/institutions/{places.changsha_hospital}")).text
    assert 'id="credit"' in place and "2025" in place
    commit_2025(admin_url, publish=True)  # unchanged facts: the same result, now published
    place = (await client.get(f"/admin/institutions/{places.changsha_hospital}")).text
    assert "已发布" in place and "已随信用信息变化更新" not in place


async def test_each_role_within_its_scope(as_user: Any, admin_url: str, places: Places) -> None:
    commit_2025(admin_url)
    for username in ("chenjing", "zhaoqiang", "sunli", "zhoumin"):
        client = await as_user(username)
        page = await client.get(f"/admin/practitioners/{places.changsha_doctor}")
        assert page.status_code == 200 and 'id="credit"' in page.text, username
    own = await as_user("liuyang")  # institution administrator of the 长沙 hospital
    page = await own.get(f"/admin/institutions/{places.changsha_hospital}")
    assert page.status_code == 200 and 'id="credit"' in page.text
    other = await own.get(f"/admin/institutions/{places.yueyang_hospital}")
    assert other.status_code == 404 and "不参加本期评价" not in other.text
    outside = await as_user("wangfang")  # 岳阳 (4306): 长沙's records are not hers
    page = await outside.get(f"/admin/practitioners/{places.changsha_doctor}")
    assert page.status_code == 404 and 'id="credit"' not in page.text
    page = await outside.get(f"/admin/institutions/{places.yueyang_hospital}")
    assert page.status_code == 200 and 'id="credit"' in page.text
