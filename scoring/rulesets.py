"""Rulesets: the regulations as data (``scoring/rulesets/*.yaml``).

One file per regulation, every entry citing its article. This module only reads and checks
those files into typed, immutable objects; the engine interprets them. Adding a province
is adding a file (and conformance cases), with no change here or in the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from scoring.dates import parse_iso_date

RULESET_DIR = Path(__file__).parent / "rulesets"

Responsibility = Literal["general", "important", "main"]
RESPONSIBILITIES: tuple[Responsibility, ...] = ("general", "important", "main")
ADJUSTMENTS = ("none", "lighter", "lighter_tier", "heavier", "heavier_tier")
PeriodKind = Literal["suspension", "termination", "cancellation"]


class RulesetError(ValueError):
    """A ruleset file is malformed (a deployment error: fail loudly)."""


@dataclass(frozen=True, slots=True)
class AmountTier:
    below: int | None  # exclusive upper bound in CNY; None = no bound
    tier: int
    ref: str


@dataclass(frozen=True, slots=True)
class Situation:
    id: str
    title: str
    ref: str
    tier: int | None = None
    amount_tiers: tuple[AmountTier, ...] = ()
    points: int | None = None  # fixed points regardless of responsibility
    cancels: bool = False  # cancels the qualification at once (RULES I-3)

    @property
    def needs_amount(self) -> bool:
        return bool(self.amount_tiers)

    @property
    def needs_responsibility(self) -> bool:
        return self.points is None


@dataclass(frozen=True, slots=True)
class Consequence:
    """One row of a threshold table: a suspension of n months or a termination of n years."""

    row: Literal["cumulative", "single"]
    points: int
    kind: Literal["suspension", "termination"]
    length: int  # months for a suspension, years for a termination
    ref: str

    @property
    def severity(self) -> tuple[int, int]:
        """RULES §5.2 step 3: any termination beats any suspension, then the longer."""
        return (1 if self.kind == "termination" else 0, self.length)

    def describe(self) -> str:
        unit = "month(s) suspension" if self.kind == "suspension" else "year(s) termination"
        row = "cumulative" if self.row == "cumulative" else "one case of"
        return f"{row} {self.points} points: {self.length} {unit} ({self.ref})"


@dataclass(frozen=True, slots=True)
class Measure:
    low: int
    high: int | None
    measure: str
    ref: str


@dataclass(frozen=True, slots=True)
class Cap:
    id: str
    uses: int | None
    points: int | None
    ref: str


@dataclass(frozen=True, slots=True)
class RepairRoute:
    id: str
    ref: str
    param: str | None = None  # score | level | grade | points | None
    value: int | None = None
    values: tuple[tuple[str, int], ...] = ()
    bands: tuple[tuple[int, int, int], ...] = ()  # (min, max, points)
    cap: str | tuple[tuple[str, str], ...] | None = None
    _value_of: dict[str, int] = field(init=False, repr=False, compare=False)
    _cap_of: dict[str, str] = field(init=False, repr=False, compare=False)
    _terms: dict[tuple[type, object], tuple[int, str | None]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_value_of", dict(self.values))
        cap_of = dict(self.cap) if self.cap is not None and not isinstance(self.cap, str) else {}
        object.__setattr__(self, "_cap_of", cap_of)
        object.__setattr__(self, "_terms", {})

    def terms(self, param: object) -> tuple[int, str | None]:
        """``(worth(param), cap_id(param))``, remembered for each parameter."""
        key = (param.__class__, param)
        found = self._terms.get(key)
        if found is None:
            found = self._terms[key] = (self.worth(param), self.cap_id(param))
        return found

    def choices(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.values)

    def worth(self, param: object) -> int:
        """The route's value for this parameter (the caller has validated it)."""
        if self.value is not None:
            return self.value
        if self.param == "points":
            assert isinstance(param, int)
            return param
        if self.bands:
            assert isinstance(param, int)
            for low, high, points in self.bands:
                if low <= param <= high:
                    return points
            return 0
        return self._value_of[str(param)]

    def cap_id(self, param: object) -> str | None:
        if self.cap is None or isinstance(self.cap, str):
            return self.cap
        return self._cap_of.get(str(param))


