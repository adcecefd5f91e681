"""Issuing notices, their print page and PDFs, delivery (admin/notices.py).

The cast is tests/admin/conftest.py's: 李明 (liming) of 长沙市's agency issues; 王芳
(wangfang) of 岳阳市 does not see 长沙市's notices; 赵强 (zhaoqiang) of the administrative
department records penalties; 孙丽 (sunli) the auditor only reads; 刘洋 (liuyang) runs
长沙市第一医院.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from litestar.testing import AsyncTestClient
from pypdf import PdfReader
from sqlmodel import Session, select

from portal.db import make_engine, session_scope
from portal.identifiers import make_credit_code, make_resident_id
from portal.models import LedgerEntry, Notice, QueryLog
from portal.services.ledger import Finding, record_case
from portal.services.registrations import register
from portal.services.registry import Act, create_institution, create_practitioner
from tests.admin.conftest import Places, post_form, token_in
from tests.portal.conftest import SECRET

OFFICER = Act("liming", datetime(2025, 9, 19, 1, 0, tzinfo=UTC), "依法处理")
AGREEMENT = "湘医保协〔2025〕21号"
PENALTY = "长医保罚〔2025〕12号"


@contextmanager
def on_day(day: date) -> Iterator[None]:
    """The clock frozen at 10:00 in China on ``day``."""
    with time_machine.travel(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC), tick=False):
        yield


def _case(
    url: str, code: str, *, no: str = AGREEMENT, day: date = date(2025, 9, 19), points: int = 9,
    kind: str = "agreement_action", institution: str = "H43010200001",
    responsibility: str | None = None, violation: str | None = None,
    effective: date | None = None,
) -> int:  # fmt: skip
    engine = make_engine(url)
    with session_scope(engine, write=True) as session:
        recorded = record_case(
            session,
            OFFICER,
            institution_code=institution,
            decision_type=kind,
            legal_basis="《条例》第三十八条"
            if kind != "agreement_action"
            else "服务协议第三十八条",
            document_no=no,
            decision_date=day,
            amount=None,
            findings=[
                Finding(
                    code,
                    points=points,
                    responsibility=responsibility,
                    violation=violation,
                    effective=effective,
                )
            ],
            as_of=day,
        )
        decision_id = recorded.decision.id or 0
    engine.dispose()
    return decision_id


def _notices(url: str) -> list[Notice]:
    engine = make_engine(url)
    with Session(engine) as session:
        found = list(session.exec(select(Notice)))
    engine.dispose()
    return found


def _ledger_size(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        size = len(list(session.exec(select(LedgerEntry))))
    engine.dispose()
    return size


def _pdf_text(content: bytes) -> str:
    """The PDF's text, read back through its ToUnicode map, without the spaces and NULs that
    pypdf puts between glyphs drawn one by one (pdftotext reads the same text cleanly)."""
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"[\s\x00]+", "", "".join(p.extract_text() or "" for p in reader.pages))


def _assert_pdf(response: Any) -> str:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert response.content.startswith(b"%PDF-")
    assert b"NotoSerifSC" in response.content  # the font is embedded (a subset)
    return _pdf_text(response.content)


async def _issue(site: AsyncTestClient[Any], decision_id: int, code: str, **fields: str) -> Any:
    form = await site.get(f"/admin/cases/{decision_id}/notices/new?code={code}")
    assert form.status_code == 200, form.text[:300]
    data = {
        "code": code,
        "form_token": token_in(form.text),
        "issued_on": "2025-09-24",
        "period_start": "2025-10-01",
        "document_no": "",
        "action": "issue",
        **fields,
    }
    return await post_form(site, f"/admin/cases/{decision_id}/notices", data)


# --- the issue form ---------------------------------------------------------------------------


async def test_the_form_prefills_hunan_s_next_month_and_previews(
    as_user: Any, admin_url: str, places: Places
) -> None:
    decision_id = _case(admin_url, places.changsha_doctor)
    with on_day(date(2025, 9, 24)):
        site = await as_user("liming")
        page = await site.get(
            f"/admin/cases/{decision_id}/notices/new?code={places.changsha_doctor}"
        )
    assert page.status_code == 200
    assert 'name="issued_on" type="date" value="2025-09-24"' in page.text
    assert 'name="period_start" type="date" value="2025-10-01"' in page.text  # RULES I-6
    assert "{{ csrf_input" not in page.text and 'name="_csrf_token"' in page.text
    assert "本次记分 <strong>9</strong> 分" in page.text
    assert "自 2025-10-01 起至 2025-11-30 止" in page.text
    assert _notices(admin_url) == []  # the preview saved nothing


async def test_it_issues_and_shows_the_print_ready_notice(
    as_user: Any, admin_url: str, places: Places
) -> None:
    decision_id = _case(admin_url, places.changsha_doctor, violation="分解住院")
    with on_day(date(2025, 9, 24)):
        site = await as_user("liming")
        issued = await _issue(site, decision_id, places.changsha_doctor,
                              document_no="长医保通〔2025〕7号")  # fmt: skip
        assert issued.status_code == 303
        (notice,) = _notices(admin_url)
        assert issued.headers["location"] == f"/admin/notices/{notice.id}"
        page = await site.get(f"/admin/notices/{notice.id}")
    assert notice.document_no == "长医保通〔2025〕7号"
    assert (notice.period_start, notice.period_end) == (date(2025, 10, 1), date(2025, 11, 30))
    assert _ledger_size(admin_url) == 1  # Hunan's own start: nothing corrected in the ledger
    text = page.text
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "定点医药机构相关人员医保支付资格处理通知书" in text
    assert "文号：长医保通〔2025〕7号" in text and "定点医药机构名称：长沙市第一医院" in text
    assert "张伟" in text and "D43010200001" in text and "分解住院" in text
    assert "本次记分9分，本年度累计记分9分。" in text
    assert "☑2.予以暂停结算资格2个月，暂停时间自2025年10月1日起至2025年11月30日止" in text
    assert "☐1.予以提醒谈话一次" in text and "☐3.予以终止结算资格" in text
    assert "日期：2025年9月24日" in text
    assert "10个工作日内，向医疗保障经办机构提出书面申诉" in text
    # 3 working days (National-Procedure Art. 33): Sunday 28 September 2025 was a workday
    assert "应于 2025-09-28 前送达" in text
    assert "style=" not in text and "<script>" not in text  # strict CSP


async def test_a_later_start_stated_with_the_case_is_prefilled(
    as_user: Any, admin_url: str, places: Places
) -> None:
    decision_id = _case(admin_url, places.changsha_doctor, effective=date(2025, 11, 1))
    code = places.changsha_doctor
    with on_day(date(2025, 9, 24)):
        site = await as_user("liming")
        page = await site.get(f"/admin/cases/{decision_id}/notices/new?code={code}")
    assert 'name="period_start" type="date" value="2025-11-01"' in page.text
    assert "自 2025-11-01 起至 2025-12-31 止" in page.text


async def test_anhui_prefills_the_date_of_issue(as_user: Any, admin_url: str) -> None:
    engine = make_engine(admin_url)
    with session_scope(engine, write=True) as session:
        create_institution(
            session, OFFICER, code="H34010200001", name="合肥市第一人民医院", kind="hospital",
            region="340102", credit_code=make_credit_code("340102", "MB0000001"),
            ownership="public",
        )  # fmt: skip
        create_practitioner(
            session, OFFICER, national_code="D34010200001", name="孙丽", secret=SECRET,
            id_number=make_resident_id("340102", date(1982, 4, 4), 2, "female"),
        )  # fmt: skip
        register(
            session, OFFICER, national_code="D34010200001", institution_code="H34010200001",
            registered_on=date(2025, 5, 1), commitment_signed_on=date(2025, 5, 1),
        )  # fmt: skip
    engine.dispose()
    decision_id = _case(admin_url, "D34010200001", no="皖医保协〔2025〕1号",
                        day=date(2025, 6, 2), institution="H34010200001")  # fmt: skip
    with on_day(date(2025, 6, 5)):
        site = await as_user("zhoumin")
        page = await site.get(f"/admin/cases/{decision_id}/notices/new?code=D34010200001")
        assert 'name="period_start" type="date" value="2025-06-05"' in page.text  # RULES I-6
        assert "自 2025-06-05 起至 2025-08-04 止" in page.text
        issued = await _issue(site, decision_id, "D34010200001", issued_on="2025-06-05",
                              period_start="2025-06-05")  # fmt: skip
    assert issued.status_code == 303
    (notice,) = _notices(admin_url)
    assert (notice.period_start, notice.period_end) == (date(2025, 6, 5), date(2025, 8, 4))


async def test_a_hunan_start_before_the_next_month_is_refused_and_the_input_kept(
    as_user: Any, admin_url: str, places: Places
) -> None:
    decision_id = _case(admin_url, places.changsha_doctor)
    with on_day(date(2025, 9, 24)):
        site = await as_user("liming")
        refused = await _issue(
            site,
            decision_id,
            places.changsha_doctor,
            period_start="2025-09-25",
            document_no="长医保通〔2025〕8号",
        )
        preview = await _issue(site, decision_id, places.changsha_doctor,
                               period_start="2025-09-25", action="preview")  # fmt: skip
    assert refused.status_code == 400
    assert "不得早于 2025-10-01" in refused.text and "RULES I-6" in refused.text
    assert 'value="2025-09-25"' in refused.text and 'value="长医保通〔2025〕8号"' in refused.text
    assert 'id="period_start-error"' in refused.text and 'aria-invalid="true"' in refused.text
    assert preview.status_code == 400 and "不得早于 2025-10-01" in preview.text
    assert _notices(admin_url) == []


async def test_a_document_number_is_used_once(as_user: Any, admin_url: str, places: Places) -> None:
    first = _case(admin_url, places.changsha_doctor)
    second = _case(admin_url, places.changsha_nurse, no="湘医保协〔2025〕22号", points=2)
    with on_day(date(2025, 9, 24)):
        site = await as_user("liming")
        assert (await _issue(site, first, places.changsha_doctor,
                             document_no="长医保通〔2025〕9号")).status_code == 303  # fmt: skip
        taken = await _issue(site, second, places.changsha_nurse, document_no="长医保通〔2025〕9号")
    assert taken.status_code == 400 and "已被其他通知书使用" in taken.text
    assert 'id="document_no-error"' in taken.text and len(_notices(admin_url)) == 1


async def test_bad_dates_are_refused_beside_their_field(
    as_user: Any, admin_url: str, places: Places
) -> None:
    decision_id = _case(admin_url, places.changsha_doctor)
    with on_day(date(2025, 9, 24)):
        site = await as_user("liming")
        garbled = await _issue(site, decision_id, places.changsha_doctor, issued_on="24/09/2025")
        early = await _issue(site, decision_id, places.changsha_doctor, issued_on="2025-09-18")
        missing = await _issue(site, decision_id, places.changsha_doctor, period_start="")
    assert garbled.status_code == 400 and 'id="issued_on-error"' in garbled.text
    assert 'value="24/09/2025"' in garbled.text and "YYYY-MM-DD" in garbled.text
    assert early.status_code == 400 and "出具日期不能早于处理决定日期" in early.text
    assert missing.status_code == 400 and 'id="period_start-error"' in missing.text
    assert _notices(admin_url) == []


async def test_a_double_submission_issues_one_notice(
    as_user: Any, admin_url: str, places: Places
) -> None:
    decision_id = _case(admin_url, places.changsha_doctor)
    code = places.changsha_doctor
    with on_day(date(2025, 9, 24)):
        site = await as_user("liming")
        form = await site.get(f"/admin/cases/{decision_id}/notices/new?code={code}")
        data = {"code": code, "form_token": token_in(form.text), "issued_on": "2025-09-24",
                "period_start": "2025-10-01", "action": "issue"}  # fmt: skip
        first = await post_form(site, f"/admin/cases/{decision_id}/notices", data)
        second = await post_form(site, f"/admin/cases/{decision_id}/notices", data)
        assert first.status_code == second.status_code == 303
        (notice,) = _notices(admin_url)
        # The second lands on the first one's notice (the form of an issued notice leads there).
        again = await site.get(second.headers["location"], follow_redirects=False)
        assert (
            again.status_code == 303 and again.headers["location"] == f"/admin/notices/{notice.id}"
        )
        fresh = await post_form(site, f"/admin/cases/{decision_id}/notices",
                                {**data, "form_token": "another-token-123"})  # fmt: skip
    assert fresh.status_code == 400 and "不能重复出具" in fresh.text
    assert len(_notices(admin_url)) == 1


async def test_it_requires_csrf(as_user: Any, admin_url: str, places: Places) -> None:
    decision_id = _case(admin_url, places.changsha_doctor)
    with on_day(date(2025, 9, 24)):
        site = await as_user("liming")
        form = await site.get(
            f"/admin/cases/{decision_id}/notices/new?code={places.changsha_doctor}"
        )
        data = {"code": places.changsha_doctor, "form_token": token_in(form.text),
                "issued_on": "2025-09-24", "period_start": "2025-10-01"}  # fmt: skip
        refused = await post_form(site, f"/admin/cases/{decision_id}/notices", data, csrf=False)
    assert refused.status_code == 403 and _notices(admin_url) == []


@pytest.mark.parametrize("username", ["sunli", "chenjing", "liuyang"])
async def test_readers_cannot_issue(
    as_user: Any, admin_url: str, places: Places, username: str
) -> None:
    decision_id = _case(admin_url, places.changsha_doctor)
    with on_day(date(2025, 9, 24)):
        site = await as_user(username)
        form = await site.get(
            f"/admin/cases/{decision_id}/notices/new?code={places.changsha_doctor}"
        )
        posted = await post_form(site, f"/admin/cases/{decision_id}/notices", {
            "code": places.changsha_doctor, "form_token": "x" * 20, "issued_on": "2025-09-24",
            "period_start": "2025-10-01", "action": "issue",
        })  # fmt: skip
    assert form.status_code == 403 and posted.status_code == 403
    assert _notices(admin_url) == []


async def test_it_hides_other_regions(as_user: Any, admin_url: str, places: Places) -> None:
    decision_id = _case(admin_url, places.changsha_doctor)
    with on_day(date(2025, 9, 24)):
        site = await as_user("liming")
        await _issue(site, decision_id, places.changsha_doctor)
        (notice,) = _notices(admin_url)
        await post_form(site, "/admin/logout", {})
        await as_user("wangfang")
        for path in (
            f"/admin/notices/{notice.id}",
            f"/admin/notices/{notice.id}/notice.pdf",
            f"/admin/notices/{notice.id}/copy-to.pdf",
            f"/admin/cases/{decision_id}/notices/new?code={places.changsha_doctor}",
            f"/admin/forms/self-pay.pdf?code={places.changsha_doctor}",
            "/admin/notices/999999",
        ):
            response = await site.get(path)
            assert response.status_code == 404, path
            assert "张伟" not in response.text
        delivery = await post_form(
            site,
            f"/admin/notices/{notice.id}/delivery",
            {"delivered_on": "2025-09-26", "delivered_to": "x", "form_token": "t" * 20},
        )
    assert delivery.status_code == 404
    assert _notices(admin_url)[0].delivered_on is None


async def test_the_auditor_and_the_institution_read_the_notice(
    as_user: Any, admin_url: str, places: Places
) -> None:
    decision_id = _case(admin_url, places.changsha_doctor)
    with on_day(date(2025, 9, 24)):
        site = await as_user("liming")
        await _issue(site, decision_id, places.changsha_doctor)
        (notice,) = _notices(admin_url)
        for reader in ("sunli", "liuyang"):
            await post_form(site, "/admin/logout", {})
            await as_user(reader)
            page = await site.get(f"/admin/notices/{notice.id}")
            assert page.status_code == 200 and "张伟" in page.text
            assert 'action="/admin/notices/' + str(notice.id) + '/delivery"' not in page.text
            refused = await post_form(
                site,
                f"/admin/notices/{notice.id}/delivery",
                {"delivered_on": "2025-09-26", "delivered_to": "x", "form_token": "t" * 20},
            )
            assert refused.status_code == 403
            assert _assert_pdf(await site.get(f"/admin/notices/{notice.id}/notice.pdf"))


# --- delivery ---------------------------------------------------------------------------------


async def test_it_records_delivery_and_the_appeal_deadline(
    as_user: Any, admin_url: str, places: Places
) -> None:
    decision_id = _case(admin_url, places.changsha_doctor)
    with on_day(date(2025, 9, 26)):
        site = await as_user("liming")
        await _issue(site, decision_id, places.changsha_doctor)
        (notice,) = _notices(admin_url)
        page = await site.get(f"/admin/notices/{notice.id}")
        token = token_in(page.text)
        data = {
            "delivered_on": "2025-09-26",
            "delivered_to": "长沙市第一医院 医保办",
            "form_token": token,
        }
        done = await post_form(site, f"/admin/notices/{notice.id}/delivery", data)
        twice = await post_form(site, f"/admin/notices/{notice.id}/delivery", data)
        shown = await site.get(f"/admin/notices/{notice.id}")
    assert done.status_code == 303 and done.headers["location"] == f"/admin/notices/{notice.id}"
    assert twice.status_code == 303  # the same form again records nothing twice
    (delivered,) = _notices(admin_url)
    assert (delivered.delivered_on, delivered.delivered_to) == (
        date(2025, 9, 26),
        "长沙市第一医院 医保办",
    )
    assert delivered.appeal_due == date(2025, 10, 16)  # 10 working days across National Day
    assert "已于 2025-09-26 送达：长沙市第一医院 医保办" in shown.text
    assert "申诉期限：2025-10-16" in shown.text


async def test_bad_delivery_input_is_refused_and_kept(
    as_user: Any, admin_url: str, places: Places
) -> None:
    decision_id = _case(admin_url, places.changsha_doctor)
    with on_day(date(2025, 9, 26)):
        site = await as_user("liming")
        await _issue(site, decision_id, places.changsha_doctor)
        (notice,) = _notices(admin_url)
        token = token_in((await site.get(f"/admin/notices/{notice.id}")).text)
        early = await post_form(
            site,
            f"/admin/notices/{notice.id}/delivery",
            {"delivered_on": "2025-09-23", "delivered_to": "医保办王主任", "form_token": token},
        )
        nobody = await post_form(
            site,
            f"/admin/notices/{notice.id}/delivery",
            {"delivered_on": "2025-09-26", "delivered_to": "  ", "form_token": token},
        )
    assert early.status_code == 400 and "送达日期不能早于出具日期" in early.text
    assert 'value="2025-09-23"' in early.text and 'value="医保办王主任"' in early.text
    assert 'id="delivered_on-error"' in early.text
    assert nobody.status_code == 400 and 'id="delivered_to-error"' in nobody.text
    assert _notices(admin_url)[0].delivered_on is None


# --- the PDFs ---------------------------------------------------------------------------------


async def test_the_notice_pdf_says_what_the_notice_says(
    as_user: Any, admin_url: str, places: Places
) -> None:
    decision_id = _case(admin_url, places.changsha_doctor, violation="分解住院")
    with on_day(date(2025, 9, 24)):
        site = await as_user("liming")
        await _issue(site, decision_id, places.changsha_doctor)
        (notice,) = _notices(admin_url)
        text = _assert_pdf(await site.get(f"/admin/notices/{notice.id}/notice.pdf"))
    assert "定点医药机构相关人员医保支付资格处理通知书" in text
    assert notice.document_no in text and "长沙市第一医院" in text and "张伟" in text
    assert "D43010200001" in text and "分解住院" in text
    assert "本次记分9分，本年度累计记分9分。" in text
    assert "■2.予以暂停结算资格2个月，暂停时间自2025年10月1日起至2025年11月30日止" in text
    assert "日期：2025年9月24日" in text and "10个工作日内" in text
    assert "*" not in text  # no ID number without a stated purpose


async def test_the_id_number_is_printed_only_with_a_logged_purpose(
    as_user: Any, admin_url: str, places: Places
) -> None:
    decision_id = _case(admin_url, places.changsha_doctor)
    with on_day(date(2025, 9, 24)):
        site = await as_user("liming")
        await _issue(site, decision_id, places.changsha_doctor)
        (notice,) = _notices(admin_url)
        path = f"/admin/notices/{notice.id}/notice.pdf"
        refused = await post_form(site, path, {"purpose": "送"})
        printed = await post_form(site, path, {"purpose": "向当事人送达处理通知书"})
        await post_form(site, "/admin/logout", {})
        await as_user("sunli")
        auditor = await post_form(site, path, {"purpose": "审计抽查处理通知书"})
    assert refused.status_code == 400 and 'id="purpose-error"' in refused.text
    text = _assert_pdf(printed)
    assert re.search(r"430\*{11}\d{3}[\dX]", text)  # first 3 and last 4 (RULES §9)
    assert auditor.status_code == 403
    engine = make_engine(admin_url)
    with Session(engine) as session:
        logged = list(session.exec(select(QueryLog)))
    engine.dispose()
    assert [(q.actor, q.subject, q.what, q.purpose) for q in logged] == [
        ("liming", places.changsha_doctor, "private_data", "向当事人送达处理通知书")
    ]


async def test_the_responsibility_notice_prints_10_working_days(
    as_user: Any, admin_url: str, places: Places
) -> None:
    decision_id = _case(
        admin_url, places.changsha_doctor, no=PENALTY, kind="administrative_penalty", points=6,
        responsibility="important", violation="串换药品",
    )  # fmt: skip
    agreement = _case(admin_url, places.changsha_nurse, no=AGREEMENT)
    with on_day(date(2025, 9, 24)):
        site = await as_user("zhaoqiang")
        path = f"/admin/cases/{decision_id}/responsibility.pdf?code={places.changsha_doctor}"
        text = _assert_pdf(await site.get(path + "&no=湘医保责〔2025〕3号&on=2025-09-24"))
        wrong = await site.get(
            f"/admin/cases/{agreement}/responsibility.pdf?code={places.changsha_nurse}"
        )
        garbled = await site.get(path + "&on=yesterday")
        stranger = await site.get(
            f"/admin/cases/{decision_id}/responsibility.pdf?code={places.changsha_nurse}"
        )
    assert "湖南省定点医药机构相关人员责任认定通知书" in text
    assert "文号：湘医保责〔2025〕3号" in text and "所属单位长沙市第一医院" in text
    assert "发现你存在串换药品等问题" in text and "长沙市医疗保障局依据《条例》第三十八条" in text
    assert "■行政处罚□免予行政处罚" in text and f"行政决定文书文号{PENALTY}" in text
    assert "□一般责任■重要责任□主要责任" in text and "日期：2025年9月24日" in text
    assert "收到此通知书后10个工作日内" in text and "7个工作日" not in text  # RULES I-11
    assert wrong.status_code == 400 and "行政处罚案件" in wrong.text
    assert garbled.status_code == 400
    assert stranger.status_code == 404  # not a party to this case


async def test_the_copy_to_notice_names_the_recipient_and_the_points(
    as_user: Any, admin_url: str, places: Places
) -> None:
    decision_id = _case(admin_url, places.changsha_doctor, violation="分解住院")
    with on_day(date(2025, 9, 24)):
        site = await as_user("liming")
        await _issue(site, decision_id, places.changsha_doctor)
        (notice,) = _notices(admin_url)
        text = _assert_pdf(await site.get(
            f"/admin/notices/{notice.id}/copy-to.pdf?to=长沙市卫生健康委员会&on=2025-09-25"
        ))  # fmt: skip
    assert "定点医药机构相关人员记分情况抄告书" in text
    assert "长沙市卫生健康委员会：" in text
    assert "发现长沙市第一医院医师张伟（医保相关人员代码：D43010200001）存在分解住院等问题" in text
    assert "记9分（本年度累计记分9分）" in text and "以便你单位加强监管" in text
    assert f"处理通知书（{notice.document_no}）" in text and AGREEMENT in text
    assert "长沙市医疗保障局（签章）2025年9月25日" in text
    assert "注：本抄告书用于医保行政部门抄告卫生健康主管部门" in text


async def test_the_self_pay_notice_is_for_a_restricted_practitioner(
    as_user: Any, admin_url: str, places: Places
) -> None:
    _case(admin_url, places.changsha_doctor, violation="分解住院")
    with on_day(date(2025, 10, 15)):
        site = await as_user("liuyang")  # the hospital gives it to the patient
        text = _assert_pdf(
            await site.get(f"/admin/forms/self-pay.pdf?code={places.changsha_doctor}")
        )
        normal = await site.get(f"/admin/forms/self-pay.pdf?code={places.changsha_nurse}")
    assert "湖南省医疗保障定点医药机构相关人员医保支付资格处理情况告知书" in text
    assert "我单位医师张伟在开展医疗保障定点医药机构相关人员医保支付资格管理工作中" in text
    assert "被发现存在分解住院等问题，已被长沙市医疗保障局■暂停□终止结算资格" in text
    assert "本人自愿要求自费找医师张伟提供" in text and "患者本人或家属签名" in text
    assert normal.status_code == 400 and "无需" in normal.text


async def test_before_the_period_starts_no_self_pay_notice(
    as_user: Any, admin_url: str, places: Places
) -> None:
    _case(admin_url, places.changsha_doctor)  # suspended from 1 October (从次月起)
    with on_day(date(2025, 9, 24)):
        site = await as_user("liming")
        early = await site.get(f"/admin/forms/self-pay.pdf?code={places.changsha_doctor}")
    assert early.status_code == 400
