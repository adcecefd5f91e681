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


# --- review fixes ----------------------------------------------------------------------


def listed_both(url: str, places: Places) -> dict[str, int]:
    """Both proposals noticed two weeks ago and listed today."""
    ids = seed(url, places, noticed=True)
    engine = make_engine(url)
    at = Act("setup", datetime(TODAY.year, TODAY.month, TODAY.day, 4, tzinfo=UTC), "测试")
    with session_scope(engine, write=True) as session:
        for listing_id in ids.values():
            blacklist.list_subject(session, at, listing_id, listed_on=TODAY)
    engine.dispose()
    return ids


def _events(url: str, listing_id: int) -> list[str]:
    engine = make_engine(url)
    with session_scope(engine) as session:
        kinds = [e.type for e in blacklist.events_of(session, listing_id)]
    engine.dispose()
    return kinds


async def test_a_credit_officer_corrects_a_listing_of_its_region(
    site: AsyncTestClient[Any], admin_url: str, places: Places
) -> None:
    ids = listed_both(admin_url, places)
    await log_in(site, "chenjing")
    page = await site.get(f"{BASE}/{ids['changsha']}")
    assert 'action="/admin/credit/blacklist/' + str(ids["changsha"]) + '/correct"' in page.text
    bad = await _step(site, ids["changsha"], "correct", grounds="更正\x00事由", reason="笔误")
    assert bad.status_code == 400 and "含有不允许的控制字符" in bad.text and "更正" in bad.text
    assert _events(admin_url, ids["changsha"]) == ["listed"]
    none = await _step(site, ids["changsha"], "correct", reason="笔误")
    assert none.status_code == 400 and "没有需要更正的内容" in none.text
    done = await _step(site, ids["changsha"], "correct", grounds="更正后的事由",
                       document_no="长医保失信决〔2026〕1号", reason="文号笔误")  # fmt: skip
    assert done.status_code == 303
    assert _events(admin_url, ids["changsha"]) == ["listed", "corrected"]
    shown = (await site.get(f"{BASE}/{ids['changsha']}")).text
    assert "更正后的事由" in shown and "长医保失信决〔2026〕1号" in shown
    wrong = {"form_token": token_in(page.text), "grounds": "x", "reason": "x"}
    refused = await post_form(site, f"{BASE}/{ids['yueyang']}/correct", wrong)
    assert refused.status_code == 404
    for user in ("liming", "zhaoqiang", "sunli", "liuyang"):
        await log_in(site, user)
        assert "/correct" not in (await site.get(f"{BASE}/{ids['changsha']}")).text, user
        wrong = {"form_token": "t" * 20, "grounds": "x", "reason": "x"}
        refused = await post_form(site, f"{BASE}/{ids['changsha']}/correct", wrong)
        assert refused.status_code == 403, user
    await log_in(site, "zhoumin")
    assert (await _step(site, ids["yueyang"], "correct", basis="更正后的依据",
                        reason="依据更正")).status_code == 303  # fmt: skip
    assert _events(admin_url, ids["yueyang"]) == ["listed", "corrected"]


async def test_control_characters_in_a_proposal_are_refused_at_the_field(
    site: AsyncTestClient[Any], admin_url: str, places: Places
) -> None:
    await log_in(site, "chenjing")
    form = await site.get(f"{BASE}/new")
    data = {"form_token": token_in(form.text), "subject_kind": "designated_hospital",
            "subject_key": places.changsha_hospital, "grounds": "造成\x00重大损失",
            "basis": "第三十三条", "authority": "长沙市医疗保障局"}  # fmt: skip
    refused = await post_form(site, f"{BASE}/new", data)
    assert refused.status_code == 400 and "含有不允许的控制字符" in refused.text
    assert 'id="new-grounds-error"' in refused.text
    long = await post_form(site, f"{BASE}/new", {**data, "grounds": "长" * 4001})
    assert long.status_code == 400 and "最多 4000 个字符" in long.text
    assert "长沙市第一医院" not in (await site.get(BASE)).text


