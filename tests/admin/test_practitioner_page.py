"""The practitioner page: registrations, the year's points case by case, periods and the
chart; the actions the role allows; private data only after a stated purpose, each look in
the query log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from sqlmodel import Session, select

from portal.db import make_engine, session_scope
from portal.identifiers import make_credit_code, make_resident_id, mask_id
from portal.models import Practitioner, QueryLog
from portal.services.ledger import Finding, record_case
from portal.services.notices import issue_notice, record_delivery
from portal.services.registrations import register
from portal.services.registry import Act, create_institution, create_practitioner
from tests.admin.conftest import Places, post_form
from tests.portal.conftest import SECRET

NOW = datetime(2025, 7, 15, 2, 0, tzinfo=UTC)  # 10:00 in China
OFFICER = Act("liming", datetime(2025, 5, 12, 2, 0, tzinfo=UTC), "依法处理")
ZHANG_ID = make_resident_id("430102", date(1980, 5, 17), 3, "male")  # as conftest made it


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def give_points(url: str, code: str, points: int, day: date, no: str, where: str) -> None:
    engine = make_engine(url)
    with session_scope(engine, write=True) as session:
        record_case(
            session, OFFICER, institution_code=where, decision_type="agreement_action",
            legal_basis="服务协议第三十八条", document_no=no, decision_date=day, amount=None,
            findings=[Finding(code, points=points)], as_of=day,
        )  # fmt: skip
    engine.dispose()


def notify(url: str, code: str, no: str, issued: date, delivered: date) -> str:
    engine = make_engine(url)
    with session_scope(engine, write=True) as session:
        notice = issue_notice(
            session, OFFICER, decision_no=no, national_code=code, issued_on=issued
        ).notice
        record_delivery(session, OFFICER, notice.document_no, delivered, "长沙市第一医院医保办")
        number = notice.document_no
    engine.dispose()
    return number


def queries(url: str) -> list[QueryLog]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = list(session.exec(select(QueryLog).order_by(QueryLog.id)))  # type: ignore[arg-type]
    engine.dispose()
    return rows


async def test_it_shows_points_and_periods(
    frozen: None, as_user: Any, admin_url: str, places: Places
) -> None:
    give_points(admin_url, places.changsha_doctor, 10, date(2025, 5, 12), "湘医保协〔2025〕7号",
                places.changsha_hospital)  # fmt: skip
    notify(admin_url, places.changsha_doctor, "湘医保协〔2025〕7号", date(2025, 5, 13),
           date(2025, 5, 14))  # fmt: skip
    site = await as_user("liming")
    page = await site.get(f"/admin/practitioners/{places.changsha_doctor}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    assert "张伟" in text and "长沙市第一医院" in text and "2025-03-01" in text  # registration
    assert "湘医保协〔2025〕7号" in text and "<strong>10 分</strong>" in text  # the case
    assert "服务协议第三十八条" in text  # its article
    # One case of 10: suspended for 4 months from the next month (Hunan-Rules Art. 9(2)).
    assert "自 2025-06-01 至 2025-09-30" in text
    assert "单次记分达到10分的，从次月起暂停医保支付资格4个月" in text
    # Deadlines: the appeal 10 working days after receipt, publication the next working day.
    assert "提出申诉：2025-05-28 前" in text and "机构公开暂停、终止情况：2025-05-15 前" in text
    assert "暂停" in text and "<svg" in text and 'class="total"' in text
    assert text.count('class="threshold"') == 4
    assert 'class="band band-suspension"' in text
    assert "截至 7月15日 累计 10 分" in text
    assert " style=" not in text.split("<main", 1)[1]  # the strict CSP: no inline style
    assert mask_id(ZHANG_ID) not in text and "13907310001" not in text


async def test_it_hides_other_regions(frozen: None, as_user: Any, places: Places) -> None:
    site = await as_user("wangfang")  # 岳阳
    assert (await site.get(f"/admin/practitioners/{places.changsha_doctor}")).status_code == 404
    assert (await site.get(f"/admin/practitioners/{places.yueyang_doctor}")).status_code == 200
    assert (await site.get("/admin/practitioners/D43019999999")).status_code == 404
    refused = await post_form(
        site, f"/admin/practitioners/{places.changsha_doctor}/private",
        {"purpose": "核查申诉材料", "what": "private_data"},
    )  # fmt: skip
    assert refused.status_code == 404


async def test_private_data_needs_a_purpose_and_is_logged(
    frozen: None, as_user: Any, admin_url: str, places: Places
) -> None:
    site = await as_user("liming")
    path = f"/admin/practitioners/{places.changsha_doctor}"
    first = await site.get(path)
    assert mask_id(ZHANG_ID) not in first.text and "说明目的并查看" in first.text
    without = await post_form(site, path + "/private", {"purpose": "看看", "what": "private_data"})
    assert without.status_code == 400 and "请说明查询目的" in without.text
    assert ">看看</textarea>" in without.text  # what was typed stays
    assert mask_id(ZHANG_ID) not in without.text and queries(admin_url) == []
    purpose = "核查申诉材料（湘医保申〔2025〕3号）"
    seen = await post_form(
        site, path + "/private", {"purpose": purpose, "what": ["private_data", "full_history"]}
    )
    assert seen.status_code == 200
    assert mask_id(ZHANG_ID) in seen.text and ZHANG_ID not in seen.text
    assert "1980-05-17" in seen.text and "13907310001" in seen.text
    assert "完整记分与处理记录" in seen.text and "已记入查询日志" in seen.text
    logged = queries(admin_url)
    assert [(q.actor, q.subject, q.what) for q in logged] == [
        ("liming", places.changsha_doctor, "private_data"),
        ("liming", places.changsha_doctor, "full_history"),
    ]
    assert logged[0].purpose == purpose
    again = await site.get(path)  # for that response only
    assert mask_id(ZHANG_ID) not in again.text and "13907310001" not in again.text


async def test_institution_admin_never_sees_private_data(
    frozen: None, as_user: Any, admin_url: str, places: Places
) -> None:
    site = await as_user("liuyang")
    page = await site.get(f"/admin/practitioners/{places.changsha_doctor}")
    assert page.status_code == 200 and "说明目的并查看" not in page.text
    assert "您的角色不能查看非公开个人信息" in page.text
    refused = await post_form(
        site, f"/admin/practitioners/{places.changsha_doctor}/private",
        {"purpose": "核查申诉材料", "what": "private_data"},
    )  # fmt: skip
    assert refused.status_code == 403 and queries(admin_url) == []
    assert (await site.get(f"/admin/practitioners/{places.yueyang_doctor}")).status_code == 404


async def test_auditor_cannot_post(frozen: None, as_user: Any, places: Places) -> None:
    site = await as_user("sunli")
    page = await site.get(f"/admin/practitioners/{places.changsha_doctor}")
    assert page.status_code == 200 and "录入案件" not in page.text  # read only
    refused = await post_form(
        site, f"/admin/practitioners/{places.changsha_doctor}/private",
        {"purpose": "核查申诉材料", "what": "private_data"},
    )  # fmt: skip
    assert refused.status_code == 403


async def test_it_requires_csrf(frozen: None, as_user: Any, admin_url: str, places: Places) -> None:
    site = await as_user("liming")
    refused = await post_form(
        site, f"/admin/practitioners/{places.changsha_doctor}/private",
        {"purpose": "核查申诉材料", "what": "private_data"}, csrf=False,
    )  # fmt: skip
    assert refused.status_code == 403 and queries(admin_url) == []


async def test_it_offers_the_actions_the_role_allows(
    frozen: None, as_user: Any, places: Places
) -> None:
    site = await as_user("liming")
    text = (await site.get(f"/admin/practitioners/{places.changsha_doctor}")).text
    assert f'href="/admin/cases/new?code={places.changsha_doctor}"' in text
    assert f'href="/admin/queues/appeals?code={places.changsha_doctor}"' in text
    assert "缩减暂停、终止期限" not in text  # Hunan has no shortening
    assert re.search(r'href="/admin/registrations/\d+/deregister"', text)
    credit = await as_user("chenjing")
    text = (await credit.get(f"/admin/practitioners/{places.changsha_doctor}")).text
    assert "/admin/cases/new" not in text and "/deregister" not in text


async def test_an_id_awaiting_reentry_shows_so(
    frozen: None, as_user: Any, admin_url: str, places: Places
) -> None:
    engine = make_engine(admin_url)
    with session_scope(engine, write=True) as session:  # as migration 0005 leaves old rows
        person = session.exec(
            select(Practitioner).where(Practitioner.national_code == places.changsha_nurse)
        ).one()
        person.id_number_sealed, person.birth_date_sealed, person.id_reentry = None, None, True
        session.add(person)
    engine.dispose()
    site = await as_user("liming")
    path = f"/admin/practitioners/{places.changsha_nurse}"
    assert "待重新录入" in (await site.get(path)).text
    seen = await post_form(
        site, path + "/private", {"purpose": "核对登记信息", "what": "private_data"}
    )
    assert seen.status_code == 200 and "<td>待重新录入</td>" in seen.text


async def test_hainan_offers_shortening_to_who_decides(
    frozen: None, as_user: Any, admin_url: str
) -> None:
    engine = make_engine(admin_url)
    with session_scope(engine, write=True) as session:
        create_institution(
            session, OFFICER, code="H46010500001", name="海口市人民医院", kind="hospital",
            region="460105", credit_code=make_credit_code("460105", "MB1A00003"),
            ownership="public",
        )  # fmt: skip
        create_practitioner(
            session, OFFICER, national_code="D46010500001", name="符海", secret=SECRET,
            id_number=make_resident_id("460105", date(1982, 3, 4), 5, "male"),
        )  # fmt: skip
        register(
            session, OFFICER, national_code="D46010500001", institution_code="H46010500001",
            registered_on=date(2025, 4, 1), commitment_signed_on=date(2025, 4, 1),
        )  # fmt: skip
    engine.dispose()
    give_points(
        admin_url, "D46010500001", 9, date(2025, 6, 2), "琼医保协〔2025〕5号", "H46010500001"
    )
    site = await as_user("zhoumin")
    text = (await site.get("/admin/practitioners/D46010500001")).text
    assert "暂停" in text and 'href="/admin/shortening/new?code=D46010500001"' in text
    await post_form(site, "/admin/logout", {})
    auditor = await as_user("sunli")
    assert (
        "/admin/shortening/new" not in (await auditor.get("/admin/practitioners/D46010500001")).text
    )
