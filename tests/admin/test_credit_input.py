"""Bad input on the credit screens, as a class (an attacker's review found each kind): text
with control characters or past its limit is refused naming the field (never cut short,
never a 500 from the database), numbers and ID numbers in other scripts' digits are
refused, nothing is written; a non-public item of an individual is not shown on the
objection and repair pages (only on the archive, after a stated purpose); a subject form
submitted twice lands on the archive made the first time."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from typing import Any

from portal.credit_models import CreditItem
from portal.db import make_engine, session_scope
from portal.identifiers import make_resident_id
from portal.services import credit_objections as objections
from portal.services.registry import Act
from tests.admin.conftest import Places, post_form, token_in
from tests.admin.test_credit_archive import _item

HOSPITAL = "/admin/credit/subjects/designated_hospital/H43010200001"
CREDIT = Act("chenjing", datetime(2025, 9, 26, 2, 0, tzinfo=UTC), "信用管理")


def count(admin_url: str, table: str) -> int:
    with sqlite3.connect(admin_url.removeprefix("sqlite:///")) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


async def test_text_fields_refuse_control_characters_and_overlong_text(
    as_user: Any, admin_url: str
) -> None:
    client = await as_user("chenjing")
    for field, value in (
        ("title", "违规\x00结算"),
        ("source_unit", "长沙\x1b市"),
        ("detail", "说" * 4001),
        ("reason", "理由" * 300),
    ):
        page = await client.get(HOSPITAL)
        bad = await post_form(
            client, f"{HOSPITAL}/items", _item(token_in(page.text), **{field: value})
        )
        assert bad.status_code == 400, field
        assert f'id="{field}-error"' in bad.text or "控制字符" in bad.text or "最多" in bad.text
    assert count(admin_url, "credit_item") == 0
    kept = await post_form(
        client,
        f"{HOSPITAL}/items",
        _item(token_in((await client.get(HOSPITAL)).text), detail="说" * 4001),
    )
    assert "说" * 4001 in kept.text  # kept whole in the form, not cut short


async def test_numbers_and_id_numbers_in_other_scripts_digits_are_refused(
    as_user: Any, admin_url: str
) -> None:
    from portal.services import credit_commitments

    engine = make_engine(admin_url)
    with session_scope(engine, write=True) as session:
        credit_commitments.create_template(
            session, CREDIT, subject_kind="designated_hospital", title="定点医疗机构信用承诺书",
            text="本机构承诺依法依规使用医保基金，如有违反，愿承担相应责任。",
        )  # fmt: skip
    engine.dispose()
    client = await as_user("chenjing")
    page = await client.get(HOSPITAL)
    for template in ("²", "１２", "1_0", "99999999999"):
        signed = await post_form(
            client,
            f"{HOSPITAL}/commitments",
            {
                "template_id": template,
                "signed_by": "王院长",
                "signed_on": "2025-03-01",
                "form_token": token_in(page.text),
            },
        )
        assert signed.status_code == 400 and "请选择承诺书模板" in signed.text, template
    number = make_resident_id("430102", date(1970, 1, 2), 5, "male")
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in number)
    page = await client.get("/admin/credit/subjects")
    made = await post_form(client, "/admin/credit/subjects",
                           {"kind": "insured_person", "name": "赵六", "region": "430102",
                            "number": wide, "document_type": "resident_id",
                            "form_token": token_in(page.text)})  # fmt: skip
    assert made.status_code == 400 and "身份证号码" in made.text
    assert wide not in made.text  # an ID number is never echoed back
    assert count(admin_url, "credit_subject") == 0 and count(admin_url, "credit_commitment") == 0


async def test_a_subject_form_sent_twice_lands_on_the_first_archive(
    as_user: Any, admin_url: str
) -> None:
    client = await as_user("chenjing")
    page = await client.get("/admin/credit/subjects")
    form = {"kind": "insured_person", "name": "赵六", "region": "430102",
            "number": make_resident_id("430102", date(1970, 1, 2), 5, "male"),
            "document_type": "resident_id", "form_token": token_in(page.text)}  # fmt: skip
    first = await post_form(client, "/admin/credit/subjects", form)
    second = await post_form(client, "/admin/credit/subjects", form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert count(admin_url, "credit_subject") == 1


async def test_an_individual_s_non_public_item_is_not_on_the_objection_page(
    as_user: Any, admin_url: str, places: Places
) -> None:
    engine = make_engine(admin_url)
    with session_scope(engine, write=True) as session:
        item = CreditItem(subject_kind="practitioner", subject_key=places.changsha_doctor,
                          category="administrative", polarity="bad", source="supervision",
                          title="家庭住址变更未报告", occurred_on=date(2025, 3, 3), public=False,
                          **CREDIT.stamp())  # fmt: skip
        session.add(item)
        session.flush()
        objection = objections.file_objection(
            session, CREDIT, item_id=item.id, subject_kind="practitioner",
            subject_key=places.changsha_doctor, ground="wrong", statement="信息有误",
            applicant="张伟", filed_on=date(2025, 9, 26),
        )  # fmt: skip
        objection_id = objection.id
    engine.dispose()
    for username in ("chenjing", "liming", "sunli"):
        client = await as_user(username)
        page = await client.get(f"/admin/credit/objections/{objection_id}")
        assert page.status_code == 200, username
        assert "家庭住址变更未报告" not in page.text and "说明查询用途后查看" in page.text
