"""The shared checks of free text and whole numbers: refused, never cut short or guessed."""

from __future__ import annotations

import pytest

from portal.services.errors import ServiceError, checked_text, checked_whole


def test_text_is_stripped_and_refused_when_too_long_or_with_control_characters() -> None:
    assert checked_text("title", "  行政处罚\n第二行 ", 20) == "行政处罚\n第二行"
    for bad in ("a\x00b", "a\x1bb", "x\x7f"):
        with pytest.raises(ServiceError, match="控制字符") as caught:
            checked_text("title", bad, 20)
        assert caught.value.field == "title"
    with pytest.raises(ServiceError, match="最多 3 个字符"):
        checked_text("title", "abcd", 3)
    with pytest.raises(ServiceError, match="必须填写"):
        checked_text("title", "   ", 3, required=True)


def test_whole_numbers_are_ascii_digits_in_range() -> None:
    assert checked_whole("year", " 2025 ", 2000, 2100) == 2025
    for bad in ("２０２５", "²", "20_25", "-1", "", "1e3", "٢٠٢٥"):
        with pytest.raises(ServiceError) as caught:
            checked_whole("year", bad, 0, 3000)
        assert caught.value.field == "year"
    with pytest.raises(ServiceError, match="2000 到 2100"):
        checked_whole("year", "1999", 2000, 2100)
