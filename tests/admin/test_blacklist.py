"""The blacklist in the admin, per role (DESIGN "Who sees what": credit — province_admin
all, credit_officer decides in its region, the other officers read, institution_admin its
own institution, auditor reads): the queue with its countdowns, the steps, the documents."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from portal.clock import china_today
from portal.db import make_engine, session_scope
from portal.services import blacklist
from portal.services.registry import Act
from tests.admin.conftest import Places, log_in, post_form, token_in

TODAY = china_today()
BASE = "/admin/credit/blacklist"


def seed(url: str, places: Places, noticed: bool = False) -> dict[str, int]:
    """A proposal for the Changsha nurse (due in 20 working days) and one in Yueyang."""
    engine = make_engine(url)
    at = Act("setup", datetime.now(UTC), "测试")
    ids = {}
    with session_scope(engine, write=True) as session:
        for name, code in (("changsha", places.changsha_nurse), ("yueyang", places.yueyang_doctor)):
            x = blacklist.propose(
                session, at, subject_kind="practitioner", subject_key=code,
                grounds="被终止医保支付资格", basis=blacklist.TERMINATED_BASIS,
                authority="长沙市医疗保障局", proposed_on=TODAY - timedelta(days=20),
                due_on=TODAY + timedelta(days=7),
            )  # fmt: skip
            if noticed:
                blacklist.issue_prior_notice(session, at, x.id or 0, on=TODAY - timedelta(days=14))
            ids[name] = x.id or 0
    engine.dispose()
    return ids


async def _step(client: AsyncTestClient[Any], listing_id: int, step: str, **data: str) -> Any:
    page = await client.get(f"{BASE}/{listing_id}")
    assert page.status_code == 200
    return await post_form(
        client, f"{BASE}/{listing_id}/{step}", {"form_token": token_in(page.text), **data}
    )


def pdf_text(content: bytes, tmp_path: Any) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(content)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8").replace(" ", "")


async def test_the_credit_officer_lists_a_subject_of_its_region(
    site: AsyncTestClient[Any], admin_url: str, places: Places, tmp_path: Any
) -> None:
    ids = seed(admin_url, places)
    await log_in(site, "chenjing")
    queue = await site.get(BASE)
    assert queue.status_code == 200 and "李娜" in queue.text and "王强" not in queue.text
    assert "剩 " in queue.text and "个工作日" in queue.text  # the 20-working-day countdown
    told = (TODAY - timedelta(days=14)).isoformat()
    assert (await _step(site, ids["changsha"], "notice", on=told)).status_code == 303
    notice = await site.get(f"{BASE}/{ids['changsha']}/notice.pdf")
    assert notice.headers["content-type"] == "application/pdf"
    text = pdf_text(notice.content, tmp_path)
    for part in ("事先告知书", "事由", "依据", "依法享有的权利", "异议期限"):
        assert part in text, part
    listed = await _step(site, ids["changsha"], "list", listed_on=TODAY.isoformat())
    assert listed.status_code == 303, listed.text[:500]
    decision = await site.get(f"{BASE}/{ids['changsha']}/decision.pdf")
    text = pdf_text(decision.content, tmp_path)
    for part in ("决定书", "事由", "依据", "失信惩戒措施提示", "移出条件和程序", "救济措施",
                 "10个工作日内", "行政复议"):  # fmt: skip
        assert part in text, part
    page = await site.get(f"{BASE}/{ids['changsha']}")
    assert "已列入" in page.text and (TODAY.replace(year=TODAY.year + 3)).isoformat() in page.text


async def test_a_listing_before_the_objection_period_ends_is_refused_with_the_form(
    site: AsyncTestClient[Any], admin_url: str, places: Places
) -> None:
    ids = seed(admin_url, places)
    await log_in(site, "chenjing")
    await _step(site, ids["changsha"], "notice", on=TODAY.isoformat())
    refused = await _step(site, ids["changsha"], "list", listed_on=TODAY.isoformat(),
                          document_no="长医保失信决〔2026〕1号")  # fmt: skip
    assert refused.status_code == 400 and "期满后方可作出列入决定" in refused.text
    assert "长医保失信决〔2026〕1号" in refused.text  # what was typed stays
    future = await _step(site, ids["changsha"], "objection", statement="不服",
                         received_on="2999-01-01")  # fmt: skip
    assert future.status_code == 400 and "不能晚于今天" in future.text


async def test_an_objection_is_recorded_and_answered(
    site: AsyncTestClient[Any], admin_url: str, places: Places
) -> None:
    ids = seed(admin_url, places, noticed=True)
    await log_in(site, "chenjing")
    got = (TODAY - timedelta(days=13)).isoformat()
    assert (await _step(site, ids["changsha"], "objection", statement="处理决定已撤销",
                        received_on=got)).status_code == 303  # fmt: skip
    page = await site.get(f"{BASE}/{ids['changsha']}")
    assert "处理决定已撤销" in page.text and "答复期限" in page.text
    answered = await _step(site, ids["changsha"], "answer", outcome="upheld",
                           answer="经核实，处理决定已撤销", on=TODAY.isoformat())  # fmt: skip
    assert answered.status_code == 303
    assert "已撤销" in (await site.get(f"{BASE}/{ids['changsha']}")).text


async def test_a_second_submission_of_one_form_does_nothing_twice(
    site: AsyncTestClient[Any], admin_url: str, places: Places
) -> None:
    ids = seed(admin_url, places)
    await log_in(site, "chenjing")
    page = await site.get(f"{BASE}/{ids['changsha']}")
    data = {"form_token": token_in(page.text), "on": TODAY.isoformat()}
    first = await post_form(site, f"{BASE}/{ids['changsha']}/notice", data)
    again = await post_form(site, f"{BASE}/{ids['changsha']}/notice", data)
    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == f"{BASE}/{ids['changsha']}"


async def test_out_of_region_listings_are_not_found(
    site: AsyncTestClient[Any], admin_url: str, places: Places
) -> None:
    ids = seed(admin_url, places)
    await log_in(site, "chenjing")
    assert (await site.get(f"{BASE}/{ids['yueyang']}")).status_code == 404
    page = await site.get(f"{BASE}/{ids['changsha']}")
    refused = await post_form(site, f"{BASE}/{ids['yueyang']}/notice",
                              {"form_token": token_in(page.text)})  # fmt: skip
    assert refused.status_code == 404
    assert (await site.get(f"{BASE}/{ids['yueyang']}/notice.pdf")).status_code == 404


async def test_read_roles_read_and_may_not_act(
    site: AsyncTestClient[Any], admin_url: str, places: Places
) -> None:
    ids = seed(admin_url, places)
    for user in ("liming", "zhaoqiang", "sunli", "liuyang"):
        await log_in(site, user)
        assert (await site.get(BASE)).status_code == 200, user
        page = await site.get(f"{BASE}/{ids['changsha']}")
        assert page.status_code == 200 and "出具事先告知书" not in page.text, user
        refused = await post_form(site, f"{BASE}/{ids['changsha']}/notice",
                                  {"form_token": "t" * 20})  # fmt: skip
        assert refused.status_code == 403, user
        assert (await site.get(f"{BASE}/new")).status_code == 403, user
    # The hospital's administrator sees its own practitioners only.
    assert (await site.get(f"{BASE}/{ids['yueyang']}")).status_code == 404
    await log_in(site, "zhoumin")  # the province: everything
    assert (await _step(site, ids["yueyang"], "notice", on=TODAY.isoformat())).status_code == 303


async def test_an_officer_proposes_an_institution_and_a_refusal_keeps_what_was_typed(
    site: AsyncTestClient[Any], places: Places
) -> None:
    await log_in(site, "chenjing")
    form = await site.get(f"{BASE}/new")
    assert form.status_code == 200
    data = {"form_token": token_in(form.text), "subject_kind": "designated_hospital",
            "subject_key": places.changsha_hospital, "grounds": "", "basis": "第三十三条",
            "authority": "长沙市医疗保障局"}  # fmt: skip
    refused = await post_form(site, f"{BASE}/new", data)
    assert (
        refused.status_code == 400 and "请填写事由" in refused.text and "第三十三条" in refused.text
    )
    form = await site.get(f"{BASE}/new")
    made = await post_form(site, f"{BASE}/new", {**data, "form_token": token_in(form.text),
                                                 "grounds": "造成医保基金重大损失"})  # fmt: skip
    assert made.status_code == 303 and made.headers["location"].startswith(f"{BASE}/")
    form = await site.get(f"{BASE}/new")
    other = await post_form(site, f"{BASE}/new", {**data, "form_token": token_in(form.text),
                                                  "subject_key": places.yueyang_hospital,
                                                  "grounds": "x"})  # fmt: skip
    assert other.status_code == 400 and "未找到信用主体" in other.text


async def test_the_dashboard_counts_down_the_listing(
    site: AsyncTestClient[Any], admin_url: str, places: Places
) -> None:
    seed(admin_url, places)
    await log_in(site, "chenjing")
    board = await site.get("/admin/")
    assert "纳入失信联合惩戒对象名单（剩 " in board.text and "李娜" in board.text
    assert "王强" not in board.text
