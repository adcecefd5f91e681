# ruff: noqa
# mypy: ignore-errors
# Frozen copy of scoring/__init__.py at commit 00ca26d (git archive), imports made relative.
# The baseline of bench/engine.py: do not edit.
"""The rules engine: the regulations as data, and pure functions that interpret them.

No ORM, web, scheduler or clock: every date (``as_of``) is an argument.
"""

from .engine import Timeline, evaluate, shown_period
from .errors import InputError
from .model import (
    Appeal,
    Event,
    Linked,
    Outcome,
    Period,
    Repair,
    Restore,
    Score,
    Shorten,
    StatusOn,
)
from .rulesets import all_rulesets, credit_ruleset, get_ruleset, practitioner_ruleset

__all__ = [
    "Appeal",
    "Event",
    "InputError",
    "Linked",
    "Outcome",
    "Period",
    "Repair",
    "Restore",
    "Score",
    "Shorten",
    "StatusOn",
    "Timeline",
    "all_rulesets",
    "credit_ruleset",
    "evaluate",
    "get_ruleset",
    "practitioner_ruleset",
    "shown_period",
]
