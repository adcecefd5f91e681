# ruff: noqa
# mypy: ignore-errors
# Frozen copy of scoring/cases.py at commit 00ca26d (git archive), imports made relative.
# The baseline of bench/engine.py: do not edit.
"""Conformance case files (``../shared/conformance/FORMAT.md``): read, check, evaluate.

Reading a case validates everything and raises :class:`InputError` naming the event index
and field; evaluating it returns the JSON answer the format describes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from .credit import CreditFacts, evaluate_credit
from .dates import parse_iso_date
from .engine import evaluate
from .errors import InputError
from .model import Appeal, Event, Repair, Restore, Score, Shorten
from .points import situation_points, tier_points
from .rulesets import (
    ADJUSTMENTS,
    RESPONSIBILITIES,
    CreditRuleset,
    PractitionerRuleset,
    all_rulesets,
)
from .workdays import WorkCalendar, default_calendar

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CaseLoader(_Base):  # type: ignore[misc]
    """A safe YAML loader that leaves dates as text, so that we can name a bad one."""


CaseLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}

TOP_FIELDS = {
    "practitioner": {"kind", "ruleset", "title", "events", "at", "expect"},
    "deadline": {"kind", "title", "from", "working_days", "expect"},
    "credit": {"kind", "ruleset", "title", "year", "subject", "bonus", "deductions", "facts",
               "expect"},
}  # fmt: skip
EVENT_FIELDS = {
    "score": {"type", "date", "points", "tier", "responsibility", "situation", "amount",
              "adjustment", "case", "violation", "effective"},
    "repair": {"type", "date", "route", "score", "level", "grade", "points"},
    "restore": {"type", "date", "applied"},
    "appeal": {"type", "date", "target", "points"},
    "shorten": {"type", "date", "end"},
}  # fmt: skip
FACT_FIELDS = {
    "fund_use_months": int,
    "used_fund": bool,
    "under_investigation": bool,
    "blacklisted": bool,
    "dishonest": bool,
}


def load_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=CaseLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InputError("", f"not valid YAML: {exc}") from exc


# --- field readers ---------------------------------------------------------------


def _need(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data or data[key] is None:
        raise InputError(f"{where}.{key}" if where else key, "is missing")
    return data[key]


def _int(value: Any, where: str, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(where, f"must be a whole number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise InputError(where, f"must be {bounds}, got {value}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(where, f"must be a number, got {value!r}")
    if value < 0:
        raise InputError(where, f"must not be negative, got {value}")
    return float(value)


def _str(value: Any, where: str, choices: tuple[str, ...] | None = None) -> str:
    if not isinstance(value, str):
        raise InputError(where, f"must be text, got {value!r}")
    if choices is not None and value not in choices:
        raise InputError(where, f"must be one of {', '.join(choices)}, got {value!r}")
    return value


def _date(value: Any, where: str) -> date:
    try:
        return parse_iso_date(value)
    except ValueError as exc:
        raise InputError(where, str(exc)) from exc


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(where, f"must be a mapping, got {value!r}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InputError(where, f"must be a list, got {value!r}")
    return value


def _check_fields(data: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        prefix = f"{where}." if where else ""
        raise InputError(
            f"{prefix}{unknown[0]}", f"unknown field; allowed: {', '.join(sorted(allowed))}"
        )


# --- practitioner cases ----------------------------------------------------------


def read_event(ruleset: PractitionerRuleset, data: Any, where: str, warnings: list[str]) -> Event:
    """One event of a practitioner case, validated against its ruleset."""
    data = _mapping(data, where)
    kind = _str(_need(data, "type", where), f"{where}.type", tuple(EVENT_FIELDS))
    _check_fields(data, EVENT_FIELDS[kind], where)
    day = _date(_need(data, "date", where), f"{where}.date")
    if kind == "score":
        return _read_score(ruleset, data, day, where, warnings)
    if kind == "repair":
        return _read_repair(ruleset, data, day, where)
    if kind == "restore":
        applied = data.get("applied")
        if applied is None:
            return Restore(day)
        applied_on = _date(applied, f"{where}.applied")
        if applied_on > day:
            raise InputError(
                f"{where}.applied",
                f"the application ({applied_on.isoformat()}) cannot be after the approval "
                f"({day.isoformat()}) (RULES I-12)",
            )
        return Restore(day, applied_on)
    if kind == "appeal":
        target = _need(data, "target", where)
        if isinstance(target, bool) or not isinstance(target, str | int):
            raise InputError(f"{where}.target", "must be a case id or an event index")
        points = _int(_need(data, "points", where), f"{where}.points", 0)
        return Appeal(day, target, points)
    return Shorten(day, _date(_need(data, "end", where), f"{where}.end"))


def _read_score(
    ruleset: PractitionerRuleset, data: dict[str, Any], day: date, where: str, warnings: list[str]
) -> Score:
    given = [k for k in ("points", "tier", "situation") if k in data]
    if len(given) != 1:
        raise InputError(
            f"{where}.points",
            "give exactly one of points, tier (+ responsibility) or situation (+ responsibility)"
            + (f"; got {', '.join(given)}" if given else ""),
        )
    adjustment = _str(data.get("adjustment") or "none", f"{where}.adjustment", ADJUSTMENTS)
    responsibility = data.get("responsibility")
    if responsibility is not None:
        responsibility = _str(responsibility, f"{where}.responsibility", RESPONSIBILITIES)
    amount = data.get("amount")
    if amount is not None:
        amount = _number(amount, f"{where}.amount")
    try:
        if "points" in data:
            points = _int(data["points"], f"{where}.points", 1, 12)
            if adjustment != "none":
                warnings.append(
                    f"{where}: adjustment ignored, points were given directly (RULES §3.1)"
                )
            scored_points, cancels, explain = points, False, f"{points} points given"
        elif "tier" in data:
            tier = _int(data["tier"], f"{where}.tier", min(ruleset.tiers), max(ruleset.tiers))
            if responsibility is None:
                raise InputError("responsibility", "is missing")
            scored = tier_points(ruleset, tier, responsibility, adjustment)
            scored_points, cancels, explain = scored.points, scored.cancels, scored.explain
        else:
            situation = _str(data["situation"], f"{where}.situation")
            scored = situation_points(ruleset, situation, responsibility, amount, adjustment)
            if adjustment != "none" and ruleset.situations[situation].points is not None:
                warnings.append(f"{where}: {situation} takes no adjustment (RULES §3.1)")
            scored_points, cancels, explain = scored.points, scored.cancels, scored.explain
    except InputError as exc:
        if exc.where.startswith(where):
            raise
        raise InputError(f"{where}.{exc.where}", exc.message) from exc
    case = data.get("case")
    if case is not None:
        if isinstance(case, bool) or not isinstance(case, str | int):
            raise InputError(f"{where}.case", f"must be a case id, got {case!r}")
        case = str(case)
    violation = data.get("violation")
    if violation is not None:
        if isinstance(violation, bool) or not isinstance(violation, str | int):
            raise InputError(f"{where}.violation", f"must be a violation id, got {violation!r}")
        violation = str(violation)
    effective = data.get("effective")
    return Score(
        date=day,
        points=scored_points,
        case=case,
        violation=violation,
        effective=_date(effective, f"{where}.effective") if effective is not None else None,
        cancels=cancels,
        explain=explain,
    )


def _read_repair(
    ruleset: PractitionerRuleset, data: dict[str, Any], day: date, where: str
) -> Repair:
    route_id = _str(_need(data, "route", where), f"{where}.route")
    route = ruleset.routes.get(route_id)
    if route is None:
        # A route of another province is worth nothing here (not_eligible); a name no
        # ruleset knows is a mistake in the input.
        elsewhere = [
            r.routes[route_id]
            for r in all_rulesets().values()
            if isinstance(r, PractitionerRuleset) and route_id in r.routes
        ]
        if not elsewhere:
            known = sorted(ruleset.routes)
            raise InputError(
                f"{where}.route", f"{route_id!r} is not a repair route; {ruleset.id}: {known}"
            )
        _check_fields(data, {"type", "date", "route", "score", "level", "grade", "points"}, where)
        given = next((data[k] for k in ("score", "level", "grade", "points") if k in data), None)
        return Repair(day, route_id, given if isinstance(given, str | int) else None)
    extra = [k for k in ("score", "level", "grade", "points") if k in data and k != route.param]
    if extra:
        takes = f"takes {route.param}" if route.param else "takes no parameter"
        raise InputError(f"{where}.{extra[0]}", f"route {route_id} {takes}")
    param: str | int | None = None
    if route.param == "score":
        param = _int(_need(data, "score", where), f"{where}.score", 0, 100)
    elif route.param == "points":
        param = _int(_need(data, "points", where), f"{where}.points", 0, 12)
    elif route.param is not None:
        value = _need(data, route.param, where)
        param = _str(str(value), f"{where}.{route.param}", route.choices())
    return Repair(day, route_id, param)


@dataclass(frozen=True)
class PractitionerCase:
    ruleset: PractitionerRuleset
    events: list[Event]
    at: list[date]
    warnings: list[str]


def read_practitioner(data: dict[str, Any]) -> PractitionerCase:
    ruleset_id = _str(_need(data, "ruleset", ""), "ruleset")
    ruleset = all_rulesets().get(ruleset_id)
    if not isinstance(ruleset, PractitionerRuleset):
        known = sorted(k for k, r in all_rulesets().items() if r.kind == "practitioner")
        raise InputError("ruleset", f"unknown ruleset {ruleset_id!r}; known: {', '.join(known)}")
    warnings: list[str] = []
    raw_events = _list(_need(data, "events", ""), "events")
    events = [read_event(ruleset, e, f"events[{i}]", warnings) for i, e in enumerate(raw_events)]
    at = [_date(d, f"at[{i}]") for i, d in enumerate(_list(data.get("at") or [], "at"))]
    return PractitionerCase(ruleset, events, at, warnings)


def evaluate_practitioner(
    data: dict[str, Any], calendar: WorkCalendar | None = None
) -> dict[str, Any]:
    case = read_practitioner(data)
    timeline = evaluate(case.ruleset, case.events, calendar)
    return {
        "events": [o.to_json() for o in timeline.outcomes],
        "at": {d.isoformat(): timeline.status_on(d).to_json() for d in case.at},
        "warnings": case.warnings + timeline.warnings,
    }


# --- deadline and credit cases ---------------------------------------------------


def evaluate_deadline(data: dict[str, Any], calendar: WorkCalendar | None = None) -> dict[str, Any]:
    """RULES I-9: the N-th working day strictly after ``from`` (before it when N < 0)."""
    start = _date(_need(data, "from", ""), "from")
    days = _int(_need(data, "working_days", ""), "working_days")
    if days == 0:
        raise InputError("working_days", "must not be 0")
    warnings: list[str] = []
    due = (calendar or default_calendar()).add_working_days(start, days, warnings)
    return {"due": due.isoformat(), "warnings": warnings}


def evaluate_credit_case(data: dict[str, Any]) -> dict[str, Any]:
    ruleset_id = _str(_need(data, "ruleset", ""), "ruleset")
    ruleset = all_rulesets().get(ruleset_id)
    if not isinstance(ruleset, CreditRuleset):
        known = sorted(k for k, r in all_rulesets().items() if r.kind == "credit")
        raise InputError("ruleset", f"unknown credit ruleset {ruleset_id!r}; known: {known}")
    year = _int(_need(data, "year", ""), "year", ruleset.effective_from.year)
    subject = _mapping(_need(data, "subject", ""), "subject")
    _check_fields(subject, {"type"}, "subject")
    subject_type = _str(_need(subject, "type", "subject"), "subject.type", ruleset.subject_types)
    items: dict[str, list[float]] = {}
    for module in ("bonus", "deductions"):
        values = []
        for i, item in enumerate(_list(data.get(module) or [], module)):
            item = _mapping(item, f"{module}[{i}]")
            _check_fields(item, {"indicator", "points"}, f"{module}[{i}]")
            _str(_need(item, "indicator", f"{module}[{i}]"), f"{module}[{i}].indicator")
            values.append(_number(_need(item, "points", f"{module}[{i}]"), f"{module}[{i}].points"))
        items[module] = values
    facts_data = _mapping(data.get("facts") or {}, "facts")
    _check_fields(facts_data, set(FACT_FIELDS), "facts")
    facts: dict[str, Any] = {}
    for key, kind in FACT_FIELDS.items():
        if key in facts_data:
            value = facts_data[key]
            if kind is int:
                facts[key] = _int(value, f"facts.{key}", 0, 12)
            elif not isinstance(value, bool):
                raise InputError(f"facts.{key}", f"must be true or false, got {value!r}")
            else:
                facts[key] = value
    result = evaluate_credit(
        ruleset, items["bonus"], items["deductions"], CreditFacts(**facts), subject_type
    )
    answer = result.to_json()
    answer["year"] = year
    answer["warnings"] = []
    if ruleset.effective_to is not None and year > ruleset.effective_to.year:
        answer["warnings"].append(
            f"{year} is after {ruleset.id} expired on {ruleset.effective_to.isoformat()}; "
            f"evaluated under it (RULES I-1)"
        )
    return answer


def evaluate_case(data: Any, calendar: WorkCalendar | None = None) -> dict[str, Any]:
    """The engine's answer to one case (every ``expect`` key is ignored)."""
    data = _mapping(data, "case")
    kind = data.get("kind", "practitioner")
    if kind not in TOP_FIELDS:
        raise InputError("kind", f"must be one of {', '.join(TOP_FIELDS)}, got {kind!r}")
    _check_fields(data, TOP_FIELDS[kind], "")
    if kind == "practitioner":
        return evaluate_practitioner(data, calendar)
    if kind == "deadline":
        return evaluate_deadline(data, calendar)
    return evaluate_credit_case(data)


def evaluate_file(path: Path, calendar: WorkCalendar | None = None) -> dict[str, Any]:
    return evaluate_case(load_yaml(path.read_text(encoding="utf-8")), calendar)
