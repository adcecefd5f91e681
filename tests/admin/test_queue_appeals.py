"""The appeals queue: received appeals with their deadlines, escalation, the expert panel and
decisions with reasons (National-Procedure Art. 41-44; Hunan-Rules Art. 18-19; RULES I-13)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import time_machine
from sqlalchemy import func
from sqlmodel import Session, select

from portal.db import make_engine, session_scope
from portal.models import Appeal, AuditLog, LedgerEntry
from portal.services.appeals import file_appeal
from portal.services.ledger import Finding, record_case, status_on
from portal.services.registry import Act
from tests.admin.conftest import Places, log_in, post_form, token_in

OFFICE = Act("setup", datetime(2025, 5, 6, 2, 0, tzinfo=UTC), "依法处理")
CHANGSHA = Places().changsha_hospital


def _appeal(
    url: str, no: str, code: str, decided: date, received: date, points: int = 9,
    kind: str = "agreement_action", institution: str = CHANGSHA,
) -> int:  # fmt: skip
    """A case against one person, and their appeal received on ``received``."""
    engine = make_engine(url)
    with session_scope(engine, write=True) as session:
        record_case(
            session, OFFICE, institution_code=institution, decision_type=kind,
            legal_basis="服务协议第三十八条", document_no=no, decision_date=decided, amount=None,
            findings=[Finding(code, points=points)], as_of=decided,
        )  # fmt: skip
        appeal = file_appeal(
            session, OFFICE, decision_no=no, national_code=code, received_on=received
        )
        appeal_id = appeal.id or 0
    engine.dispose()
    return appeal_id


def _get(url: str, appeal_id: int) -> Appeal:
    engine = make_engine(url)
    with Session(engine) as session:
        appeal = session.get(Appeal, appeal_id)
        assert appeal is not None
    engine.dispose()
    return appeal


def _count(url: str, model: Any) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        n = int(session.exec(select(func.count()).select_from(model)).one())
    engine.dispose()
    return n


UPHELD = {"outcome": "upheld", "points": "3", "decided_on": "2025-06-05",
          "reason": "经核实，该医师为一般责任，更正为 3 分"}  # fmt: skip


async def _decision_form(site: Any, appeal_id: int) -> str:
    page = await site.get(f"/admin/appeals/{appeal_id}")
    assert page.status_code == 200
    assert f'action="/admin/appeals/{appeal_id}/decision"' in page.text
    return token_in(page.text)


async def test_it_lists_with_deadlines(site: Any, admin_url: str, places: Places) -> None:
    late = _appeal(admin_url, "湘医保协〔2025〕31号", places.changsha_doctor,
                   date(2025, 5, 6), date(2025, 5, 12))  # fmt: skip
    fresh = _appeal(admin_url, "湘医保协〔2025〕32号", places.changsha_nurse,
                    date(2025, 6, 3), date(2025, 6, 9), points=2)  # fmt: skip
    # 12 June 2025 in China: the first appeal's explanation was due on 26 May (10 working
    # days, Hunan-Rules Art. 18), the second's is due on 23 June.
    with time_machine.travel(datetime(2025, 6, 12, 2, 0, tzinfo=UTC), tick=False):
        await log_in(site, "liming")
        page = await site.get("/admin/queues/appeals")
        assert page.status_code == 200
        text = page.text
        assert "2025-05-26（已逾期）" in text
        assert "2025-06-23" in text and "2025-06-23（已逾期）" not in text
        assert text.index(f'id="appeal-{late}"') < text.index(f'id="appeal-{fresh}"')
        assert f'<tr id="appeal-{late}" class="late">' in text
        assert f'<tr id="appeal-{fresh}">' in text
        assert "张伟（D43010200001）" in text and "湘医保协〔2025〕31号" in text
        decided = await site.get("/admin/queues/appeals?state=decided")
        assert decided.status_code == 200 and f'id="appeal-{late}"' not in decided.text
        assert (await site.get("/admin/queues/appeals?state=all")).status_code == 400
        one = await site.get(f"/admin/queues/appeals?code={places.changsha_nurse}")
        assert f'id="appeal-{fresh}"' in one.text and f'id="appeal-{late}"' not in one.text


async def test_it_records_a_received_appeal(as_user: Any, admin_url: str, places: Places) -> None:
    engine = make_engine(admin_url)
    with session_scope(engine, write=True) as session:
        record_case(
            session, OFFICE, institution_code=CHANGSHA, decision_type="agreement_action",
            legal_basis="服务协议第三十八条", document_no="湘医保协〔2025〕33号",
            decision_date=date(2025, 5, 6), amount=None,
            findings=[Finding(places.changsha_doctor, points=9)], as_of=date(2025, 5, 6),
        )  # fmt: skip
    engine.dispose()
    site = await as_user("liming")
    token = token_in((await site.get("/admin/queues/appeals")).text)
    filed = await post_form(site, "/admin/appeals", {
        "decision_no": "湘医保协〔2025〕33号", "national_code": places.changsha_doctor,
        "received_on": "2025-05-12", "reason": "对记分有异议", "form_token": token,
    })  # fmt: skip
    assert filed.status_code == 303 and filed.headers["location"].startswith("/admin/appeals/")
    page = await site.get(filed.headers["location"])
    assert "2025-06-10" in page.text  # resolved within 20 working days (Art. 44)
    assert "对记分有异议" in page.text  # the history shows who and why
    assert _count(admin_url, Appeal) == 1


async def test_it_decides(as_user: Any, admin_url: str, places: Places) -> None:
    appeal_id = _appeal(admin_url, "湘医保协〔2025〕34号", places.changsha_doctor,
                        date(2025, 5, 6), date(2025, 5, 12))  # fmt: skip
    site = await as_user("liming")
    token = await _decision_form(site, appeal_id)
    done = await post_form(
        site, f"/admin/appeals/{appeal_id}/decision", {**UPHELD, "form_token": token}
    )
    assert done.status_code == 303 and done.headers["location"] == f"/admin/appeals/{appeal_id}"
    appeal = _get(admin_url, appeal_id)
    assert (appeal.state, appeal.outcome_points, appeal.decided_on) == (
        "upheld", 3, date(2025, 6, 5),
    )  # fmt: skip
    engine = make_engine(admin_url)
    with Session(engine) as session:
        corrected = status_on(session, places.changsha_doctor, date(2025, 6, 10))
        reasons = [a.reason for a in session.exec(select(AuditLog))
                   if a.action == "decide_appeal"]  # fmt: skip
    engine.dispose()
    assert (corrected.status, corrected.year_points) == ("normal", 3)  # from the start, I-13
    assert reasons == [UPHELD["reason"]]
    page = await site.get(f"/admin/appeals/{appeal_id}")
    assert "申诉成立" in page.text and UPHELD["reason"] in page.text
    assert f'action="/admin/appeals/{appeal_id}/decision"' not in page.text  # closed
    decided = await site.get("/admin/queues/appeals?state=decided")
    assert f'id="appeal-{appeal_id}"' in decided.text


async def test_it_escalates_and_pauses_for_an_expert_panel(
    as_user: Any, admin_url: str, places: Places
) -> None:
    appeal_id = _appeal(admin_url, "湘医保协〔2025〕35号", places.changsha_doctor,
                        date(2025, 5, 6), date(2025, 5, 12))  # fmt: skip
    site = await as_user("liming")
    page = await site.get(f"/admin/appeals/{appeal_id}")
    tokens = re.findall(r'name="form_token" value="([^"]+)"', page.text)
    panel = await post_form(site, f"/admin/appeals/{appeal_id}/expert-panel", {
        "panel_from": "2025-05-19", "panel_until": "2025-06-30", "reason": "需医学专家评估",
        "form_token": tokens[2],
    })  # fmt: skip
    assert panel.status_code == 303
    paused = _get(admin_url, appeal_id)
    assert paused.state == "expert_panel"
    assert paused.resolve_due is not None and paused.resolve_due > date(2025, 7, 20)
    escalate = await post_form(site, f"/admin/appeals/{appeal_id}/escalate", {
        "escalated_on": "2025-07-01", "reason": "x", "form_token": tokens[1],
    })  # fmt: skip
    assert escalate.status_code == 400 and "只有经办机构正在处理的申诉" in escalate.text

    other = _appeal(admin_url, "湘医保协〔2025〕36号", places.changsha_nurse,
                    date(2025, 5, 6), date(2025, 5, 12), points=3)  # fmt: skip
    token = token_in((await site.get(f"/admin/appeals/{other}")).text.split("提交行政部门</h3>")[1])
    sent = await post_form(site, f"/admin/appeals/{other}/escalate", {
        "escalated_on": "2025-05-27", "reason": "解释说明后仍有异议", "form_token": token,
    })  # fmt: skip
    assert sent.status_code == 303
    assert (_get(admin_url, other).state, _get(admin_url, other).escalated_on) == (
        "escalated", date(2025, 5, 27),
    )  # fmt: skip


async def test_the_administrative_department_decides_its_own_findings(
    site: Any, admin_url: str, places: Places
) -> None:
    penalty = _appeal(admin_url, "长医保罚〔2025〕5号", places.changsha_doctor, date(2025, 5, 6),
                      date(2025, 5, 12), kind="administrative_penalty")  # fmt: skip
    agreement = _appeal(admin_url, "湘医保协〔2025〕37号", places.changsha_nurse,
                        date(2025, 5, 6), date(2025, 5, 12), points=3)  # fmt: skip
    await log_in(site, "zhaoqiang")
    refused = await post_form(
        site, f"/admin/appeals/{agreement}/decision",
        {**UPHELD, "form_token": token_in((await site.get("/admin/queues/appeals")).text)},
    )  # fmt: skip
    assert refused.status_code == 403 and _get(admin_url, agreement).state == "received"
    token = await _decision_form(site, penalty)
    done = await post_form(site, f"/admin/appeals/{penalty}/decision", {
        "outcome": "rejected", "decided_on": "2025-06-05", "reason": "事实清楚，维持原决定",
        "form_token": token,
    })  # fmt: skip
    assert done.status_code == 303 and _get(admin_url, penalty).state == "rejected"


async def test_it_requires_csrf(as_user: Any, admin_url: str, places: Places) -> None:
    appeal_id = _appeal(admin_url, "湘医保协〔2025〕38号", places.changsha_doctor,
                        date(2025, 5, 6), date(2025, 5, 12))  # fmt: skip
    site = await as_user("liming")
    token = await _decision_form(site, appeal_id)
    without = await post_form(
        site, f"/admin/appeals/{appeal_id}/decision", {**UPHELD, "form_token": token},
        csrf=False,
    )  # fmt: skip
    assert without.status_code == 403
    assert _get(admin_url, appeal_id).state == "received"


async def test_it_hides_other_regions(as_user: Any, admin_url: str, places: Places) -> None:
    appeal_id = _appeal(admin_url, "湘医保协〔2025〕39号", places.changsha_doctor,
                        date(2025, 5, 6), date(2025, 5, 12))  # fmt: skip
    site = await as_user("wangfang")
    queue = await site.get("/admin/queues/appeals")
    assert queue.status_code == 200 and places.changsha_doctor not in queue.text
    assert (await site.get(f"/admin/appeals/{appeal_id}")).status_code == 404
    token = token_in(queue.text)
    answer = await post_form(
        site, f"/admin/appeals/{appeal_id}/decision", {**UPHELD, "form_token": token}
    )
    assert answer.status_code == 404 and _get(admin_url, appeal_id).state == "received"
    filed = await post_form(site, "/admin/appeals", {
        "decision_no": "湘医保协〔2025〕39号", "national_code": places.changsha_doctor,
        "received_on": "2025-05-13", "form_token": token,
    })  # fmt: skip
    assert filed.status_code == 400 and "未找到医保相关人员代码" in filed.text


async def test_auditor_cannot_post(as_user: Any, admin_url: str, places: Places) -> None:
    appeal_id = _appeal(admin_url, "湘医保协〔2025〕40号", places.changsha_doctor,
                        date(2025, 5, 6), date(2025, 5, 12))  # fmt: skip
    site = await as_user("sunli")
    page = await site.get(f"/admin/appeals/{appeal_id}")
    assert page.status_code == 200 and "/decision" not in page.text  # reads, no forms
    for path in ("decision", "escalate", "expert-panel"):
        answer = await post_form(
            site, f"/admin/appeals/{appeal_id}/{path}", {**UPHELD, "form_token": "t" * 20}
        )
        assert answer.status_code == 403
    filed = await post_form(site, "/admin/appeals", {"form_token": "t" * 20})
    assert filed.status_code == 403
    assert _get(admin_url, appeal_id).state == "received"


async def test_institution_admin_gives_only_the_first_step(
    as_user: Any, admin_url: str, places: Places
) -> None:
    """Appeals have no institution step: the hospital reads its people's appeals."""
    appeal_id = _appeal(admin_url, "湘医保协〔2025〕41号", places.changsha_doctor,
                        date(2025, 5, 6), date(2025, 5, 12))  # fmt: skip
    site = await as_user("liuyang")
    queue = await site.get("/admin/queues/appeals")
    assert f'id="appeal-{appeal_id}"' in queue.text and 'action="/admin/appeals"' not in queue.text
    page = await site.get(f"/admin/appeals/{appeal_id}")
    assert page.status_code == 200 and "/decision" not in page.text
    answer = await post_form(
        site, f"/admin/appeals/{appeal_id}/decision", {**UPHELD, "form_token": "t" * 20}
    )
    assert answer.status_code == 403 and _get(admin_url, appeal_id).state == "received"


