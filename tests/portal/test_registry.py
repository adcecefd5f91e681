"""Institutions, practitioners and registrations."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from portal.identifiers import make_credit_code, make_resident_id
from portal.models import Practitioner, Registration
from portal.services.errors import ServiceError
from portal.services.registrations import deregister, register
from portal.services.registry import (
    create_institution,
    create_practitioner,
    find_by_id_number,
    private_data,
)
from tests.portal.conftest import HOSPITAL_ADMIN, SECRET, Cast


def test_an_id_number_is_never_stored_whole_but_found_by_exact_match(
    session: Session, cast: Cast
) -> None:
    person = session.exec(
        select(Practitioner).where(Practitioner.national_code == cast.doctor)
    ).one()
    stored = " ".join(str(v) for v in person.model_dump().values())
    assert cast.doctor_id not in stored and "1980-05-17" not in stored
    private = private_data(person, SECRET)
    assert private.id_masked == cast.doctor_id[:3] + "*" * 11 + cast.doctor_id[-4:]
    assert (private.birth_date, person.gender) == (date(1980, 5, 17), "male")
    found = find_by_id_number(session, cast.doctor_id.lower(), SECRET)
    assert found is not None and found.national_code == cast.doctor
    assert (
        find_by_id_number(
            session, make_resident_id("430102", date(1980, 5, 17), 13, "male"), SECRET
        )
        is None
    )


def test_one_person_one_file(session: Session, cast: Cast) -> None:
    with pytest.raises(ServiceError) as refused:
        create_practitioner(
            session,
            HOSPITAL_ADMIN,
            national_code="D43010200099",
            name="张伟",
            id_number=cast.doctor_id,
            secret=SECRET,
        )
    assert refused.value.field == "id_number"
    assert "一人一档" in refused.value.message


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("credit_code", {"credit_code": "12430102MB1A00009X"}),
        ("region", {"region": "4301"}),
        ("kind", {"kind": "clinic"}),
        ("name", {"name": " "}),
    ],
)
def test_a_bad_institution_is_refused_naming_the_field(
    session: Session, field: str, changes: dict[str, str]
) -> None:
    values = {
        "code": "H43010200077",
        "name": "湘雅医院",
        "credit_code": make_credit_code("430000", "444885421"),
        "kind": "hospital",
        "region": "430102",
        "ownership": "public",
    } | changes
    with pytest.raises(ServiceError) as refused:
        create_institution(session, HOSPITAL_ADMIN, **values)
    assert refused.value.field == field


def test_a_bad_id_number_says_what_is_wrong(session: Session) -> None:
    with pytest.raises(ServiceError, match="校验位") as refused:
        create_practitioner(
            session,
            HOSPITAL_ADMIN,
            national_code="D43010200098",
            name="赵敏",
            id_number="430102198005170259",
            secret=SECRET,
        )
    assert refused.value.field == "id_number"


def test_no_commitment_no_registration(session: Session, cast: Cast) -> None:
    with pytest.raises(ServiceError) as refused:
        register(
            session,
            HOSPITAL_ADMIN,
            national_code=cast.nurse,
            institution_code=cast.hospital_b,
            registered_on=date(2025, 6, 1),
            commitment_signed_on=None,
        )
    assert refused.value.field == "commitment_signed_on"
    assert "服务承诺" in refused.value.message


def test_registering_twice_at_one_institution_is_refused(session: Session, cast: Cast) -> None:
    with pytest.raises(ServiceError, match="已在本机构登记备案"):
        register(
            session,
            HOSPITAL_ADMIN,
            national_code=cast.nurse,
            institution_code=cast.hospital_a,
            registered_on=date(2025, 6, 1),
            commitment_signed_on=date(2025, 6, 1),
        )


def test_deregistration_keeps_the_record_with_its_date_and_reason(
    session: Session, cast: Cast
) -> None:
    registration = session.exec(select(Registration)).first()
    assert registration is not None and registration.id is not None
    act = HOSPITAL_ADMIN.__class__(HOSPITAL_ADMIN.actor, HOSPITAL_ADMIN.at, "调离本院")
    deregister(session, act, registration.id, date(2025, 8, 31))
    kept = session.get(Registration, registration.id)
    assert kept is not None
    assert (kept.deregistered_on, kept.deregistered_reason) == (date(2025, 8, 31), "调离本院")
    with pytest.raises(ServiceError, match="已取消"):
        deregister(session, act, registration.id, date(2025, 9, 1))
