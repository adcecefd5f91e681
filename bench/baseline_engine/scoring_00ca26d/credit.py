# ruff: noqa
# mypy: ignore-errors
# Frozen copy of scoring/credit.py at commit 00ca26d (git archive), imports made relative.
# The baseline of bench/engine.py: do not edit.
"""Credit score and grade (RULES §8, Hunan-Credit ch. 4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .rulesets import CreditMeasure, CreditRuleset


@dataclass(frozen=True, slots=True)
class CreditFacts:
    """What decides whether a subject is evaluated and whether incentives apply.

    Missing facts default to a full year of fund use and nothing adverse (FORMAT).
    """

    fund_use_months: int = 12
    used_fund: bool = True
    under_investigation: bool = False
    blacklisted: bool = False
    dishonest: bool = False


@dataclass(frozen=True, slots=True)
class CreditResult:
    score: float | None
    grade: str | None
    excluded: bool
    reason: str | None
    incentives: bool
    explain: tuple[str, ...]
    measures: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        score: float | int | None = self.score
        if isinstance(score, float) and score.is_integer():
            score = int(score)
        return {
            "score": score,
            "grade": self.grade,
            "excluded": self.excluded,
            "reason": self.reason,
            "incentives": self.incentives,
            "measures": list(self.measures),
            "explain": list(self.explain),
        }


def exclusion(ruleset: CreditRuleset, facts: CreditFacts) -> tuple[str, str] | None:
    """Hunan-Credit Art. 20: subjects not evaluated this period, first reason reported.

    (3) under investigation (立案) and not concluded; (2) no fund use in the year; (1) fund
    use shorter than a full evaluation year. Reported in that order (RULES §8).
    """
    applies = {
        "under_investigation": facts.under_investigation,
        "no_fund_use": not facts.used_fund,
        "short_period": facts.used_fund and facts.fund_use_months < ruleset.full_year_months,
    }
    for reason, ref in ruleset.exclusions:
        if applies.get(reason):
            return reason, ref
    return None


def grade_for(ruleset: CreditRuleset, score: float) -> str:
    """Hunan-Credit Art. 19: A 85–100, B 65–85, C 40–65, D 0–40; a band includes its lower
    bound (RULES I-16)."""
    for band in ruleset.grades:
        if score >= band.min:
            return band.grade
    return ruleset.grades[-1].grade


def evaluate_credit(
    ruleset: CreditRuleset,
    bonus: list[float],
    deductions: list[float],
    facts: CreditFacts,
    subject: str = "practitioner",
) -> CreditResult:
    """Score = min(30, Σ bonus) + max(0, 70 − Σ deductions) (Hunan-Credit Art. 19, RULES I-15).

    A subject blacklisted during the year is graded D whatever its score (RULES I-17).
    Incentives (Hunan-Credit Art. 31) need grade A or B and no dishonesty information;
    ``measures`` are the Art. 31-32 measures for the grade and the subject's kind (I-21).
    """
    excluded = exclusion(ruleset, facts)
    if excluded is not None:
        reason, ref = excluded
        return CreditResult(None, None, True, reason, False, (f"not evaluated: {ref}",))
    bonus_part = min(ruleset.bonus_max, sum(bonus))
    deduction_part = max(0.0, ruleset.deduction_base - sum(deductions))
    score = round(bonus_part + deduction_part, 9)  # float noise only; 84.99999 stays B
    explain = [
        f"bonus {sum(bonus):g} capped at {ruleset.bonus_max:g} → {bonus_part:g}; "
        f"{ruleset.deduction_base:g} − deductions {sum(deductions):g} → {deduction_part:g} "
        f"({ruleset.score_ref})"
    ]
    grade = grade_for(ruleset, score)
    explain.append(f"score {score:g}: grade {grade} ({ruleset.grades_ref})")
    if facts.blacklisted and ruleset.veto_grade is not None:
        grade = ruleset.veto_grade
        explain.append(f"blacklisted during the year: grade {grade} ({ruleset.veto_ref})")
    clean = not (facts.dishonest or facts.blacklisted)
    incentives = grade in ruleset.incentive_grades and clean
    if grade in ruleset.incentive_grades and not clean:
        explain.append(f"dishonesty information: no incentives ({ruleset.incentives_ref})")
    measures = measures_for(ruleset, grade, subject, clean)
    explain.extend(f"measure {m.id} {m.title} ({m.ref})" for m in measures)
    return CreditResult(
        score, grade, False, None, incentives, tuple(explain), tuple(m.id for m in measures)
    )


def measures_for(
    ruleset: CreditRuleset, grade: str, subject: str, clean: bool
) -> tuple[CreditMeasure, ...]:
    """Hunan-Credit Art. 31-32: the measures for ``grade`` and the subject's kind, in the
    ruleset's order. Art. 31 measures need no dishonesty information; Art. 31(3) gives
    医保信用支付 to insured persons graded A, B or C (RULES I-21)."""
    if subject not in ruleset.subject_types:
        raise ValueError(f"unknown subject type {subject!r}")
    institution = subject in ruleset.institution_types
    return tuple(m for m in ruleset.measures if m.applies(grade, subject, institution, clean))
