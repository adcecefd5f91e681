"""The rules engine: the regulations as data, and pure functions that interpret them.

No ORM, web, scheduler or clock: every date (``as_of``) is an argument.
"""

from scoring.engine import Timeline, evaluate, shown_period
from scoring.errors import InputError
from scoring.model import (
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
from scoring.rulesets import all_rulesets, credit_ruleset, get_ruleset, practitioner_ruleset

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
