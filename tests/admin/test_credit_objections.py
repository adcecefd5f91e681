"""The objection screens (Hunan-Credit Art. 24) per role: the queue with due dates, late
ones red and on the dashboard; recording, answering, the written answer."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from litestar.testing import AsyncTestClient
from sqlmodel import select

from portal.credit_models import CreditItem, CreditObjection
from portal.db import make_engine, session_scope
from portal.services import credit_objections as objections
from portal.services.registry import Act
from tests.admin.conftest import Places, log_in, post_form, token_in

CREDIT = Act("chenjing", datetime(2025, 9, 26, 2, 0, tzinfo=UTC), "信用管理")
PATH = "/admin/credit/objections"


def seed(
    url: str, key: str, *, objection: bool = True, title: str = "行政处罚：虚构医药服务"
) -> tuple[int, int]:
    """A bad item on ``key``'s archive, and an open objection to it (filed 26 Sep 2025)."""
    engine = make_engine(url)
    with session_scope(engine, write=True) as session:
        item = CreditItem(subject_kind="practitioner", subject_key=key, category="administrative",
                          polarity="bad", source="supervision", title=title,
                          occurred_on=date(2025, 3, 3), **CREDIT.stamp())  # fmt: skip
        session.add(item)
        session.flush()
        found = 0
        if objection:
            found = objections.file_objection(
                session, CREDIT, item_id=item.id, subject_kind="practitioner", subject_key=key,
                ground="wrong", statement="处罚已被撤销", applicant="张伟",
                filed_on=date(2025, 9, 26),
            ).id or 0  # fmt: skip
        ids = (item.id or 0, found)
    engine.dispose()
    return ids


async def test_queue_per_role(
    site: AsyncTestClient[Any], admin_url: str, places: Places, as_user: Any
) -> None:
    _, mine = seed(admin_url, places.changsha_doctor)
    _, theirs = seed(admin_url, places.yueyang_doctor)
    anonymous = await site.get(PATH, follow_redirects=False)
    assert anonymous.status_code == 303 and "/admin/login" in anonymous.headers["location"]
    client = await as_user("chenjing")
    page = await client.get(PATH)
    assert page.status_code == 200
    assert f'href="{PATH}/{mine}"' in page.text and f'href="{PATH}/{theirs}"' not in page.text
    assert 'class="late"' in page.text and "2025-09-30" in page.text and "已逾期" in page.text
    assert (await client.get(f"{PATH}/{theirs}")).status_code == 404
    detail = await client.get(f"{PATH}/{mine}")
    assert "异议处理中" in detail.text and "处理并书面答复" in detail.text
    await log_in(site, "liuyang")  # the hospital's own people, read only
    page = await site.get(PATH)
    assert f'href="{PATH}/{mine}"' in page.text and f'href="{PATH}/{theirs}"' not in page.text
    assert "处理并书面答复" not in (await site.get(f"{PATH}/{mine}")).text
    await log_in(site, "wangfang")  # 岳阳
    page = await site.get(PATH)
    assert f'href="{PATH}/{theirs}"' in page.text and f'href="{PATH}/{mine}"' not in page.text
    await log_in(site, "sunli")
    assert f'href="{PATH}/{mine}"' in (await site.get(PATH)).text


async def test_recording_an_objection(
    site: AsyncTestClient[Any], admin_url: str, places: Places, as_user: Any
) -> None:
    item, _ = seed(admin_url, places.changsha_doctor, objection=False)
    client = await as_user("liming")  # agency officer: reads credit, does not decide
    assert (await client.get(f"{PATH}/new")).status_code == 403
    assert (await post_form(client, f"{PATH}/new", {"form_token": "x"})).status_code == 403
    await log_in(site, "chenjing")
    form = await site.get(f"{PATH}/new")
    assert form.status_code == 200
    fields = {"subject_kind": "practitioner", "subject_key": places.changsha_doctor,
              "item_id": str(item), "ground": "wrong", "statement": "处罚决定已被复议撤销",
              "applicant": "张伟", "filed_on": "2025-09-26",
              "form_token": token_in(form.text)}  # fmt: skip
    refused = await post_form(site, f"{PATH}/new", {**fields, "ground": ""})
    assert refused.status_code == 400 and "异议理由应为" in refused.text
    assert "处罚决定已被复议撤销" in refused.text  # what was typed stays
    elsewhere = await post_form(
        site, f"{PATH}/new", {**fields, "subject_key": places.yueyang_doctor}
    )
    assert elsewhere.status_code == 400 and "本辖区内未找到" in elsewhere.text
    done = await post_form(site, f"{PATH}/new", {**fields, "other_unit": "on"})
    assert done.status_code == 303
    again = await post_form(site, f"{PATH}/new", {**fields, "other_unit": "on"})
    assert again.headers["location"] == done.headers["location"]  # a double submit: once
    page = await site.get(done.headers["location"])
    assert "2025-10-10" in page.text and "需其他单位协助核查" in page.text


async def test_answering_and_the_written_answer(
    site: AsyncTestClient[Any], admin_url: str, places: Places, as_user: Any
) -> None:
    item, objection = seed(admin_url, places.changsha_doctor)
    target = f"{PATH}/{objection}"
    client = await as_user("liming")
    refused = await post_form(client, f"{target}/answer", {"upheld": "yes", "form_token": "t"})
    assert refused.status_code == 403
    await log_in(site, "chenjing")
    assert (await site.get(f"{target}/answer.pdf")).status_code == 404  # not answered yet
    token = token_in((await site.get(target)).text)
    fields = {"upheld": "yes", "answer": "经核实，处罚决定已被撤销。", "answered_on": "2025-09-29",
              "form_token": token}  # fmt: skip
    missing = await post_form(site, f"{target}/answer", fields)
    assert missing.status_code == 400 and "更正后的信息或撤销" in missing.text
    done = await post_form(site, f"{target}/answer", {**fields, "withdraw": "on"})
    assert done.status_code == 303
    page = await site.get(target)
    assert "异议成立" in page.text and "已撤销原信息" in page.text and "answer.pdf" in page.text
    pdf = await site.get(f"{target}/answer.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 5000
    await log_in(site, "wangfang")
    assert (await site.get(f"{target}/answer.pdf")).status_code == 404
    engine = make_engine(admin_url)
    with session_scope(engine) as session:
        row = session.get(CreditObjection, objection)
        assert row is not None and row.state == "upheld"
        newer = session.exec(select(CreditItem).where(CreditItem.supersedes_id == item)).one()
        assert newer.withdrawn
    engine.dispose()


async def test_late_objections_on_the_dashboard(
    site: AsyncTestClient[Any], admin_url: str, places: Places, as_user: Any
) -> None:
    seed(admin_url, places.changsha_doctor)
    client = await as_user("chenjing")
    board = await client.get("/admin/")
    assert "信用信息异议待处理" in board.text and "Hunan-Credit Art. 24" in board.text
    await log_in(site, "wangfang")
    assert "信用信息异议待处理" not in (await site.get("/admin/")).text