@dataclass(frozen=True, slots=True)
class Deadline:
    id: str
    working_days: int
    after: str
    title: str
    ref: str


@dataclass(frozen=True)
class PractitionerRuleset:
    id: str
    name: str
    document: str
    source: str
    effective_from: date
    effective_to: date | None
    effective_ref: str
    tiers: dict[int, tuple[int, int, int]]
    tiers_ref: str
    situations: dict[str, Situation]
    year_cap: int | None
    year_ref: str
    case_grouping: str
    start: Literal["next_month", "scoring_date"]
    start_ref: str
    cumulative: tuple[Consequence, ...]
    single: dict[int, Consequence]
    measures: tuple[Measure, ...]
    routes: dict[str, RepairRoute]
    caps: dict[str, Cap]
    repairs_ref: str
    shortening_allowed: bool
    shortening_ref: str
    restore_days_before: int  # 0: only after the period's end
    restore_window_ref: str
    restore_points_below: dict[str, int]
    restore_points_ref: str
    emergency_exception: frozenset[str]
    settlement_ref: str
    deadlines: dict[str, Deadline]
    publish_points_from: int
    kind: Literal["practitioner"] = "practitioner"
    # Lookup tables made from the fields above when the ruleset is built (the replay's
    # hot path reads them once per case or status instead of scanning the tables).
    _cumulative_at: tuple[Consequence | None, ...] = field(init=False, repr=False, compare=False)
    _single_top: int = field(init=False, repr=False, compare=False)
    # No consequence below both (RULES §5.2 steps 1-2): the replay asks nothing more then.
    lowest_cumulative: int = field(init=False, repr=False, compare=False)
    lowest_single: int = field(init=False, repr=False, compare=False)
    _measure_at: tuple[Measure | None, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        top = max((row.points for row in self.cumulative), default=-1)
        at: list[Consequence | None] = [None] * (top + 1) if top >= 0 else []
        for row in self.cumulative:  # ascending: of equal points, the later row
            for t in range(max(row.points, 0), top + 1):
                at[t] = row
        object.__setattr__(self, "_cumulative_at", tuple(at))
        object.__setattr__(self, "lowest_single", min(self.single, default=1 << 62))
        object.__setattr__(self, "_single_top", max(self.single, default=0))
        lowest = min((row.points for row in self.cumulative), default=None)
        object.__setattr__(self, "lowest_cumulative", lowest if lowest is not None else 1 << 62)
        bounds = [b for m in self.measures for b in (m.low, m.high) if b is not None]
        table = tuple(self._find_measure(p) for p in range(max(bounds, default=0) + 2))
        object.__setattr__(self, "_measure_at", table)

    def _find_measure(self, year_points: int) -> Measure | None:
        for row in self.measures:
            if year_points >= row.low and (row.high is None or year_points <= row.high):
                return row
        return None

    def measure_for(self, year_points: int) -> Measure:
        if 0 <= year_points < len(self._measure_at):
            found = self._measure_at[year_points]
        else:
            found = self._find_measure(year_points)
        if found is None:
            raise RulesetError(f"{self.id}: no measure for {year_points} points")
        return found

    def cumulative_crossed(self, before: int, after: int) -> Consequence | None:
        """RULES §5.2 step 1 (I-7): the highest cumulative row ``t`` with before < t ≤ after.

        Thresholds fire when crossed upward (step 7): Hunan-Rules Art. 9, Anhui-Rules
        Art. 19, Hainan-Rules Art. 24.
        """
        at = self._cumulative_at
        if 0 <= after < len(at):
            row = at[after]
        elif after >= 0 and at:
            row = at[-1]
        else:  # a negative total: scan, as the definition reads
            rows = [r for r in self.cumulative if before < r.points <= after]
            return rows[-1] if rows else None
        return row if row is not None and row.points > before else None

    def single_row(self, points: int) -> Consequence | None:
        """RULES §5.2 step 2 (I-7): the one-case row of a case of ``points`` (9 or more).

        Hunan-Rules Art. 9, Anhui-Rules Art. 19, Hainan-Rules Art. 24(6): the row for
        min(points, 12), where the ruleset has one.
        """
        if points < self.lowest_single:
            return None
        return self.single.get(min(points, self._single_top))

    def consequence(self, before: int, after: int, points: int) -> Consequence | None:
        """RULES §5.2 steps 1-3 (I-7): of the cumulative row crossed from ``before`` to
        ``after`` and the one-case row of a case of ``points``, the more severe (any
        termination beats any suspension, then the longer; of equal ones, the cumulative).

        Hunan-Rules Art. 9; Anhui-Rules Art. 19; Hainan-Rules Art. 24.
        """
        if after < self.lowest_cumulative and points < self.lowest_single:
            return None  # below every threshold: the common case, decided at once
        chosen = self.cumulative_crossed(before, after)
        single = self.single_row(points)
        if single is not None and (chosen is None or single.severity > chosen.severity):
            return single
        return chosen


@dataclass(frozen=True, slots=True)
class GradeBand:
    grade: str
    min: float


@dataclass(frozen=True, slots=True)
class CreditMeasure:
    """One measure of Hunan-Credit Art. 31-32 (RULES I-21), for some grades and kinds."""

    id: str
    grades: frozenset[str]
    subjects: frozenset[str]  # subject types; "institution" and "all" stand for groups
    clean: bool  # only for subjects without dishonesty information
    title: str
    ref: str

    def applies(self, grade: str, subject: str, institution: bool, clean: bool) -> bool:
        if grade not in self.grades or (self.clean and not clean):
            return False
        return (
            "all" in self.subjects
            or subject in self.subjects
            or (institution and "institution" in self.subjects)
        )


@dataclass(frozen=True)
class CreditRuleset:
    id: str
    name: str
    document: str
    source: str
    effective_from: date
    effective_to: date | None
    effective_ref: str
    institution_types: tuple[str, ...]
    individual_types: tuple[str, ...]
    bonus_max: float
    deduction_base: float
    score_ref: str
    grades: tuple[GradeBand, ...]
    grades_ref: str
    exclusions: tuple[tuple[str, str], ...]  # (reason, ref) in reporting order
    full_year_months: int
    veto_grade: str | None
    veto_ref: str
    incentive_grades: frozenset[str]
    incentives_ref: str
    blacklist_years: int
    minimum_publication_years: int
    # Art. 25(1) 最短公示期 per category of bad information, in months (RULES I-20); the
    # blacklist's is minimum_publication_years; "default" for any other category.
    minimum_publication_months: dict[str, int] = field(default_factory=dict)
    catalogue: dict[str, Any] = field(default_factory=dict)
    deadlines: dict[str, Deadline] = field(default_factory=dict)
    measures: tuple[CreditMeasure, ...] = ()
    kind: Literal["credit"] = "credit"

    @property
    def subject_types(self) -> tuple[str, ...]:
        return self.individual_types + self.institution_types


Ruleset = PractitionerRuleset | CreditRuleset


# --- loading -------------------------------------------------------------------------


def _get(data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in data:
        raise RulesetError(f"{where}: missing '{key}'")
    value = data[key]
    if not isinstance(value, kind):
        raise RulesetError(f"{where}.{key}: expected {kind}, got {value!r}")
    return value


def _date_or_none(value: object, where: str) -> date | None:
    if value is None:
        return None
    try:
        return parse_iso_date(value)
    except ValueError as exc:
        raise RulesetError(f"{where}: {exc}") from exc


def _deadlines(items: list[dict[str, Any]], where: str) -> dict[str, Deadline]:
    result: dict[str, Deadline] = {}
    for i, item in enumerate(items):
        w = f"{where}[{i}]"
        result[item["id"]] = Deadline(
            id=_get(item, "id", str, w),
            working_days=_get(item, "working_days", int, w),
            after=_get(item, "after", str, w),
            title=_get(item, "title", str, w),
            ref=_get(item, "ref", str, w),
        )
    return result


def _situation(item: dict[str, Any], ruleset_id: str, tiers: dict[int, Any], w: str) -> Situation:
    sid = _get(item, "id", str, w)
    if not sid.startswith(ruleset_id + "."):
        raise RulesetError(f"{w}: situation id {sid} must start with {ruleset_id}.")
    amount_tiers = tuple(
        AmountTier(below=row.get("below"), tier=row["tier"], ref=row["ref"])
        for row in item.get("amount_tiers", [])
    )
    tier = item.get("tier")
    points = item.get("points")
    if sum(x is not None and x != () for x in (tier, points, amount_tiers or None)) != 1:
        raise RulesetError(f"{w}: give exactly one of tier, points, amount_tiers")
    for t in [tier, *(a.tier for a in amount_tiers)]:
        if t is not None and t not in tiers:
            raise RulesetError(f"{w}: unknown tier {t}")
    return Situation(
        id=sid,
        title=_get(item, "title", str, w),
        ref=item.get("ref") or " / ".join(a.ref for a in amount_tiers),
        tier=tier,
        amount_tiers=amount_tiers,
        points=points,
        cancels=bool(item.get("cancels", False)),
    )


def _route(rid: str, item: dict[str, Any], caps: dict[str, Cap], w: str) -> RepairRoute:
    cap = item.get("cap")
    cap_ids = [cap] if isinstance(cap, str) else list(cap.values()) if isinstance(cap, dict) else []
    for cid in cap_ids:
        if cid not in caps:
            raise RulesetError(f"{w}: unknown cap {cid}")
    param = item.get("param")
    if param is None and not isinstance(item.get("value"), int):
        raise RulesetError(f"{w}: a route without a parameter needs an integer 'value'")
    return RepairRoute(
        id=rid,
        ref=_get(item, "ref", str, w),
        param=param,
        value=item.get("value"),
        values=tuple((str(k), int(v)) for k, v in (item.get("values") or {}).items()),
        bands=tuple((b["min"], b["max"], b["points"]) for b in item.get("bands", [])),
        cap=tuple(cap.items()) if isinstance(cap, dict) else cap,
    )


def _consequences(rows: list[dict[str, Any]], row: str, w: str) -> tuple[Consequence, ...]:
    result = []
    for i, item in enumerate(rows):
        months, years = item.get("suspend_months"), item.get("terminate_years")
        length = months if months is not None else years
        if (months is None) == (years is None) or not isinstance(length, int):
            raise RulesetError(f"{w}[{i}]: give suspend_months or terminate_years")
        result.append(
            Consequence(
                row="cumulative" if row == "cumulative" else "single",
                points=_get(item, "points", int, f"{w}[{i}]"),
                kind="suspension" if months is not None else "termination",
                length=length,
                ref=_get(item, "ref", str, f"{w}[{i}]"),
            )
        )
    return tuple(sorted(result, key=lambda c: c.points))


def _practitioner(data: dict[str, Any], where: str) -> PractitionerRuleset:
    rid = data["id"]
    tiers_data = _get(data, "tiers", dict, where)
    tiers = {
        int(k): tuple(v) for k, v in _get(tiers_data, "values", dict, where + ".tiers").items()
    }
    for k, v in tiers.items():
        if len(v) != 3 or list(v) != sorted(v):
            raise RulesetError(f"{where}.tiers.{k}: needs low, middle and high values")
    situations = {}
    for i, item in enumerate(_get(data, "situations", list, where)):
        s = _situation(item, rid, tiers, f"{where}.situations[{i}]")
        situations[s.id] = s
    year = _get(data, "year", dict, where)
    cons = _get(data, "consequences", dict, where)
    if cons.get("start") not in ("next_month", "scoring_date"):
        raise RulesetError(f"{where}.consequences.start: next_month or scoring_date")
    repairs = _get(data, "repairs", dict, where)
    caps = {
        cid: Cap(id=cid, uses=c.get("uses"), points=c.get("points"), ref=c["ref"])
        for cid, c in (repairs.get("caps") or {}).items()
    }
    routes = {
        rid_: _route(rid_, item, caps, f"{where}.repairs.routes.{rid_}")
        for rid_, item in _get(repairs, "routes", dict, where + ".repairs").items()
    }
    restoration = _get(data, "restoration", dict, where)
    window = restoration.get("window")
    days_before = window.get("working_days_before_last_day", 0) if isinstance(window, dict) else 0
    if not isinstance(window, dict) and window != "after_end":
        raise RulesetError(f"{where}.restoration.window: after_end or working_days_before_last_day")
    settlement = _get(data, "settlement", dict, where)
    shortening = _get(data, "shortening", dict, where)
    measures = tuple(
        Measure(low=m["from"], high=m["to"], measure=m["measure"], ref=m["ref"])
        for m in _get(data, "measures", list, where)
    )
    return PractitionerRuleset(
        id=rid,
        name=_get(data, "name", str, where),
        document=_get(data, "document", str, where),
        source=_get(data, "source", str, where),
        effective_from=parse_iso_date(data["effective_from"]),
        effective_to=_date_or_none(data.get("effective_to"), where + ".effective_to"),
        effective_ref=_get(data, "effective_ref", str, where),
        tiers={k: (v[0], v[1], v[2]) for k, v in tiers.items()},
        tiers_ref=_get(tiers_data, "ref", str, where + ".tiers"),
        situations=situations,
        year_cap=year.get("cap"),
        year_ref=_get(year, "ref", str, where + ".year"),
        case_grouping=_get(year, "case_grouping", str, where + ".year"),
        start=cons["start"],
        start_ref=_get(cons, "start_ref", str, where + ".consequences"),
        cumulative=_consequences(cons.get("cumulative", []), "cumulative", where),
        single={c.points: c for c in _consequences(cons.get("single", []), "single", where)},
        measures=measures,
        routes=routes,
        caps=caps,
        repairs_ref=_get(repairs, "ref", str, where + ".repairs"),
        shortening_allowed=bool(shortening.get("allowed")),
        shortening_ref=_get(shortening, "ref", str, where + ".shortening"),
        restore_days_before=int(days_before),
        restore_window_ref=_get(restoration, "window_ref", str, where + ".restoration"),
        restore_points_below=dict(restoration.get("points_below") or {}),
        restore_points_ref=_get(restoration, "points_ref", str, where + ".restoration"),
        emergency_exception=frozenset(settlement.get("emergency_exception") or ()),
        settlement_ref=_get(settlement, "ref", str, where + ".settlement"),
        deadlines=_deadlines(data.get("deadlines") or [], where + ".deadlines"),
        publish_points_from=int((data.get("disclosure") or {}).get("publish_points_from", 9)),
    )


def _credit(data: dict[str, Any], where: str) -> CreditRuleset:
    subjects = _get(data, "subjects", dict, where)
    score = _get(data, "score", dict, where)
    grades = _get(data, "grades", dict, where)
    exclusions = _get(data, "exclusions", dict, where)
    veto = data.get("veto") or {}
    incentives = _get(data, "incentives", dict, where)
    blacklist = _get(data, "blacklist", dict, where)
    bands = tuple(
        GradeBand(grade=b["grade"], min=float(b["min"]))
        for b in sorted(grades["bands"], key=lambda b: -float(b["min"]))
    )
    return CreditRuleset(
        id=data["id"],
        name=_get(data, "name", str, where),
        document=_get(data, "document", str, where),
        source=_get(data, "source", str, where),
        effective_from=parse_iso_date(data["effective_from"]),
        effective_to=_date_or_none(data.get("effective_to"), where + ".effective_to"),
        effective_ref=_get(data, "effective_ref", str, where),
        institution_types=tuple(subjects["institution"]),
        individual_types=tuple(subjects["individual"]),
        bonus_max=float(score["bonus_max"]),
        deduction_base=float(score["deduction_base"]),
        score_ref=_get(score, "ref", str, where + ".score"),
        grades=bands,
        grades_ref=_get(grades, "ref", str, where + ".grades"),
        exclusions=tuple((e["reason"], e["ref"]) for e in exclusions["order"]),
        full_year_months=int(exclusions.get("full_year_months", 12)),
        veto_grade=veto.get("blacklisted_grade"),
        veto_ref=str(veto.get("ref", "")),
        incentive_grades=frozenset(incentives["grades"]),
        incentives_ref=_get(incentives, "ref", str, where + ".incentives"),
        blacklist_years=int(blacklist["publication_years"]),
        minimum_publication_years=int(blacklist["minimum_publication_years"]),
        minimum_publication_months=_months_by_category(
            blacklist.get("minimum_publication_months") or {}, where + ".blacklist"
        ),
        catalogue=dict(data.get("catalogue") or {}),
        deadlines=_deadlines(data.get("deadlines") or [], where + ".deadlines"),
        measures=_measures(data.get("measures") or [], subjects, where + ".measures"),
    )


def _months_by_category(data: Any, where: str) -> dict[str, int]:
    """``{category: months}``: whole months from 0 to 120 (RULES I-20)."""
    if not isinstance(data, dict):
        raise RulesetError(f"{where}.minimum_publication_months: expected a mapping")
    out: dict[str, int] = {}
    for category, months in data.items():
        if isinstance(months, bool) or not isinstance(months, int) or not 0 <= months <= 120:
            raise RulesetError(f"{where}.minimum_publication_months.{category}: whole months 0-120")
        out[str(category)] = months
    return out


def _measures(items: list[Any], subjects: dict[str, Any], where: str) -> tuple[CreditMeasure, ...]:
    """Hunan-Credit Art. 31-32 as data: every measure names its grades, kinds and article."""
    known = {"all", "institution", *subjects["institution"], *subjects["individual"]}
    out = []
    for n, item in enumerate(items):
        at = f"{where}[{n}]"
        kinds = frozenset(_get(item, "subjects", list, at))
        if not kinds <= known:
            raise RulesetError(f"{at}.subjects: unknown {sorted(kinds - known)}")
        out.append(
            CreditMeasure(
                id=_get(item, "id", str, at),
                grades=frozenset(_get(item, "grades", list, at)),
                subjects=kinds,
                clean=bool(item.get("clean")),
                title=_get(item, "title", str, at),
                ref=_get(item, "ref", str, at),
            )
        )
    return tuple(out)


def load_ruleset_file(path: Path) -> Ruleset:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    where = path.name
    if not isinstance(data, dict):
        raise RulesetError(f"{where}: not a mapping")
    rid = _get(data, "id", str, where)
    if path.stem != rid:
        raise RulesetError(f"{where}: id {rid} does not match the file name")
    kind = data.get("kind")
    if kind == "practitioner":
        return _practitioner(data, rid)
    if kind == "credit":
        return _credit(data, rid)
    raise RulesetError(f"{where}: kind must be practitioner or credit, got {kind!r}")


@cache
def all_rulesets() -> dict[str, Ruleset]:
    """Every ruleset shipped in ``scoring/rulesets``, by id."""
    return {r.id: r for r in (load_ruleset_file(p) for p in sorted(RULESET_DIR.glob("*.yaml")))}


def get_ruleset(ruleset_id: str) -> Ruleset:
    try:
        return all_rulesets()[ruleset_id]
    except KeyError:
        known = ", ".join(sorted(all_rulesets()))
        raise KeyError(f"unknown ruleset {ruleset_id!r}; known: {known}") from None


def practitioner_ruleset(ruleset_id: str) -> PractitionerRuleset:
    ruleset = get_ruleset(ruleset_id)
    if not isinstance(ruleset, PractitionerRuleset):
        raise KeyError(f"{ruleset_id} is a credit ruleset, not a practitioner ruleset")
    return ruleset


def credit_ruleset(ruleset_id: str) -> CreditRuleset:
    ruleset = get_ruleset(ruleset_id)
    if not isinstance(ruleset, CreditRuleset):
        raise KeyError(f"{ruleset_id} is not a credit ruleset")
    return ruleset
