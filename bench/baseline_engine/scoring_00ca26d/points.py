# ruff: noqa
# mypy: ignore-errors
# Frozen copy of scoring/points.py at commit 00ca26d (git archive), imports made relative.
# The baseline of bench/engine.py: do not edit.
"""Points for one event (RULES §3)."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InputError
from .rulesets import ADJUSTMENTS, RESPONSIBILITIES, PractitionerRuleset, Situation


@dataclass(frozen=True, slots=True)
class EventPoints:
    points: int
    cancels: bool
    explain: str


def tier_points(
    ruleset: PractitionerRuleset, tier: int, responsibility: str, adjustment: str = "none"
) -> EventPoints:
    """Points from the tier, the responsibility and an adjustment.

    Hunan-Rules Art. 8; Hainan-Rules Art. 21; Anhui-Rules Art. 12-16; National-Procedure
    Art. 25: within a tier, general / important / main responsibility gets the low / middle /
    high value ("按对应记分档次内从低到高记分"). Adjustments (National-Procedure Art. 25;
    Anhui-Rules Art. 12; Hainan-Rules Art. 19): 从轻 / 从重 move one point within the tier
    ("在同一记分档次内", RULES I-18); 减轻一档 / 加重一档 keep the position one tier down / up,
    staying in tier 1 / tier 4 at the ends (RULES I-2).
    """
    if tier not in ruleset.tiers:
        raise InputError("tier", f"must be one of {sorted(ruleset.tiers)}, got {tier!r}")
    if responsibility not in RESPONSIBILITIES:
        raise InputError(
            "responsibility", f"must be general, important or main, got {responsibility!r}"
        )
    if adjustment not in ADJUSTMENTS:
        raise InputError("adjustment", f"must be one of {', '.join(ADJUSTMENTS)}")
    position = RESPONSIBILITIES.index(responsibility)
    tiers = sorted(ruleset.tiers)
    if adjustment == "lighter_tier":
        tier = tiers[max(0, tiers.index(tier) - 1)]
    elif adjustment == "heavier_tier":
        tier = tiers[min(len(tiers) - 1, tiers.index(tier) + 1)]
    low, _, high = ruleset.tiers[tier]
    points = ruleset.tiers[tier][position]
    if adjustment == "lighter":
        points = max(low, points - 1)
    elif adjustment == "heavier":
        points = min(high, points + 1)
    note = "" if adjustment == "none" else f", adjustment {adjustment} (National-Procedure Art. 25)"
    return EventPoints(
        points, False, f"tier {tier} ({low}-{high}), {responsibility}{note}: {points} points"
    )


def situation_tier(situation: Situation, amount: int | float | None) -> tuple[int, str]:
    """The tier of a situation; Anhui picks it by the responsible amount.

    Anhui-Rules Art. 13-16, 31 (责任金额): e.g. "低于十万元" / "十万元以上（含十万元）".
    """
    if situation.tier is not None:
        return situation.tier, situation.ref
    if amount is None:
        raise InputError("amount", f"{situation.id} needs the responsible amount (责任金额)")
    for row in situation.amount_tiers:
        if row.below is None or amount < row.below:
            return row.tier, row.ref
    raise AssertionError("amount tiers must end with an unbounded row")


def situation_points(
    ruleset: PractitionerRuleset,
    situation_id: str,
    responsibility: str | None,
    amount: int | float | None = None,
    adjustment: str = "none",
) -> EventPoints:
    """Points for a catalogued situation (RULES §3.2).

    A fixed score takes no adjustment and ignores responsibility (Anhui-Rules Art. 17:
    "均一次记12分"); a cancelling situation scores 0 and cancels the qualification at once
    (Anhui-Rules Art. 18, RULES I-3).
    """
    situation = ruleset.situations.get(situation_id)
    if situation is None:
        raise InputError("situation", f"{situation_id!r} is not in the {ruleset.id} catalogue")
    if amount is not None and amount < 0:
        raise InputError("amount", "must not be negative")
    if situation.points is not None:
        return EventPoints(
            situation.points,
            situation.cancels,
            f"{situation.id} {situation.title}: {situation.points} points ({situation.ref})",
        )
    if responsibility is None:
        raise InputError("responsibility", f"{situation.id} needs a responsibility level")
    tier, ref = situation_tier(situation, amount)
    scored = tier_points(ruleset, tier, responsibility, adjustment)
    return EventPoints(
        scored.points, False, f"{situation.id} {situation.title} ({ref}); {scored.explain}"
    )
