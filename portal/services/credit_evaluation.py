"""The annual credit evaluation: preview, commit, publish (Hunan-Credit Art. 18-22, 31-32).

Subjects of a year in a region (Art. 21: by territory; an officer evaluates only their
region): practitioners, designated hospitals and designated pharmacies. Each is scored by
the engine (``scoring.credit.evaluate_credit``: score = min(30, Σ bonus) +
max(0, 70 − Σ deductions), RULES I-15; grades A ≥ 85, B ≥ 65, C ≥ 40, else D, I-16; a
practitioner terminated during the year is graded D, the veto I-17; Art. 31-32 measures,
I-21) from facts read here:

- practitioners: deduction ``practitioner_points`` = the year's points (the ledger's
  timeline) × ``per_point`` (Hunan-Rules Art. 17), except hospital doctors (a doctor
  registered at a hospital in the year), whose guideline is issued separately (RULES §8):
  they get the points-free default catalogue and the result says so;
- institutions: ``agreement_breach`` for each agreement action and
  ``administrative_penalty`` for each penalty decided in the year;
- bonus: ``commitment_kept`` for a practitioner with a signed service commitment and no
  points in the year, and the indicators officers record (``credit_fact``);
- exclusions (Art. 20): no fund use in the year, or fund use shorter than the full year,
  from registrations (practitioners) or the first registration at the institution and an
  agreement termination (institutions).

Subjects are read in id order in batches (never the whole province in memory). A commit
writes one run in one transaction: a run killed half-way leaves nothing (all or nothing).
Medical institutions without a recorded health-commission consultation (Art. 21) are held
as 待征求意见 and listed, not failed. Re-running a committed year writes rows only for
subjects whose result changed, each superseding the row before (Art. 19: results change
with the facts and every change is archived; Art. 22: the subject is told). Results for
year Y are decided by 30 April of Y+1 (Art. 20); a year not yet over is refused.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ARRAY, Engine, any_, bindparam, func, insert
from sqlalchemy import select as columns
from sqlalchemy import text as sql_text
from sqlmodel import Session, col, select

from portal.clock import china_today
from portal.db import session_scope
from portal.models import (
    AgreementAction,
    CreditConsultation,
    CreditFact,
    CreditResult,
    CreditRun,
    Decision,
    Institution,
    Practitioner,
    Registration,
    StatusCache,
    table,
)
from portal.services import cache
from portal.services.errors import ServiceError
from portal.services.registry import Act, audit
from scoring.credit import CreditFacts, evaluate_credit
from scoring.engine import Timeline
from scoring.rulesets import CreditRuleset, credit_ruleset

RULESET = "hunan-credit-2024"
PROVINCE = "43"  # the credit ruleset is Hunan's
KIND_OF_INSTITUTION = {"hospital": "designated_hospital", "pharmacy": "designated_pharmacy"}
KIND_ZH = {
    "practitioner": "医保相关人员",
    "designated_hospital": "定点医疗机构",
    "designated_pharmacy": "定点零售药店",
}
MEDICAL = "designated_hospital"  # 医疗机构: consulted before grading (Art. 21)
GRADED, HELD, EXCLUDED = "graded", "held_for_consultation", "excluded"
DECISION_INDICATOR = {
    "agreement_action": "agreement_breach",
    "administrative_penalty": "administrative_penalty",
}
BATCH = 2000
LISTED = 500  # held and excluded subjects listed in a summary (the counts are complete)
Progress = Callable[[int], None]


class CreditError(ServiceError):
    """A refusal of the evaluation (the CLI exits 1 with it)."""


# --- facts of one subject -----------------------------------------------------------------


@dataclass
class Subject:
    kind: str
    key: str
    region: str
    bonus: list[float] = field(default_factory=list)
    deductions: list[float] = field(default_factory=list)
    facts: CreditFacts = field(default_factory=CreditFacts)
    notes: list[str] = field(default_factory=list)


def months_used(spans: list[tuple[date, date | None]], year: int) -> int:
    """Calendar months of ``year`` touched by any of ``spans`` (first day, last day or None)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    months: set[int] = set()
    for start, end in spans:
        lo, hi = max(start, first), min(end or last, last)
        if lo <= hi:
            if lo.month == 1 and hi.month == 12:
                return 12  # the whole year (most subjects): nothing more to count
            months.update(range(lo.month, hi.month + 1))
    return len(months)