async def test_a_double_submission_decides_once(
    as_user: Any, admin_url: str, places: Places
) -> None:
    appeal_id = _appeal(admin_url, "湘医保协〔2025〕42号", places.changsha_doctor,
                        date(2025, 5, 6), date(2025, 5, 12))  # fmt: skip
    site = await as_user("liming")
    token = await _decision_form(site, appeal_id)
    before = _count(admin_url, LedgerEntry)
    first = await post_form(
        site, f"/admin/appeals/{appeal_id}/decision", {**UPHELD, "form_token": token}
    )
    again = await post_form(
        site, f"/admin/appeals/{appeal_id}/decision",
        {**UPHELD, "points": "0", "form_token": token},
    )  # fmt: skip
    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == f"/admin/appeals/{appeal_id}"
    assert _count(admin_url, LedgerEntry) == before + 1  # one appeal outcome
    assert _get(admin_url, appeal_id).outcome_points == 3


async def test_bad_input_keeps_what_was_typed(as_user: Any, admin_url: str, places: Places) -> None:
    appeal_id = _appeal(admin_url, "湘医保协〔2025〕43号", places.changsha_doctor,
                        date(2025, 5, 6), date(2025, 5, 12))  # fmt: skip
    site = await as_user("liming")
    token = await _decision_form(site, appeal_id)
    bad = await post_form(site, f"/admin/appeals/{appeal_id}/decision", {
        "outcome": "upheld", "points": "3", "decided_on": "2025-6-31",
        "reason": "材料已核实，责任认定有误", "form_token": token,
    })  # fmt: skip
    assert bad.status_code == 400
    text = bad.text
    assert 'value="2025-6-31"' in text and "办结日期应为 YYYY-MM-DD 格式" in text
    assert 'id="decision-decided_on-error"' in text
    assert "材料已核实，责任认定有误</textarea>" in text
    assert 'value="upheld" required checked' in text and 'value="3"' in text
    no_reason = await post_form(site, f"/admin/appeals/{appeal_id}/decision", {
        "outcome": "upheld", "points": "15", "decided_on": "2025-06-05", "form_token": token,
    })  # fmt: skip
    assert no_reason.status_code == 400 and "请填写理由" in no_reason.text
    too_many = await post_form(
        site, f"/admin/appeals/{appeal_id}/decision", {**UPHELD, "points": "15",
                                                      "form_token": token},
    )  # fmt: skip
    assert too_many.status_code == 400 and "0 至 12 分" in too_many.text
    assert 'value="15"' in too_many.text
    assert _get(admin_url, appeal_id).state == "received"
    filed = await post_form(site, "/admin/appeals", {
        "decision_no": "湘医保协〔2025〕99号", "national_code": places.changsha_doctor,
        "received_on": "2025-05-12", "form_token": token,
    })  # fmt: skip
    assert filed.status_code == 400 and "未找到处理决定" in filed.text
    assert (
        'value="湘医保协〔2025〕99号"' in filed.text and 'id="file-decision_no-error"' in filed.text
    )
