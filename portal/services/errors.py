"""Errors users see: in Chinese, naming the field, so a form can show it beside the input."""

from __future__ import annotations


class ServiceError(ValueError):
    """A refused request. ``field`` names the input; ``message`` is for the user (Chinese)."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        self.field = field
        self.message = message
        self.code = code
        super().__init__(f"{field}: {message}")


class NotFound(ServiceError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message, code="not_found")


_ASCII_WHOLE = frozenset("0123456789")


def checked_text(field: str, value: str, longest: int, *, required: bool = False) -> str:
    """Free text as a service stores it: stripped, at most ``longest`` characters, no
    control characters (a NUL is refused by PostgreSQL and is never meant; line breaks and
    tabs are kept). Refused, never cut short: the user sees the limit and keeps the text."""
    text = (value or "").strip()
    if required and not text:
        raise ServiceError(field, "必须填写")
    if len(text) > longest:
        raise ServiceError(field, f"最多 {longest} 个字符（现 {len(text)} 个）")
    if any((ord(c) < 32 and c not in "\n\r\t") or c == "\x7f" for c in text):
        raise ServiceError(field, "含有不允许的控制字符")
    return text


def checked_whole(field: str, value: str, low: int, high: int) -> int:
    """A whole number typed in ASCII digits (not "１２" or "²", which Python's int() and
    isdigit() take), between ``low`` and ``high``."""
    text = (value or "").strip()
    if not text or len(text) > 12 or not set(text) <= _ASCII_WHOLE:
        raise ServiceError(field, "应为整数（半角数字）")
    number = int(text)
    if not low <= number <= high:
        raise ServiceError(field, f"应在 {low} 到 {high} 之间")
    return number