@lru_cache(maxsize=64)
def _use_facts(months: int, blacklisted: bool = False) -> CreditFacts:
    """Frozen, so one per value is shared by every subject with those facts."""
    return CreditFacts(
        fund_use_months=months, used_fund=months > 0, blacklisted=blacklisted,
        dishonest=blacklisted,
    )  # fmt: skip


def _indicator(ruleset: CreditRuleset, section: str, name: str) -> dict[str, Any]:
    for item in ruleset.catalogue.get(section, []):
        if item.get("indicator") == name:
            return dict(item)
    raise KeyError(f"{ruleset.id}: catalogue has no {section} indicator {name!r}")


def catalogue_version(ruleset: CreditRuleset) -> str:
    return str(ruleset.catalogue.get("version", ruleset.id))


def _terminated_in(timeline: Timeline, year: int) -> bool:
    """A termination in force at some time of the year (RULES I-17: blacklisted)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    for period in timeline.periods:
        if period.kind != "termination" or period.start > last:
            continue
        ended = period.end if period.restored_on is None else period.restored_on
        if ended is None or ended >= first:
            return True
    return False


def _timeline(session: Session, person_id: int, ruleset_id: str, text: str | None) -> Timeline:
    from portal.services.ledger import timeline_of

    if text:
        try:
            return cache.timeline_for(text, ruleset_id)
        except cache.Damaged:
            pass
    person = session.get(Practitioner, person_id)
    assert person is not None
    return timeline_of(session, person)


def _among(column: Any, ids: list[int]) -> Any:
    """``column IN ids`` for ids in order; a range when they are dense (a province's run:
    one cheap range scan instead of thousands of bound parameters). Callers drop the rows
    of ids not asked for."""
    if ids and ids[-1] - ids[0] < 2 * len(ids):
        return column.between(ids[0], ids[-1])
    return column.in_(ids)


def _keys_in(session: Session, column: Any, keys: list[str]) -> Any:
    """``column IN keys``; on PostgreSQL ``column = ANY(:keys)``, one array parameter (a
    batch of 2,000 codes as one bound value: no 2,000-placeholder statement to build and
    parse for every batch)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(keys), type_=ARRAY(column.type)))
    return column.in_(keys)


