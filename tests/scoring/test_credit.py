"""Credit score and grade (RULES §8)."""

from __future__ import annotations

from scoring.credit import CreditFacts, evaluate_credit, exclusion
from scoring.rulesets import credit_ruleset

RULES = credit_ruleset("hunan-credit-2024")


def test_a_score_explains_its_modules_and_grade() -> None:
    result = evaluate_credit(RULES, [20, 15], [10], CreditFacts())
    assert (result.score, result.grade) == (90, "A")
    assert result.incentives
    assert "Hunan-Credit Art. 19" in " ".join(result.explain)


def test_the_blacklist_veto_grades_d_and_blocks_incentives() -> None:
    result = evaluate_credit(RULES, [30], [0], CreditFacts(blacklisted=True))
    assert (result.score, result.grade, result.incentives) == (100, "D", False)
    assert "I-17" in " ".join(result.explain)


def test_exclusions_report_the_first_reason() -> None:
    everything = CreditFacts(fund_use_months=3, used_fund=False, under_investigation=True)
    assert exclusion(RULES, everything) == (
        "under_investigation",
        RULES.exclusions[0][1],
    )
    no_use = exclusion(RULES, CreditFacts(fund_use_months=0, used_fund=False))
    assert no_use is not None and no_use[0] == "no_fund_use"
    short = exclusion(RULES, CreditFacts(fund_use_months=11))
    assert short is not None and short[0] == "short_period"
    assert exclusion(RULES, CreditFacts()) is None


def test_an_excluded_subject_has_no_score() -> None:
    result = evaluate_credit(RULES, [30], [0], CreditFacts(under_investigation=True))
    assert (result.score, result.grade, result.excluded) == (None, None, True)


def test_every_measure_is_explained_with_its_article() -> None:
    result = evaluate_credit(RULES, [30], [0], CreditFacts(), "designated_hospital")
    assert result.measures == (
        "publicised",
        "fewer_inspections",
        "deposit_and_advance",
        "fast_track",
        "pay_first_audit_later",
    )
    lines = [line for line in result.explain if line.startswith("measure ")]
    assert len(lines) == 5
    assert all("Hunan-Credit Art. 31" in line for line in lines)


def test_a_c_grade_insured_person_gets_credit_payment_from_art_31_3() -> None:
    result = evaluate_credit(RULES, [0], [20], CreditFacts(), "insured_person")
    assert (result.grade, result.measures) == ("C", ("credit_payment",))
    assert any("Art. 31(3)" in line and "I-21" in line for line in result.explain)
