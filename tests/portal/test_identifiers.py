"""Identifiers take ASCII digits only: Python's \\d and int() also take full-width and
other scripts' digits, which would pass a checksum and then break hashing (500) or store
a number nobody can search for."""

from __future__ import annotations

from datetime import date

import pytest

from portal.identifiers import (
    IdentifierError,
    check_credit_code,
    check_region,
    check_resident_id,
    is_national_code,
    make_resident_id,
)


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


def test_other_scripts_digits_are_refused_everywhere() -> None:
    number = make_resident_id("430102", date(1980, 5, 17), 12, "male")
    assert check_resident_id(number).number == number
    with pytest.raises(IdentifierError):
        check_resident_id(_full_width(number))
    with pytest.raises(IdentifierError):
        check_region(_full_width("430102"))
    assert is_national_code("D43010200001")
    assert not is_national_code(_full_width("D43010200001"))
    with pytest.raises(IdentifierError):
        check_credit_code(_full_width("91430103MA4L00001X"))
