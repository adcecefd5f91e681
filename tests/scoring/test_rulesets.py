"""Rulesets are data, every entry cites its article, and a new province needs no code."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from scoring import Score, evaluate
from scoring.rulesets import (
    RULESET_DIR,
    PractitionerRuleset,
    RulesetError,
    all_rulesets,
    load_ruleset_file,
)

CITATION = re.compile(r"(Art\. \d+|RULES I-\d+|RULES §\d)")


def test_the_four_rulesets_load_with_their_dates() -> None:
    rulesets = all_rulesets()
    assert {r: (v.effective_from, v.effective_to) for r, v in rulesets.items()} == {
        "hunan-2025": (date(2025, 3, 1), date(2027, 2, 28)),
        "anhui-2025": (date(2025, 4, 25), None),
        "hainan-2025": (date(2025, 4, 1), date(2028, 3, 31)),
        "hunan-credit-2024": (date(2024, 5, 1), date(2029, 4, 30)),
    }


@pytest.mark.parametrize("ruleset_id", ["hunan-2025", "anhui-2025", "hainan-2025"])
def test_every_rule_cites_its_article(ruleset_id: str) -> None:
    rs = all_rulesets()[ruleset_id]
    assert isinstance(rs, PractitionerRuleset)
    refs = [rs.effective_ref, rs.tiers_ref, rs.year_ref, rs.start_ref, rs.repairs_ref]
    refs += [rs.shortening_ref, rs.restore_window_ref, rs.restore_points_ref, rs.settlement_ref]
    refs += [s.ref for s in rs.situations.values()]
    refs += [c.ref for c in rs.cumulative] + [c.ref for c in rs.single.values()]
    refs += [m.ref for m in rs.measures if m.measure != "none" or m.low > 0]
    refs += [r.ref for r in rs.routes.values()] + [c.ref for c in rs.caps.values()]
    refs += [d.ref for d in rs.deadlines.values()]
    uncited = [ref for ref in refs if not CITATION.search(ref)]
    assert uncited == []


def test_situation_ids_follow_the_catalogue_numbering() -> None:
    hunan = all_rulesets()["hunan-2025"]
    assert isinstance(hunan, PractitionerRuleset)
    assert [s for s in hunan.situations if s.startswith("hunan-2025.4.")] == [
        "hunan-2025.4.1",
        "hunan-2025.4.2",
        "hunan-2025.4.3",
        "hunan-2025.4.4",
    ]


def test_a_new_province_is_a_new_file(tmp_path: Path) -> None:
    text = (RULESET_DIR / "hainan-2025.yaml").read_text(encoding="utf-8")
    text = text.replace("hainan-2025", "testland-2026").replace("cap: 12", "cap: 10")
    text = text.replace("effective_from: 2025-04-01", "effective_from: 2026-01-01")
    path = tmp_path / "testland-2026.yaml"
    path.write_text(text, encoding="utf-8")
    testland = load_ruleset_file(path)
    assert isinstance(testland, PractitionerRuleset)
    timeline = evaluate(testland, [Score(date(2026, 3, 2), 7), Score(date(2026, 3, 3), 7)])
    assert timeline.year_points_on(date(2026, 3, 3)) == 10  # its own cap, no engine change
    assert timeline.status_on(date(2026, 3, 3)).period_end == date(2026, 7, 2)


def test_a_malformed_ruleset_fails_loudly(tmp_path: Path) -> None:
    path = tmp_path / "hunan-2025.yaml"
    shutil.copy(RULESET_DIR / "hunan-2025.yaml", path)
    path.write_text(
        path.read_text(encoding="utf-8").replace("suspend_months: 3,", ""), encoding="utf-8"
    )
    with pytest.raises(RulesetError, match="suspend_months or terminate_years"):
        load_ruleset_file(path)


def test_minimum_publication_months_are_data_per_category(tmp_path: Path) -> None:
    """RULES I-20: the minimum publication period before a credit repair is configurable per
    kind of information; a bad value fails loudly."""
    from scoring.rulesets import CreditRuleset

    text = (RULESET_DIR / "hunan-credit-2024.yaml").read_text(encoding="utf-8")
    path = tmp_path / "hunan-credit-2024.yaml"
    path.write_text(text.replace("    default: 3\n", "    default: 3\n    judicial: 24\n"))
    loaded = load_ruleset_file(path)
    assert isinstance(loaded, CreditRuleset)
    assert loaded.minimum_publication_months == {"default": 3, "judicial": 24}
    path.write_text(text.replace("    default: 3\n", "    default: -1\n"))
    with pytest.raises(RulesetError, match=r"minimum_publication_months\.default"):
        load_ruleset_file(path)
