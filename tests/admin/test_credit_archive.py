"""Credit subjects and archives in the admin (Hunan-Credit Art. 3, 9-16, 23): who reads,
who decides, what is out of scope (404) and which pages a role lacks (403)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date
from typing import Any

from portal.identifiers import make_credit_code, make_resident_id
from tests.admin.conftest import Places, post_form, token_in

BASE = "/admin/credit/subjects"
HOSPITAL = f"{BASE}/designated_hospital/H43010200001"
YUEYANG = f"{BASE}/designated_hospital/H43060200001"
EMPLOYER = make_credit_code("430102", "MA4Q00007", "91")


def rows(admin_url: str, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(admin_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql).fetchall()


def _item(token: str, **over: str) -> dict[str, str]:
    return {
        "category": "violation", "polarity": "bad", "public": "1", "source": "supervision",
        "source_unit": "长沙市医疗保障局", "title": "违规结算被约谈", "occurred_on": "2025-05-06",
        "detail": "", "form_token": token, **over,
    }  # fmt: skip


async def test_the_credit_officer_records_corrects_and_withdraws_an_item(
    as_user: Any, admin_url: str
) -> None:
    client = await as_user("chenjing")
    page = await client.get(HOSPITAL)
    assert page.status_code == 200 and "长沙市第一医院" in page.text and "尚无信用信息" in page.text
    token = token_in(page.text)
    added = await post_form(client, f"{HOSPITAL}/items", _item(token))
    assert added.status_code == 303 and added.headers["location"] == HOSPITAL
    twice = await post_form(client, f"{HOSPITAL}/items", _item(token))
    assert twice.status_code == 303  # the same form twice records nothing twice
    assert len(rows(admin_url, "SELECT id FROM credit_item")) == 1
    page = await client.get(HOSPITAL)
    assert "违规结算被约谈" in page.text and "违反法律法规情况" in page.text
    [(item_id,)] = rows(admin_url, "SELECT id FROM credit_item")
    fixed = await post_form(client, f"/admin/credit/items/{item_id}/supersede",
                            _item(token_in(page.text), title="违规结算被约谈并整改",
                                  reason="内容不全"))  # fmt: skip
    assert fixed.status_code == 303
    page = await client.get(HOSPITAL)
    assert "违规结算被约谈并整改" in page.text and "更正记录（1）" in page.text
    newest = rows(admin_url, "SELECT max(id) FROM credit_item")[0][0]
    gone = await post_form(client, f"/admin/credit/items/{newest}/withdraw",
                           {"reason": "重复录入", "form_token": token_in(page.text)})  # fmt: skip
    assert gone.status_code == 303
    page = await client.get(HOSPITAL)
    assert "违规结算被约谈并整改" not in page.text
    assert len(rows(admin_url, "SELECT id FROM credit_item")) == 3  # nothing overwritten


async def test_bad_input_re_renders_the_form_with_what_was_typed(as_user: Any) -> None:
    client = await as_user("chenjing")
    page = await client.get(HOSPITAL)
    bad = await post_form(client, f"{HOSPITAL}/items",
                          _item(token_in(page.text), title="", occurred_on="2025-13-40",
                                source_unit="某某法院"))  # fmt: skip
    assert bad.status_code == 400
    assert "日期应写作 YYYY-MM-DD" in bad.text and 'value="某某法院"' in bad.text
    refused = await post_form(client, f"{HOSPITAL}/items",
                              _item(token_in(bad.text), category="gossip"))  # fmt: skip
    assert refused.status_code == 400 and "第十四条" in refused.text


async def test_readers_read_and_may_not_decide(as_user: Any, site: Any) -> None:
    for username in ("liming", "zhaoqiang", "sunli", "liuyang"):
        client = await as_user(username)
        page = await client.get(HOSPITAL)
        assert page.status_code == 200, username
        assert "录入信用信息" not in page.text
        refused = await post_form(client, f"{HOSPITAL}/items", _item("t" * 20))
        assert refused.status_code == 403, username
        await post_form(client, "/admin/logout", {})


async def test_scope_outside_is_404(as_user: Any, site: Any) -> None:
    client = await as_user("chenjing")  # 长沙市
    assert (await client.get(YUEYANG)).status_code == 404
    assert (await client.get(f"{BASE}/practitioner/D43060200001")).status_code == 404
    assert (await client.get(f"{BASE}/practitioner/D43010200001")).status_code == 200
    assert (await client.get(f"{BASE}/insured_employer/{EMPLOYER}")).status_code == 404
    assert (await client.get(f"{BASE}/nonsense/X")).status_code == 404
    await post_form(client, "/admin/logout", {})
    hospital_admin = await as_user("liuyang")
    assert (await hospital_admin.get(HOSPITAL)).status_code == 200
    assert (await hospital_admin.get(f"{BASE}/designated_pharmacy/P43010300001")).status_code == 404
    await post_form(hospital_admin, "/admin/logout", {})
    province = await as_user("zhoumin")
    assert (await province.get(YUEYANG)).status_code == 200


async def test_search_and_create_a_subject_outside_the_registry(
    as_user: Any, admin_url: str, places: Places
) -> None:
    client = await as_user("chenjing")
    found = await client.get(BASE, params={"q": "第一医院"})
    assert found.status_code == 200 and "长沙市第一医院" in found.text
    assert "岳阳市人民医院" not in (await client.get(BASE, params={"q": "医院"})).text
    page = await client.get(BASE)
    number = make_resident_id("430104", date(1966, 1, 2), 41, "male")
    made = await post_form(client, BASE, {"kind": "insured_person", "name": "钱七",
                                          "region": "430104", "document_type": "resident_id",
                                          "number": number,
                                          "form_token": token_in(page.text)})  # fmt: skip
    assert made.status_code == 303
    archive = made.headers["location"]
    assert archive.startswith(f"{BASE}/insured_person/P") and number not in archive
    by_number = await client.get(BASE, params={"q": number})
    assert "钱七" in by_number.text and number not in by_number.text.replace(
        f'value="{number}"', ""
    )
    outside = await post_form(client, BASE, {"kind": "insured_employer", "name": "岳阳某公司",
                                             "region": "430602", "number": EMPLOYER,
                                             "form_token": token_in(page.text)})  # fmt: skip
    assert outside.status_code == 400 and "本辖区" in outside.text
    assert rows(admin_url, "SELECT count(*) FROM credit_subject") == [(1,)]
    await post_form(client, "/admin/logout", {})
    reader = await as_user("liming")
    assert (await post_form(reader, BASE, {"kind": "insured_person"})).status_code == 403


async def test_an_individuals_private_items_need_a_purpose_and_are_logged(
    as_user: Any, admin_url: str
) -> None:
    client = await as_user("chenjing")
    doctor = f"{BASE}/practitioner/D43010200001"
    page = await client.get(doctor)
    hidden = _item(token_in(page.text), public="", title="内部核查记录")
    added = await post_form(client, f"{doctor}/items", hidden)
    assert added.status_code == 303
    page = await client.get(doctor)
    assert "内部核查记录" not in page.text and "另有 1 条非公开信息" in page.text
    refused = await post_form(client, f"{doctor}/view", {"purpose": "查"})
    assert refused.status_code == 400 and "查询目的" in refused.text
    opened = await post_form(client, f"{doctor}/view", {"purpose": "核查投诉线索"})
    assert opened.status_code == 200 and "内部核查记录" in opened.text
    assert rows(admin_url, "SELECT what, purpose FROM query_log") == [
        ("credit_archive", "核查投诉线索")
    ]


async def test_commitment_template_sign_and_breach(as_user: Any, admin_url: str) -> None:
    client = await as_user("zhoumin")
    page = await client.get("/admin/credit/commitment-templates")
    made = await post_form(client, "/admin/credit/commitment-templates", {
        "subject_kind": "designated_hospital", "title": "定点医疗机构信用承诺书",
        "text": "本机构承诺遵守医疗保障法律法规，如实结算。", "form_token": token_in(page.text),
    })  # fmt: skip
    assert made.status_code == 303
    page = await client.get(HOSPITAL)
    [(template_id,)] = rows(admin_url, "SELECT id FROM credit_commitment_template")
    signed = await post_form(client, f"{HOSPITAL}/commitments", {
        "template_id": str(template_id), "signed_by": "院长 刘某", "signed_on": "2025-01-05",
        "form_token": token_in(page.text),
    })  # fmt: skip
    assert signed.status_code == 303
    [(commitment_id, text)] = rows(admin_url, "SELECT id, signed_text FROM credit_commitment")
    assert text == "本机构承诺遵守医疗保障法律法规，如实结算。"
    page = await client.get(HOSPITAL)
    breached = await post_form(client, f"/admin/credit/commitments/{commitment_id}/fulfilment",
                               {"outcome": "breached", "on": "2025-05-20", "detail": "虚构服务",
                                "form_token": token_in(page.text)})  # fmt: skip
    assert breached.status_code == 303
    page = await client.get(HOSPITAL)
    assert "违反信用承诺" in page.text and "未履行（违反承诺）" in page.text
    await post_form(client, "/admin/logout", {})
    officer = await as_user("chenjing")  # templates are the province's
    page = await officer.get("/admin/credit/commitment-templates")
    assert page.status_code == 200 and "<h3>新版本</h3>" not in page.text


async def test_the_import_runs_as_a_job_and_reports_by_line(as_user: Any, admin_url: str) -> None:
    client = await as_user("chenjing")
    page = await client.get("/admin/credit/imports")
    assert page.status_code == 200
    body = (
        "主体类型,主体代码,信息类别,信息性质,是否公开,信息来源,提供单位,信息内容,认定日期\n"
        "designated_hospital,H43010200001,honour,good,是,shared_platform,省卫健委,诚信示范,2025-01-01\n"
        "designated_hospital,H43060200001,honour,good,是,shared_platform,省卫健委,诚信示范,2025-01-01\n"
    )
    started = await client.post(
        "/admin/credit/imports",
        data={"form_token": token_in(page.text), "_csrf_token": client.cookies.get("csrftoken")},
        files={"file": ("卫健.csv", body.encode("utf-8"), "text/csv")},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text[:300]
    location = started.headers["location"]
    for _ in range(200):
        poll = await client.get(location, headers={"HX-Request": "true"})
        if "every 1s" not in poll.text:
            break
        await asyncio.sleep(0.05)
    done = await client.get(location)
    assert "有误 1 行" in done.text and "管辖范围" in done.text  # 岳阳 is not 陈静's
    assert rows(admin_url, "SELECT count(*) FROM credit_item") == [(0,)]
    await post_form(client, "/admin/logout", {})
    reader = await as_user("liming")
    assert (await reader.get("/admin/credit/imports")).status_code == 403


async def test_practitioner_and_institution_pages_link_to_the_archive(as_user: Any) -> None:
    client = await as_user("chenjing")
    person = await client.get("/admin/practitioners/D43010200001")
    assert f"{BASE}/practitioner/D43010200001" in person.text
    place = await client.get("/admin/institutions/H43010200001")
    assert HOSPITAL in place.text