async def test_the_second_submission_of_a_new_proposal_lands_on_the_listing(
    site: AsyncTestClient[Any], places: Places
) -> None:
    await log_in(site, "chenjing")
    form = await site.get(f"{BASE}/new")
    data = {"form_token": token_in(form.text), "subject_kind": "designated_hospital",
            "subject_key": places.changsha_hospital, "grounds": "造成医保基金重大损失",
            "basis": "第三十三条", "authority": "长沙市医疗保障局"}  # fmt: skip
    first = await post_form(site, f"{BASE}/new", data)
    again = await post_form(site, f"{BASE}/new", data)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"].startswith(f"{BASE}/")
    assert again.headers["location"] == first.headers["location"]


def _terminate_both(url: str, places: Places) -> None:
    from portal.services.ledger import Finding, record_case
    from portal.services.notices import issue_notice

    engine = make_engine(url)
    at = Act("setup", datetime.now(UTC), "测试")
    day = TODAY - timedelta(days=10)
    with session_scope(engine, write=True) as session:
        pairs = ((places.changsha_hospital, places.changsha_nurse),
                 (places.yueyang_hospital, places.yueyang_doctor))  # fmt: skip
        for n, (place, code) in enumerate(pairs):
            no = f"湘医保协〔{day.year}〕9{n}号"
            record_case(session, at, institution_code=place, decision_type="agreement_action",
                        legal_basis="服务协议第三十八条", document_no=no, decision_date=day,
                        amount=None, findings=[Finding(code, points=12)], as_of=day)  # fmt: skip
            issue_notice(session, at, decision_no=no, national_code=code,
                         issued_on=day + timedelta(days=1))  # fmt: skip
    engine.dispose()


async def test_propose_terminated_by_a_city_officer_proposes_its_region_only(
    site: AsyncTestClient[Any], admin_url: str, places: Places
) -> None:
    _terminate_both(admin_url, places)
    await log_in(site, "chenjing")
    page = await site.get(BASE)
    made = await post_form(site, f"{BASE}/propose-terminated", {"form_token": token_in(page.text)})
    assert made.status_code == 303
    await log_in(site, "zhoumin")
    queue = (await site.get(BASE)).text
    proposed = queue.split('id="proposed"')[1].split("</section>")[0]
    assert places.changsha_nurse in proposed and places.yueyang_doctor not in proposed
    page = await site.get(BASE)
    await post_form(site, f"{BASE}/propose-terminated", {"form_token": token_in(page.text)})
    proposed = (await site.get(BASE)).text.split('id="proposed"')[1].split("</section>")[0]
    assert places.yueyang_doctor in proposed


async def test_an_open_objection_shows_on_the_queue_and_the_listing(
    site: AsyncTestClient[Any], admin_url: str, places: Places
) -> None:
    from portal.credit_models import BlacklistListing
    from portal.services import credit_objections

    ids = listed_both(admin_url, places)
    await log_in(site, "chenjing")
    assert "异议处理中" not in (await site.get(f"{BASE}/{ids['changsha']}")).text
    engine = make_engine(admin_url)
    with session_scope(engine, write=True) as session:
        listing = session.get(BlacklistListing, ids["changsha"])
        assert listing is not None
        credit_objections.file_objection(
            session, Act("setup", datetime.now(UTC), "测试"), item_id=listing.item_id,
            subject_kind="practitioner", subject_key=places.changsha_nurse, ground="wrong",
            statement="处理决定已被复议撤销", applicant="本人", filed_on=TODAY,
        )  # fmt: skip
    engine.dispose()
    assert "异议处理中" in (await site.get(f"{BASE}/{ids['changsha']}")).text
    listed_ = (await site.get(BASE)).text.split('id="listed"')[1].split("</section>")[0]
    assert listed_.count("异议处理中") == 1
