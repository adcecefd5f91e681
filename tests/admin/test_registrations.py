"""Registrations: search within scope, register, deregister; rights, CSRF, double
submission and errors that keep what was typed."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlmodel import Session, select

from portal.db import make_engine
from portal.identifiers import make_resident_id
from portal.models import Institution, Practitioner, Registration
from tests.admin.conftest import Places, post_form, token_in

YUEYANG_DOCTOR_ID = make_resident_id("430602", date(1977, 8, 9), 3, "male")


def registrations_of(url: str, code: str) -> list[tuple[str, bool]]:
    """(institution code, still current) of each registration of a person."""
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.exec(
            select(Institution.code, Registration.deregistered_on)
            .join(Registration, Registration.institution_id == Institution.id)  # type: ignore[arg-type]
            .join(Practitioner, Practitioner.id == Registration.practitioner_id)  # type: ignore[arg-type]
            .where(Practitioner.national_code == code)
            .order_by(Registration.id)  # type: ignore[arg-type]
        ).all()
    engine.dispose()
    return [(c, off is None) for c, off in rows]


def form(places: Places, **changes: str) -> dict[str, str]:
    return {
        "national_code": places.yueyang_doctor,
        "institution_code": places.changsha_hospital,
        "registered_on": "2025-07-01",
        "commitment_signed_on": "2025-06-30",
        "multi_site": "1",
        # a person from elsewhere is registered only with their ID number (admin/registrations)
        "id_number": YUEYANG_DOCTOR_ID,
    } | changes


async def _token(site: Any) -> str:
    page = await site.get("/admin/registrations")
    assert page.status_code == 200
    return token_in(page.text)


async def test_it_searches_within_scope(as_user: Any, places: Places) -> None:
    site = await as_user("liming")
    found = await site.get("/admin/registrations", params={"q": "张"})
    assert found.status_code == 200 and "张伟" in found.text and "李娜" not in found.text
    by_code = await site.get("/admin/registrations", params={"q": places.changsha_nurse.lower()})
    assert "李娜" in by_code.text
    by_place = await site.get("/admin/registrations", params={"q": "第一医院"})
    assert "张伟" in by_place.text and "李娜" in by_place.text
    elsewhere = await site.get("/admin/registrations", params={"q": "王强"})
    assert "查询结果（0 条）" in elsewhere.text and places.yueyang_doctor not in elsewhere.text
    province = await as_user("zhoumin")
    anywhere = await province.get("/admin/registrations", params={"q": "王强"})
    assert "查询结果（1 条）" in anywhere.text and places.yueyang_doctor in anywhere.text


async def test_institution_admin_sees_only_its_staff(as_user: Any, places: Places) -> None:
    site = await as_user("liuyang")
    page = await site.get("/admin/registrations")
    assert "张伟" in page.text and "李娜" in page.text and "王强" not in page.text
    offered = re.findall(r'<option value="([^"]+)"', page.text)
    assert offered == [places.changsha_hospital]  # its own institution only


async def test_it_registers(as_user: Any, admin_url: str, places: Places) -> None:
    site = await as_user("liming")
    token = await _token(site)
    done = await post_form(site, "/admin/registrations", {**form(places), "form_token": token})
    assert done.status_code == 303
    assert done.headers["location"] == f"/admin/practitioners/{places.yueyang_doctor}"
    assert registrations_of(admin_url, places.yueyang_doctor) == [
        (places.yueyang_hospital, True), (places.changsha_hospital, True),
    ]  # fmt: skip
    page = await site.get(done.headers["location"])  # now within 长沙's reach: multi-site
    assert page.status_code == 200 and "多点执业" in page.text


async def test_a_double_submission_registers_once(
    as_user: Any, admin_url: str, places: Places
) -> None:
    site = await as_user("liming")
    token = await _token(site)
    body = {**form(places), "form_token": token}
    first = await post_form(site, "/admin/registrations", body)
    second = await post_form(site, "/admin/registrations", body)
    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == first.headers["location"]
    assert len(registrations_of(admin_url, places.yueyang_doctor)) == 2  # 岳阳 + one 长沙


async def test_institution_admin_cannot_register_elsewhere(
    as_user: Any, admin_url: str, places: Places
) -> None:
    site = await as_user("liuyang")
    token = await _token(site)
    for other in (places.yueyang_hospital, places.changsha_pharmacy):
        refused = await post_form(
            site, "/admin/registrations",
            {**form(places, institution_code=other), "form_token": token},
        )  # fmt: skip
        assert refused.status_code == 404 and "未找到机构代码" in refused.text
    assert registrations_of(admin_url, places.yueyang_doctor) == [(places.yueyang_hospital, True)]


async def test_auditor_cannot_post(as_user: Any, admin_url: str, places: Places) -> None:
    for username in ("sunli", "chenjing"):
        site = await as_user(username)
        page = await site.get("/admin/registrations")
        assert page.status_code == 200
        assert 'method="post" action="/admin/registrations"' not in page.text  # no form
        refused = await post_form(
            site, "/admin/registrations", {**form(places), "form_token": "x" * 20}
        )
        assert refused.status_code == 403
        assert (await site.get("/admin/registrations/1/deregister")).status_code == 403
        refused = await post_form(
            site, "/admin/registrations/1/deregister",
            {"on": "2025-07-01", "reason": "离职", "form_token": "y" * 20},
        )  # fmt: skip
        assert refused.status_code == 403
        await post_form(site, "/admin/logout", {})
    assert len(registrations_of(admin_url, places.yueyang_doctor)) == 1
    assert registrations_of(admin_url, places.changsha_doctor) == [(places.changsha_hospital, True)]


async def test_it_requires_csrf(as_user: Any, admin_url: str, places: Places) -> None:
    site = await as_user("liming")
    token = await _token(site)
    refused = await post_form(
        site, "/admin/registrations", {**form(places), "form_token": token}, csrf=False
    )
    assert refused.status_code == 403
    assert len(registrations_of(admin_url, places.yueyang_doctor)) == 1


async def test_bad_input_keeps_what_was_typed(as_user: Any, admin_url: str, places: Places) -> None:
    site = await as_user("liming")
    token = await _token(site)
    bad = await post_form(
        site, "/admin/registrations",
        {**form(places, registered_on="2025-13-01"), "form_token": token},
    )  # fmt: skip
    assert bad.status_code == 400
    assert f'value="{places.yueyang_doctor}"' in bad.text and 'value="2025-13-01"' in bad.text
    assert re.search(r'id="registered_on"[^>]*aria-invalid="true"', bad.text)
    assert "日期应写作 YYYY-MM-DD" in bad.text
    assert f'<option value="{places.changsha_hospital}" selected>' in bad.text
    unsigned = await post_form(
        site, "/admin/registrations",
        {**form(places, commitment_signed_on=""), "form_token": token},
    )  # fmt: skip
    assert unsigned.status_code == 400 and "未签署医保服务承诺" in unsigned.text
    twice = await post_form(
        site, "/admin/registrations",
        {**form(places, national_code=places.changsha_doctor), "form_token": token},
    )  # fmt: skip
    assert twice.status_code == 400 and "该人员已在本机构登记备案" in twice.text
    unknown = await post_form(
        site, "/admin/registrations",
        {**form(places, national_code="D43010209999"), "form_token": token},
    )  # fmt: skip
    assert unknown.status_code == 404 and 'value="D43010209999"' in unknown.text
    assert len(registrations_of(admin_url, places.yueyang_doctor)) == 1
    # The errors recorded nothing, so the same form still registers once.
    done = await post_form(site, "/admin/registrations", {**form(places), "form_token": token})
    assert done.status_code == 303 and len(registrations_of(admin_url, places.yueyang_doctor)) == 2


async def test_it_deregisters_with_a_reason(as_user: Any, admin_url: str, places: Places) -> None:
    site = await as_user("liuyang")
    person = await site.get(f"/admin/practitioners/{places.changsha_nurse}")
    link = re.search(r'href="(/admin/registrations/\d+/deregister)"', person.text)
    assert link
    page = await site.get(link.group(1))
    assert page.status_code == 200 and "李娜" in page.text
    path, token = link.group(1), token_in(page.text)
    bad = await post_form(site, path, {"on": "2025-07-01", "reason": "", "form_token": token})
    assert bad.status_code == 400 and "请填写取消登记备案的原因" in bad.text
    assert 'value="2025-07-01"' in bad.text
    early = await post_form(site, path, {"on": "2025-01-01", "reason": "调离", "form_token": token})
    assert early.status_code == 400 and "不能早于登记备案日期" in early.text
    assert ">调离</textarea>" in early.text
    body = {"on": "2025-07-01", "reason": "调离", "form_token": token}
    done, again = await post_form(site, path, body), await post_form(site, path, body)
    assert done.status_code == again.status_code == 303
    assert registrations_of(admin_url, places.changsha_nurse) == [(places.changsha_hospital, False)]


async def test_deregistering_hides_other_regions(as_user: Any, places: Places) -> None:
    site = await as_user("liming")
    person = await site.get(f"/admin/practitioners/{places.changsha_doctor}")
    link = re.search(r'href="(/admin/registrations/\d+/deregister)"', person.text)
    assert link
    await post_form(site, "/admin/logout", {})
    other = await as_user("wangfang")
    assert (await other.get(link.group(1))).status_code == 404
    refused = await post_form(
        other, link.group(1), {"on": "2025-07-01", "reason": "离职", "form_token": "z" * 20}
    )
    assert refused.status_code == 404


async def test_a_person_from_elsewhere_needs_their_id_number(
    as_user: Any, admin_url: str, places: Places
) -> None:
    """Registering brings a person (and their private data) into the officer's scope: an
    officer cannot pull another city's practitioner in by the code alone."""
    site = await as_user("liming")
    for number in ("", "110101199003074514", "not-a-number"):
        refused = await post_form(
            site, "/admin/registrations",
            {**form(places, id_number=number), "form_token": await _token(site)},
        )  # fmt: skip
        assert refused.status_code == 404 and "身份证件号码" in refused.text, number
    assert registrations_of(admin_url, places.yueyang_doctor) == [(places.yueyang_hospital, True)]
    assert (await site.get(f"/admin/practitioners/{places.yueyang_doctor}")).status_code == 404