def _write_results(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append a batch of results (Hunan-Credit Art. 19: every result archived, none
    overwritten). PostgreSQL: one ``COPY`` per batch in the run's transaction (all or
    nothing still); elsewhere one executemany. Every row has the same keys."""
    results = table(CreditResult)
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(results), rows)
        return
    names = list(rows[0])
    raw = connection.connection.driver_connection
    assert raw is not None
    statement = f"COPY {results.name} ({', '.join(names)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[n] for n in names])


def _practitioners(
    session: Session, ruleset: CreditRuleset, year: int, region: str
) -> Iterator[list[Subject]]:
    """Practitioners whose region is within ``region``, in batches (Hunan-Rules Art. 17)."""
    per_point = float(_indicator(ruleset, "deductions", "practitioner_points")["per_point"])
    kept = float(_indicator(ruleset, "bonus", "commitment_kept")["points"])
    last_day = date(year, 12, 31)
    after = 0
    while True:
        people = session.execute(
            columns(col(Practitioner.id), col(Practitioner.national_code),
                    col(Practitioner.region), col(Practitioner.practice_type),
                    col(Practitioner.ruleset))
            .where(col(Practitioner.id) > after)
            .where(col(Practitioner.region).startswith(region))
            .order_by(col(Practitioner.id)).limit(BATCH)
        ).all()  # fmt: skip
        if not people:
            return
        after = people[-1][0] or 0
        ids = [p[0] or 0 for p in people]
        wanted = set(ids)
        spans: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
        at_hospital: set[int] = set()
        signed: set[int] = set()
        for pid, since, until, kind, commitment in session.execute(
            columns(col(Registration.practitioner_id), col(Registration.registered_on),
                    col(Registration.deregistered_on), col(Institution.kind),
                    col(Registration.commitment_signed_on))
            .join(Institution, col(Institution.id) == col(Registration.institution_id))
            .where(_among(col(Registration.practitioner_id), ids))
        ).all():  # fmt: skip
            if pid not in wanted:
                continue
            spans[pid].append((since, until))
            touches = since <= last_day and (until is None or until.year >= year)
            if touches and kind == "hospital":
                at_hospital.add(pid)
            if touches and commitment is not None and commitment <= last_day:
                signed.add(pid)
        timelines = dict(
            session.exec(
                select(StatusCache.practitioner_id, StatusCache.timeline).where(
                    _among(col(StatusCache.practitioner_id), ids)
                )
            ).all()
        )
        bonuses = _facts(session, year, "practitioner", [p[1] for p in people], ruleset)
        batch = []
        for pid, code, where, practice, person_ruleset in people:
            assert pid is not None
            text = timelines.get(pid)
            points, blacklisted = 0, False
            if text is not None:
                timeline = _timeline(session, pid, person_ruleset, text)
                points = timeline.year_points_on(last_day)
                blacklisted = _terminated_in(timeline, year)
            facts = _use_facts(months_used(spans.get(pid, []), year), blacklisted)
            subject = Subject("practitioner", code, where, facts=facts)
            hospital_doctor = practice == "doctor" and pid in at_hospital
            if hospital_doctor:
                subject.notes.append(
                    f"hospital doctor: year points {points} not applied, the doctors' "
                    "guideline is separate (Hunan-Rules Art. 17; RULES §8); default catalogue"
                )
            elif points:
                subject.deductions.append(points * per_point)
                subject.notes.append(
                    f"practitioner_points: {points} points × {per_point:g} = "
                    f"{points * per_point:g} (Hunan-Rules Art. 17)"
                )
            if pid in signed and not points:
                subject.bonus.append(kept)
                subject.notes.append(f"commitment_kept: +{kept:g} (Hunan-Credit Art. 9-12)")
            for points_, note in bonuses.get(code, []):
                subject.bonus.append(points_)
                subject.notes.append(note)
            batch.append(subject)
        yield batch


def _facts(
    session: Session, year: int, kind: str, keys: list[str], ruleset: CreditRuleset
) -> dict[str, list[tuple[float, str]]]:
    """Bonus indicators officers recorded (credit_fact), by subject key."""
    out: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for key, indicator in session.exec(
        select(CreditFact.subject_key, CreditFact.indicator)
        .where(CreditFact.year == year)
        .where(CreditFact.subject_kind == kind)
        .where(_keys_in(session, col(CreditFact.subject_key), keys))
        .order_by(col(CreditFact.id))
    ).all():
        item = _indicator(ruleset, "bonus", indicator)
        out[key].append((float(item["points"]), f"{indicator}: +{item['points']} ({item['ref']})"))
    return out


def _institutions(
    session: Session, ruleset: CreditRuleset, year: int, region: str
) -> Iterator[list[Subject]]:
    """Designated hospitals and pharmacies within ``region``, in batches (Art. 14, 20)."""
    points = {
        name: float(_indicator(ruleset, "deductions", name)["points"])
        for name in DECISION_INDICATOR.values()
    }
    first_day, last_day = date(year, 1, 1), date(year, 12, 31)
    after = 0
    while True:
        places = session.exec(
            select(Institution.id, Institution.code, Institution.region, Institution.kind)
            .where(col(Institution.id) > after)
            .where(col(Institution.region).startswith(region))
            .where(col(Institution.kind).in_(KIND_OF_INSTITUTION))
            .order_by(col(Institution.id)).limit(BATCH)
        ).all()  # fmt: skip
        if not places:
            return
        after = places[-1][0] or 0
        ids = [p[0] for p in places]
        since = dict(
            session.exec(
                select(Registration.institution_id, func.min(Registration.registered_on))
                .where(col(Registration.institution_id).in_(ids))
                .group_by(col(Registration.institution_id))
            ).all()
        )
        decided: dict[int, Counter[str]] = defaultdict(Counter)
        for decided_at, decision_type in session.exec(
            select(Decision.institution_id, Decision.decision_type)
            .where(col(Decision.institution_id).in_(ids))
            .where(col(Decision.decision_date) >= first_day)
            .where(col(Decision.decision_date) <= last_day)
        ).all():
            decided[decided_at][decision_type] += 1
        actions = session.exec(
            select(AgreementAction).where(col(AgreementAction.institution_id).in_(ids))
        ).all()
        superseded = {a.supersedes_id for a in actions if a.supersedes_id}
        ended: dict[int, date] = {}
        for action in actions:
            if action.id not in superseded and action.action == "terminated":
                ended[action.institution_id] = min(
                    action.effective_from, ended.get(action.institution_id, action.effective_from)
                )
        keys = [p[1] for p in places]
        bonuses = {
            kind: _facts(session, year, kind, keys, ruleset)
            for kind in KIND_OF_INSTITUTION.values()
        }
        batch = []
        for place_id, code, where, place_kind in places:
            iid = place_id or 0
            subject = Subject(KIND_OF_INSTITUTION[place_kind], code, where)
            start = since.get(iid)
            spans = [(start, ended.get(iid))] if start is not None else []
            subject.facts = _use_facts(months_used(spans, year))
            for decision_type, n in sorted(decided.get(iid, Counter()).items()):
                indicator = DECISION_INDICATOR.get(decision_type)
                if indicator is None:
                    continue
                subject.deductions.append(n * points[indicator])
                subject.notes.append(
                    f"{indicator}: {n} × {points[indicator]:g} = {n * points[indicator]:g} "
                    "(Hunan-Credit Art. 14)"
                )
            for points_, note in bonuses[subject.kind].get(code, []):
                subject.bonus.append(points_)
                subject.notes.append(note)
            batch.append(subject)
        yield batch


# --- evaluating ---------------------------------------------------------------------------


def _consulted(session: Session, year: int, codes: list[str]) -> set[str]:
    if not codes:
        return set()
    return set(
        session.exec(
            select(CreditConsultation.institution_code)
            .where(CreditConsultation.year == year)
            .where(_keys_in(session, col(CreditConsultation.institution_code), codes))
        ).all()
    )


def _outcome(ruleset: CreditRuleset, subject: Subject, consulted: bool) -> dict[str, Any]:
    """The result of one subject, without who it is (Art. 19-21; RULES I-15..I-17, I-21)."""
    result = evaluate_credit(
        ruleset, subject.bonus, subject.deductions, subject.facts, subject.kind
    )
    explain = [*subject.notes, *result.explain]
    state, grade = GRADED, result.grade
    if result.excluded:
        state = EXCLUDED
    elif subject.kind == MEDICAL and not consulted:
        state, grade = HELD, None
        explain.append(
            f"provisional grade {result.grade}: held as 待征求意见 until the health "
            "commission's opinion is recorded (Hunan-Credit Art. 21)"
        )
    return {
        "state": state,
        "score": result.score,
        "grade": grade,
        "excluded": result.excluded,
        "exclusion_reason": result.reason or "",
        "incentives": result.incentives and state == GRADED,
        "measures": json.dumps(list(result.measures) if state == GRADED else []),
        "explain": json.dumps(explain, ensure_ascii=False),
    }


COMPARED = ("state", "score", "grade", "excluded", "exclusion_reason", "incentives", "measures",
            "explain", "region")  # fmt: skip


@dataclass
class Summary:
    """What a preview or a commit found: counts per grade, kind and city; held and excluded."""

    year: int
    region: str
    state: str  # preview | committed | published
    run_id: int | None = None
    total: int = 0
    grades: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    cities: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    held: list[dict[str, str]] = field(default_factory=list)
    held_count: int = 0
    excluded: list[dict[str, str]] = field(default_factory=list)
    excluded_reasons: Counter[str] = field(default_factory=Counter)
    written: int = 0
    unchanged: int = 0
    published_runs: int = 0
    warnings: list[str] = field(default_factory=list)

    def add(self, row: dict[str, Any]) -> None:
        self.total += 1
        self.kinds[row["subject_kind"]] += 1
        city = row["region"][:4]
        who = {"kind": row["subject_kind"], "code": row["subject_key"], "region": row["region"]}
        if row["state"] == EXCLUDED:
            self.excluded_reasons[row["exclusion_reason"]] += 1
            self.cities[city]["excluded"] += 1
            if len(self.excluded) < LISTED:
                self.excluded.append({**who, "reason": row["exclusion_reason"]})
        elif row["state"] == HELD:
            self.held_count += 1
            self.cities[city]["held"] += 1
            if len(self.held) < LISTED:
                self.held.append(who)
        else:
            self.grades[row["grade"]] += 1
            self.cities[city][row["grade"]] += 1

    def counts(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "grades": {g: self.grades.get(g, 0) for g in ("A", "B", "C", "D")},
            "kinds": dict(sorted(self.kinds.items())),
            "cities": {c: dict(sorted(v.items())) for c, v in sorted(self.cities.items())},
            "held": self.held_count,
            "excluded": dict(sorted(self.excluded_reasons.items())),
            "written": self.written,
            "unchanged": self.unchanged,
        }

    def to_json(self) -> dict[str, Any]:
        counts = self.counts()
        return {
            "year": self.year,
            "region": self.region,
            "state": self.state,
            "run_id": self.run_id,
            "total": self.total,
            "grades": counts["grades"],
            "kinds": counts["kinds"],
            "cities": counts["cities"],
            "held": self.held_count,
            "held_institutions": self.held,
            "excluded": counts["excluded"],
            "excluded_subjects": self.excluded,
            "written": self.written,
            "unchanged": self.unchanged,
            "warnings": self.warnings,
        }


def check_region(region: str | None) -> str:
    """2, 4 or 6 digits within Hunan (the credit ruleset's province); default the province."""
    region = (region or PROVINCE).strip()
    if not re.fullmatch(r"\d{2}(\d{2}){0,2}", region):
        raise CreditError("region", f"行政区划 {region} 应为 2、4 或 6 位数字")
    if not region.startswith(PROVINCE):
        raise CreditError("region", f"未知行政区划 {region}：信用评价规则适用于湖南省（43）")
    return region


def known_region(session: Session, region: str) -> None:
    """An unknown region (no institution and no practitioner in it) is refused."""
    hit = (
        session.exec(
            select(Institution.id).where(col(Institution.region).startswith(region)).limit(1)
        ).first()
        or session.exec(
            select(Practitioner.id).where(col(Practitioner.region).startswith(region)).limit(1)
        ).first()
    )
    if hit is None:
        raise CreditError("region", f"未知行政区划 {region}：辖区内没有定点医药机构或医保相关人员")


def check_year(year: int, today: date) -> list[str]:
    """A year is evaluated once it is over; results due by 30 April of Y+1 (Art. 20)."""
    if year >= today.year:
        raise CreditError(
            "year", f"{year} 年度尚未结束，不能评价（湖南信用办法第二十条：每年评价一次）"
        )
    if year < 2024:
        raise CreditError("year", f"{year} 年早于《湖南省医疗保障信用管理办法》施行（2024-05-01）")
    due = date(year + 1, 4, 30)
    if today > due:
        return [f"{year} 年度结果应于 {due} 前确定（湖南信用办法第二十条）"]
    return []


def _evaluate(
    session: Session, year: int, region: str, progress: Progress | None
) -> Iterator[list[dict[str, Any]]]:
    ruleset = credit_ruleset(RULESET)
    # Most subjects share their facts (no points, a full year): the outcome of equal facts
    # is computed once. The key holds everything _outcome reads.
    memo: dict[tuple[Any, ...], dict[str, Any]] = {}
    for producer in (_practitioners, _institutions):
        for batch in producer(session, ruleset, year, region):
            medical = [s.key for s in batch if s.kind == MEDICAL]
            consulted = _consulted(session, year, medical)
            rows = []
            for s in batch:
                asked = s.kind == MEDICAL and s.key in consulted
                key = (s.kind, tuple(s.bonus), tuple(s.deductions), s.facts, tuple(s.notes), asked)
                outcome = memo.get(key)
                if outcome is None:
                    if len(memo) > 50_000:
                        memo.clear()
                    outcome = memo[key] = _outcome(ruleset, s, asked)
                rows.append({"subject_kind": s.kind, "subject_key": s.key, "region": s.region,
                             **outcome})  # fmt: skip
            yield rows
            if progress is not None:
                progress(len(rows))


def count_subjects(engine: Engine, region: str) -> int:
    with session_scope(engine) as session:
        people = session.exec(
            select(func.count()).select_from(Practitioner)
            .where(col(Practitioner.region).startswith(region))
        ).one()  # fmt: skip
        places = session.exec(
            select(func.count()).select_from(Institution)
            .where(col(Institution.region).startswith(region))
            .where(col(Institution.kind).in_(KIND_OF_INSTITUTION))
        ).one()  # fmt: skip
    return int(people) + int(places)


def preview(
    engine: Engine,
    year: int,
    region: str | None = None,
    *,
    today: date | None = None,
    progress: Progress | None = None,
    record: Act | None = None,
) -> Summary:
    """What evaluating ``year`` in ``region`` would give, nothing written (``record``: keep
    the counts as a ``previewed`` run, for the admin's list). Art. 19-21."""
    region = check_region(region)
    warnings = check_year(year, today or china_today())
    summary = Summary(year, region, "preview", warnings=warnings)
    with session_scope(engine) as session:
        known_region(session, region)
        for rows in _evaluate(session, year, region, progress):
            for row in rows:
                summary.add(row)
    if record is not None:
        with session_scope(engine, write=True) as session:
            run = _new_run(session, record, year, region, "previewed")
            run.counts = json.dumps(summary.counts(), sort_keys=True)
            session.add(run)
            summary.run_id = run.id
            audit(session, record, "credit_preview", "credit_run", run.id, year=year,
                  region=region)  # fmt: skip
    return summary


def _new_run(session: Session, act: Act, year: int, region: str, state: str) -> CreditRun:
    ruleset = credit_ruleset(RULESET)
    run = CreditRun(
        year=year, region=region, state=state, ruleset=ruleset.id,
        catalogue=catalogue_version(ruleset), started_by=act.actor, started_at=act.at,
    )  # fmt: skip
    session.add(run)
    session.flush()
    return run


def _current(session: Session, year: int, kind: str, keys: list[str]) -> dict[str, Any]:
    """The current result of each subject: its newest row (a new row supersedes the last),
    as a mapping of ``id`` and the compared columns."""
    results = table(CreditResult)
    query = columns(results.c.id, results.c.subject_key, *(results.c[k] for k in COMPARED))
    if session.get_bind().dialect.name == "postgresql":
        # The keys as a row source joined to the subject index: one index probe per key
        # (a filter on "= ANY" would read every result of the kind for every batch).
        wanted = (
            func.unnest(bindparam(None, list(keys), type_=ARRAY(results.c.subject_key.type)))
            .table_valued("key")
            .render_derived()
        )
        query = query.select_from(wanted.join(results, results.c.subject_key == wanted.c.key))
    else:
        query = query.where(results.c.subject_key.in_(keys))
    out: dict[str, Any] = {}
    for row in session.execute(
        query.where(results.c.year == year)
        .where(results.c.subject_kind == kind)
        .order_by(results.c.id)
    ).all():
        out[row.subject_key] = row._mapping
    return out


def commit(
    engine: Engine,
    act: Act,
    year: int,
    region: str | None = None,
    *,
    today: date | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Evaluate and commit ``year`` for ``region`` in one transaction (all or nothing).

    Medical institutions without a consultation are held (待征求意见, Art. 21) and listed.
    A re-run writes rows only for subjects whose result changed, each superseding the
    previous row (Art. 19, 22).
    """
    region = check_region(region)
    warnings = check_year(year, today or china_today())
    summary = Summary(year, region, "committed", warnings=warnings)
    with session_scope(engine, write=True) as session:
        known_region(session, region)
        earlier = session.exec(select(CreditResult.id).where(CreditResult.year == year)).first()
        if earlier is not None and session.get_bind().dialect.name == "postgresql":
            # Fresh statistics after a large run (autovacuum may not have come yet): the
            # comparisons below then probe the subject index instead of scanning.
            session.execute(sql_text("ANALYZE credit_result"))
        run = _new_run(session, act, year, region, "committed")
        run.committed_by, run.committed_at = act.actor, act.at
        assert run.id is not None
        for rows in _evaluate(session, year, region, progress):
            by_kind: dict[str, list[str]] = defaultdict(list)
            for row in rows:
                by_kind[row["subject_kind"]].append(row["subject_key"])
            before: dict[tuple[str, str], Any] = {}
            for kind, keys in by_kind.items() if earlier is not None else ():
                for key, found in _current(session, year, kind, keys).items():
                    before[(kind, key)] = found
            new = []
            for row in rows:
                summary.add(row)
                old = before.get((row["subject_kind"], row["subject_key"]))
                if old is not None and all(old[k] == row[k] for k in COMPARED):
                    summary.unchanged += 1
                    continue
                new.append({**row, "run_id": run.id, "year": year, "recorded_at": act.at,
                            "supersedes_id": old["id"] if old is not None else None})  # fmt: skip
            if new:
                _write_results(session, new)
                summary.written += len(new)
        run.counts = json.dumps(summary.counts(), sort_keys=True)
        session.add(run)
        summary.run_id = run.id
        audit(session, act, "credit_commit", "credit_run", run.id, year=year, region=region,
              written=summary.written, held=summary.held_count)  # fmt: skip
    return summary


def publish(engine: Engine, act: Act, year: int, region: str | None = None) -> Summary:
    """Publish the committed runs of ``year`` within ``region`` (Art. 22: results announced;
    Art. 31(1): A-grade institutions publicised). A year never committed is refused."""
    region = check_region(region)
    summary = Summary(year, region, "published")
    with session_scope(engine, write=True) as session:
        runs = session.exec(
            select(CreditRun)
            .where(CreditRun.year == year)
            .where(col(CreditRun.state).in_(("committed", "published")))
            .where(col(CreditRun.region).startswith(region))
            .order_by(col(CreditRun.id))
        ).all()
        if not runs:
            raise CreditError(
                "year", f"{year} 年度在 {region} 尚未提交评价结果，不能发布（先 --commit）"
            )
        for run in runs:
            if run.state == "committed":
                run.state = "published"
                run.published_by, run.published_at = act.actor, act.at
                session.add(run)
                audit(session, act, "credit_publish", "credit_run", run.id, year=year,
                      before={"state": "committed"}, after={"state": "published"})  # fmt: skip
                summary.published_runs += 1
        latest = runs[-1]
        summary.run_id = latest.id
        _fill_from_counts(summary, latest.counts)
    return summary


def _fill_from_counts(summary: Summary, counts_json: str) -> None:
    counts = json.loads(counts_json or "{}")
    summary.total = int(counts.get("total", 0))
    summary.grades.update(counts.get("grades", {}))
    summary.kinds.update(counts.get("kinds", {}))
    summary.held_count = int(counts.get("held", 0))
    summary.excluded_reasons.update(counts.get("excluded", {}))
    for city, values in counts.get("cities", {}).items():
        summary.cities[city].update(values)


# --- consultations, facts, reading ----------------------------------------------------------


def record_consultation(
    session: Session, act: Act, year: int, institution_code: str, opinion: str
) -> CreditConsultation:
    """The health commission's opinion on a medical institution (Art. 21)."""
    place = session.exec(
        select(Institution).where(Institution.code == institution_code.strip())
    ).first()
    if place is None:
        raise ServiceError("institution_code", f"未找到机构编码 {institution_code}")
    if place.kind != "hospital":
        raise ServiceError("institution_code", "只有定点医疗机构需征求卫生健康部门意见")
    if not opinion.strip():
        raise ServiceError("opinion", "请填写卫生健康部门意见")
    row = CreditConsultation(year=year, institution_code=place.code, opinion=opinion.strip(),
                             **act.stamp())  # fmt: skip
    session.add(row)
    session.flush()
    audit(session, act, "credit_consultation", "credit_consultation", row.id, year=year,
          institution=place.code)  # fmt: skip
    return row


def record_fact(
    session: Session, act: Act, year: int, subject_kind: str, subject_key: str, indicator: str
) -> CreditFact:
    """A bonus indicator of the catalogue for a subject's year (Art. 14, 18)."""
    _indicator(credit_ruleset(RULESET), "bonus", indicator)
    if subject_kind not in KIND_ZH:
        raise ServiceError("subject_kind", f"未知信用主体类型 {subject_kind}")
    row = CreditFact(year=year, subject_kind=subject_kind, subject_key=subject_key,
                     indicator=indicator, **act.stamp())  # fmt: skip
    session.add(row)
    session.flush()
    audit(session, act, "credit_fact", "credit_fact", row.id, indicator=indicator)
    return row


def runs(
    session: Session, region_visible: Callable[[str], bool], limit: int = 50
) -> list[CreditRun]:
    found = session.exec(select(CreditRun).order_by(col(CreditRun.id).desc()).limit(limit * 4))
    return [r for r in found if region_visible(r.region)][:limit]


def counts_of(run: CreditRun) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(run.counts or "{}")
    except ValueError:
        return {}
    return data


@dataclass(frozen=True)
class AGradeInstitution:
    name: str
    code: str
    region: str
    kind: str
    year: int


def latest_a_grade(session: Session) -> tuple[int | None, list[AGradeInstitution]]:
    """The A-grade institutions of the latest published year (Art. 22, 31(1)): of each
    institution, its newest result in a published run of that year."""
    year = session.exec(
        select(func.max(CreditRun.year)).where(CreditRun.state == "published")
    ).one()
    if year is None:
        return None, []
    newest: dict[str, CreditResult] = {}
    for row in session.exec(
        select(CreditResult)
        .join(CreditRun, col(CreditRun.id) == col(CreditResult.run_id))
        .where(CreditRun.state == "published")
        .where(CreditResult.year == year)
        .where(col(CreditResult.subject_kind).in_(KIND_OF_INSTITUTION.values()))
        .order_by(col(CreditResult.id))
    ).all():
        newest[row.subject_key] = row
    codes = [k for k, r in newest.items() if r.grade == "A" and r.state == GRADED]
    names = {
        i.code: i
        for i in session.exec(select(Institution).where(col(Institution.code).in_(codes))).all()
    }
    out = [
        AGradeInstitution(names[c].name, c, names[c].region, newest[c].subject_kind, int(year))
        for c in sorted(codes)
        if c in names
    ]
    return int(year), out


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class YearResult:
    """A subject's current result for one year, as officers and the subject read it."""

    year: int
    state: str  # graded | held_for_consultation | excluded
    grade: str | None
    score: float | None
    exclusion_reason: str
    measures: tuple[tuple[str, str], ...]  # (title, article) of each Art. 31-32 measure
    published: bool
    recorded_at: datetime
    changed: bool  # supersedes an earlier result of the year (Art. 19)


def results_of(session: Session, subject_kind: str, subject_key: str) -> list[YearResult]:
    """The current result of each year for one subject, newest year first: per year the
    newest row (a new row supersedes the last; the archive keeps both, Hunan-Credit Art.
    13, 19), with its Art. 31-32 measures by title (RULES I-21)."""
    titles = {m.id: (m.title, m.ref) for m in credit_ruleset(RULESET).measures}
    newest: dict[int, tuple[CreditResult, str]] = {}
    for row, run_state in session.exec(
        select(CreditResult, CreditRun.state)
        .join(CreditRun, col(CreditRun.id) == col(CreditResult.run_id))
        .where(CreditResult.subject_kind == subject_kind)
        .where(CreditResult.subject_key == subject_key)
        .order_by(col(CreditResult.id))
    ).all():
        newest[row.year] = (row, run_state)
    out = []
    for year in sorted(newest, reverse=True):
        row, run_state = newest[year]
        ids = json.loads(row.measures or "[]")
        measures = tuple(titles.get(m, (m, "")) for m in ids)
        result = YearResult(year, row.state, row.grade, row.score, row.exclusion_reason,
                            measures, run_state == "published", row.recorded_at,
                            row.supersedes_id is not None)  # fmt: skip
        out.append(result)
    return out
