"""Identifiers: national practitioner codes, resident ID numbers, unified social credit codes.

Patterns live here, in one place (spec/DESIGN.md "Identifiers"); the checksums follow the
national standards GB 11643-1999 (citizen identity number) and GB 32100-2015 (unified
social credit code).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date

# 医保办函〔2022〕39号: D (doctor) / N (nurse) + 6-digit region + 5-digit sequence;
# HY (pharmacy) / HJ (technical) + 6-digit region + 6-digit sequence.
NATIONAL_CODE_PATTERNS: dict[str, str] = {
    "D": r"D\d{6}\d{5}",
    "N": r"N\d{6}\d{5}",
    "HY": r"HY\d{6}\d{6}",
    "HJ": r"HJ\d{6}\d{6}",
}
PRACTICE_OF_PREFIX = {"D": "doctor", "N": "nurse", "HY": "pharmacist", "HJ": "technician"}
_NATIONAL_CODE = re.compile(
    "|".join(f"(?:{p})" for p in NATIONAL_CODE_PATTERNS.values()), re.ASCII
)  # ASCII: \d would otherwise take other scripts' digits

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class IdentifierError(ValueError):
    """An identifier that fails its pattern or checksum; the message is for the user (Chinese)."""


def is_national_code(code: str) -> bool:
    return _NATIONAL_CODE.fullmatch(code) is not None


def national_code_prefix(code: str) -> str:
    return code[:2] if code[:2] in NATIONAL_CODE_PATTERNS else code[:1]


def check_national_code(code: str) -> str:
    code = code.strip().upper()
    if not is_national_code(code):
        raise IdentifierError(
            "医保相关人员代码格式不正确：应为 D/N + 6 位行政区划 + 5 位顺序号，"
            "或 HY/HJ + 6 位行政区划 + 6 位顺序号"
        )
    return code


def id_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


@dataclass(frozen=True)
class ResidentId:
    """A checked 18-character resident ID number and what it tells (GB 11643)."""

    number: str
    region: str
    birth_date: date
    gender: str  # male | female

    @property
    def masked(self) -> str:
        """First 3 and last 4 characters (RULES §9)."""
        return mask_id(self.number)


def check_resident_id(number: str) -> ResidentId:
    number = number.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", number, re.ASCII):
        raise IdentifierError("身份证号码应为 18 位：17 位数字加 1 位数字或 X")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdentifierError("身份证号码中的出生日期不存在") from None
    if id_check_char(number[:17]) != number[17]:
        raise IdentifierError("身份证号码校验位不正确，请核对")
    gender = "male" if int(number[16]) % 2 else "female"
    return ResidentId(number, number[:6], born, gender)


def mask_id(number: str) -> str:
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def id_digest(number: str, secret: str) -> str:
    """A keyed hash of the ID number: exact-match search without storing the number."""
    key = secret.encode("utf-8")
    return hmac.new(key, number.strip().upper().encode("ascii"), hashlib.sha256).hexdigest()


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def check_credit_code(code: str) -> str:
    """GB 32100: 18 characters from the 31-character set, the last a mod-31 check."""
    code = code.strip().upper()
    if len(code) != 18 or any(c not in _USCC_CHARS for c in code):
        raise IdentifierError("统一社会信用代码应为 18 位数字或大写字母（不含 I、O、Z、S、V）")
    if uscc_check_char(code[:17]) != code[17]:
        raise IdentifierError("统一社会信用代码校验位不正确，请核对")
    return code


def check_region(code: str) -> str:
    """GB/T 2260: a 6-digit administrative division code."""
    code = code.strip()
    if not re.fullmatch(r"[1-8]\d{5}", code, re.ASCII):
        raise IdentifierError("行政区划代码应为 6 位数字（GB/T 2260）")
    return code


def make_resident_id(region: str, born: date, sequence: int, gender: str) -> str:
    """A checksummed ID number (for demo data and tests): sequence 0-499, parity = gender."""
    order = sequence * 2 + (1 if gender == "male" else 0)
    first17 = f"{region}{born:%Y%m%d}{order % 1000:03d}"
    return first17 + id_check_char(first17)


def make_credit_code(region: str, organisation: str, registrar: str = "12") -> str:
    """A checksummed unified social credit code: registrar + region + 9-char organisation code."""
    first17 = f"{registrar}{region}{organisation}"
    return first17 + uscc_check_char(first17)
