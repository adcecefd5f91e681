"""The annual credit evaluation: preview, commit, publish (Hunan-Credit Art. 18-22, 31-32).

Subjects of a year in a region (Art. 21: by territory; an officer evaluates only their
region): practitioners, designated hospitals and designated pharmacies. Each is scored by
the engine (``scoring.credit.evaluate_credit``: score = min(30, Σ bonus) +
max(0, 70 − Σ deductions), RULES I-15; grades A ≥ 85, B ≥ 65, C ≥ 40, else D, I-16; a
practitioner terminated during the year is graded D, the veto I-17; Art. 31-32 measures,
I-21) from facts read here:

- practitioners: deduction ``practitioner_points`` = the year's points (the ledger's
  timeline) × its points per point (Hunan-Rules Art. 17); hospital doctors (a doctor
  registered at a hospital in the year), whose guideline is issued separately (RULES §8),
  are scored with the doctors' catalogue (``hospital_doctor``; its default is points-free);
- institutions: ``agreement_breach`` for each agreement action and
  ``administrative_penalty`` for each penalty decided in the year;
- bonus: ``commitment_kept`` for a practitioner with a signed service commitment and no
  points in the year, and the indicators officers record (``credit_fact``);
- archive items (``credit_item``, Art. 13-14): live, not repaired, with an indicator and
  ``occurred_on`` in the year: bad → deduction, good → bonus.

Indicator counts are scored by the catalogue of the year and kind (Art. 18,
:mod:`portal.services.credit_catalogue`: the published version, else the shipped
default): count × points, at most the indicator's cap; the run records the catalogue.
After a commit, a change of a subject's facts re-evaluates it at once
(:func:`reevaluate_subject`, Art. 19, 22).
- exclusions (Art. 20): no fund use in the year, or fund use shorter than the full year,
  from registrations (practitioners) or the first registration at the institution and an
  agreement termination (institutions); under investigation (Art. 20(3)) or another reason
  (Art. 20(4)) as an officer recorded it (:func:`record_exclusion`, a ``credit_fact``
  ``under_investigation`` / ``excluded_other`` whose ``reason`` is the officer's text).
  Reported: under investigation, no fund use, short period (RULES §8), then "other"
  (Art. 20(4), the residual ground, last).
- the veto and dishonesty information, for every subject (RULES I-17; Art. 31 "不存在失信
  信息"): blacklisted (graded D) = a ``blacklist_listing`` in force at some time of the
  year, or (practitioners) a termination in force in the year; dishonesty information (no
  incentives) = blacklisted, or a live, unrepaired bad ``credit_item`` of the year that is
  ``serious`` or of the dishonest list (:func:`_dishonesty`; read per batch, skipped for a
  run without any such row, :func:`_has_dishonesty`).
- jurisdiction (Art. 21): the province (2 digits) or a city (4 digits) evaluates, never a
  county (:func:`check_region`).

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
from portal.credit_models import (
    SUBJECT_KIND_ZH,
    BlacklistListing,
    CreditChangeNotice,
    CreditItem,
    CreditRepair,
)
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
from portal.services import credit_catalogue as catalogues_service
from portal.services.errors import ServiceError, checked_text
from portal.services.registry import Act, audit
from scoring.credit import CreditFacts, evaluate_credit
from scoring.credit import CreditResult as Outcome
from scoring.engine import Timeline
from scoring.rulesets import CreditRuleset, credit_ruleset

RULESET = "hunan-credit-2024"
PROVINCE = "43"  # the credit ruleset is Hunan's
KIND_OF_INSTITUTION = {"hospital": "designated_hospital", "pharmacy": "designated_pharmacy"}
KIND_ZH = {  # the kinds evaluated here, named as everywhere (portal.credit_models)
    kind: SUBJECT_KIND_ZH[kind] for kind in ("practitioner", *KIND_OF_INSTITUTION.values())
}
EXCLUSION_ZH = {  # Hunan-Credit Art. 20 (一)-(四), in the regulation's words
    "short_period": "涉及医保基金使用不满一个评价年度",
    "no_fund_use": "本评价年度内未涉及医保基金使用",
    "under_investigation": "涉嫌违法犯罪被立案查处尚未结案",
    "other": "其他不应参加本期评价的情形",
}
# Art. 20(3)/(4) recorded by an officer as a credit_fact of the year (its ``reason``: why):
# the fact's indicator → the exclusion reason of the result.
EXCLUSION_FACTS = {"under_investigation": "under_investigation", "excluded_other": "other"}
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
    """One subject's facts: how often each indicator occurred in the year (``bonus`` and
    ``deduction`` counts, by indicator id), scored against its catalogue by :func:`_score`.
    ``catalogue_kind``: the catalogue it is evaluated with (``hospital_doctor`` for hospital
    doctors, Hunan-Rules Art. 17; else its own kind)."""

    kind: str
    key: str
    region: str
    catalogue_kind: str = ""
    bonus_counts: dict[str, float] = field(default_factory=dict)
    deduction_counts: dict[str, float] = field(default_factory=dict)
    bonus: list[float] = field(default_factory=list)
    deductions: list[float] = field(default_factory=list)
    facts: CreditFacts = field(default_factory=CreditFacts)
    notes: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # indicator → where it came from
    # Art. 20(3)/(4) as an officer recorded it: (reason id, the officer's text), else empty
    exclusion: tuple[str, str] = ("", "")


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


@lru_cache(maxsize=256)
def _use_facts(
    months: int,
    blacklisted: bool = False,
    dishonest: bool = False,
    under_investigation: bool = False,
) -> CreditFacts:
    """Frozen, so one per value is shared by every subject with those facts. A blacklisted
    subject has dishonesty information too (Hunan-Credit Art. 31; RULES I-17)."""
    return CreditFacts(
        fund_use_months=months, used_fund=months > 0, blacklisted=blacklisted,
        dishonest=dishonest or blacklisted, under_investigation=under_investigation,
    )  # fmt: skip


def _indicator(ruleset: CreditRuleset, section: str, name: str) -> dict[str, Any]:
    for item in ruleset.catalogue.get(section, []):
        if item.get("indicator") == name:
            return dict(item)
    raise KeyError(f"{ruleset.id}: catalogue has no {section} indicator {name!r}")


def catalogue_version(ruleset: CreditRuleset) -> str:
    return str(ruleset.catalogue.get("version", ruleset.id))


Catalogues = dict[str, catalogues_service.Catalogue]
CATALOGUE_KINDS = ("practitioner", catalogues_service.DOCTORS, *KIND_OF_INSTITUTION.values())
POINTS = catalogues_service.POINTS_INDICATOR
_SHORT = {"practitioner": "p", "hospital_doctor": "d", "designated_hospital": "h",
          "designated_pharmacy": "f"}  # fmt: skip


def resolve_catalogues(
    session: Session, year: int, override: Catalogues | None = None
) -> Catalogues:
    """The catalogue of each evaluated kind for ``year``: the published version, else the
    shipped default (Art. 18); ``override`` replaces some (a draft's preview)."""
    found = {k: catalogues_service.catalogue_for(session, year, k) for k in CATALOGUE_KINDS}
    return {**found, **(override or {})}


def run_catalogue(catalogues: Catalogues) -> str:
    """The name recorded in ``credit_run.catalogue`` (32 characters): the default's name when
    every kind uses it, else each kind's version (``p`` practitioners, ``d`` hospital
    doctors, ``h`` hospitals, ``f`` pharmacies; 0 the default), e.g. ``2025:p2,d0,h1,f0``."""
    shipped = catalogue_version(credit_ruleset(RULESET))
    if all(c.name.startswith(shipped) for c in catalogues.values()):
        return shipped
    parts = []
    for kind in CATALOGUE_KINDS:
        name = catalogues[kind].name
        version = name.rsplit("-v", 1)[1] if "-v" in name else "0"
        parts.append(f"{_SHORT[kind]}{version}")
    years = {c.name.split("-", 1)[0] for c in catalogues.values() if "-v" in c.name}
    return f"{min(years) if years else ''}:{','.join(parts)}"[:32]


def _score(subject: Subject, catalogue: catalogues_service.Catalogue) -> None:
    """The subject's indicator counts scored by its catalogue (Art. 18-19; RULES I-15): each
    indicator gives count × points, at most its cap; one not in the catalogue gives
    nothing and the result says so."""
    if subject.catalogue_kind == catalogues_service.DOCTORS:
        subject.notes.append(
            f"hospital doctor: the doctors' catalogue {catalogue.name}, the guideline is "
            "separate (Hunan-Rules Art. 17; RULES §8)"
        )
    for module, counts, out in (
        ("bonus", subject.bonus_counts, subject.bonus),
        ("deduction", subject.deduction_counts, subject.deductions),
    ):
        sign = "+" if module == "bonus" else "−"
        for indicator, n in counts.items():
            item = catalogue.section(module).get(indicator)
            source = subject.sources.get(indicator, "")
            if item is None:
                if subject.catalogue_kind == catalogues_service.DOCTORS:
                    what = f"year points {n:g}" if indicator == POINTS else indicator
                    subject.notes.append(f"hospital doctor: {what} not applied (not in the "
                                         "doctors' catalogue)")  # fmt: skip
                else:
                    subject.notes.append(
                        f"{indicator}: not a {module} indicator of catalogue {catalogue.name}, "
                        f"not counted{source}"
                    )
                continue
            value = n * item["points"]
            capped = ""
            if item["cap"] is not None and value > item["cap"]:
                value, capped = item["cap"], f", capped at {item['cap']:g}"
            out.append(value)
            subject.notes.append(
                f"{indicator}: {n:g} × {item['points']:g} = {sign}{value:g}{capped} "
                f"({item['ref']}){source}"
            )


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
    session: Session, year: int, region: str, keys: list[str] | None = None
) -> Iterator[list[Subject]]:
    """Practitioners whose region is within ``region`` (``keys``: only these national
    codes), in batches (Hunan-Rules Art. 17)."""
    last_day = date(year, 12, 31)
    with_items = _has_items(session, "practitioner")
    with_dishonesty = _has_dishonesty(session, "practitioner")
    after = 0
    while True:
        query = (
            columns(col(Practitioner.id), col(Practitioner.national_code),
                    col(Practitioner.region), col(Practitioner.practice_type),
                    col(Practitioner.ruleset))
            .where(col(Practitioner.id) > after)
            .where(col(Practitioner.region).startswith(region))
        )  # fmt: skip
        if keys is not None:
            query = query.where(col(Practitioner.national_code).in_(keys))
        people = session.execute(query.order_by(col(Practitioner.id)).limit(BATCH)).all()
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
        codes = [p[1] for p in people]
        recorded = _facts(session, year, "practitioner", codes)
        archived = _items(session, year, "practitioner", codes) if with_items else {}
        listed, dishonest = (
            _dishonesty(session, year, "practitioner", codes) if with_dishonesty else NONE
        )
        batch = []
        for pid, code, where, practice, person_ruleset in people:
            assert pid is not None
            text = timelines.get(pid)
            points, blacklisted = 0, code in listed
            if text is not None:
                timeline = _timeline(session, pid, person_ruleset, text)
                points = timeline.year_points_on(last_day)
                blacklisted = blacklisted or _terminated_in(timeline, year)
            subject = Subject("practitioner", code, where, "practitioner")
            if practice == "doctor" and pid in at_hospital:
                subject.catalogue_kind = catalogues_service.DOCTORS
            if points:
                subject.deduction_counts[POINTS] = points
            if pid in signed and not points:
                subject.bonus_counts["commitment_kept"] = 1
                subject.sources["commitment_kept"] = " (signed service commitment)"
            _add(subject, recorded.get(code, []), archived.get(code, []))
            subject.facts = _use_facts(
                months_used(spans.get(pid, []), year), blacklisted, code in dishonest,
                subject.exclusion[0] == "under_investigation",
            )  # fmt: skip
            batch.append(subject)
        yield batch


def _add(
    subject: Subject, recorded: list[tuple[str, str]], archived: list[tuple[str, str, str]]
) -> None:
    """Recorded facts and archive items into the subject's counts; an exclusion fact
    (Art. 20(3)/(4)) sets ``subject.exclusion`` (under investigation wins over "other",
    RULES §8; of several of one kind, the first recorded)."""
    for indicator, reason in recorded:
        excluded = EXCLUSION_FACTS.get(indicator)
        if excluded is not None:
            if not subject.exclusion[0] or (
                excluded == "under_investigation" != subject.exclusion[0]
            ):
                subject.exclusion = (excluded, reason)
            continue
        subject.bonus_counts[indicator] = subject.bonus_counts.get(indicator, 0) + 1
    for module, indicator, _title in archived:
        counts = subject.bonus_counts if module == "bonus" else subject.deduction_counts
        counts[indicator] = counts.get(indicator, 0) + 1
        subject.sources[indicator] = " (archive)"


def _facts(
    session: Session, year: int, kind: str, keys: list[str]
) -> dict[str, list[tuple[str, str]]]:
    """What officers recorded (credit_fact) by subject key: (indicator, the reason given);
    bonus indicators, and the exclusions of Art. 20(3)/(4) (:data:`EXCLUSION_FACTS`)."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, indicator, reason in session.exec(
        select(CreditFact.subject_key, CreditFact.indicator, CreditFact.reason)
        .where(CreditFact.year == year)
        .where(CreditFact.subject_kind == kind)
        .where(_keys_in(session, col(CreditFact.subject_key), keys))
        .order_by(col(CreditFact.id))
    ).all():
        out[key].append((indicator, reason))
    return out


def _has_items(session: Session, kind: str) -> bool:
    """Whether any archive item of ``kind`` may feed an indicator (one indexed probe per
    run, so a province without such items pays nothing per batch)."""
    found = session.execute(
        columns(col(CreditItem.id))
        .where(col(CreditItem.subject_kind) == kind)
        .where((col(CreditItem.indicator) != "") | col(CreditItem.supersedes_id).is_not(None))
        .limit(1)
    ).first()
    return found is not None


NONE: tuple[set[str], set[str]] = (set(), set())
LISTING_STATES = ("listed", "repaired", "removed")  # a listing decided at some time


def _has_dishonesty(session: Session, kind: str) -> bool:
    """Whether any subject of ``kind`` may have dishonesty information: a blacklist listing
    ever decided, or a bad archive item that is serious or of the dishonest list (one
    indexed probe each per run, like :func:`_has_items`: without them no batch reads)."""
    listing = session.execute(
        columns(col(BlacklistListing.id))
        .where(col(BlacklistListing.subject_kind) == kind)
        .where(col(BlacklistListing.state).in_(LISTING_STATES))
        .limit(1)
    ).first()
    if listing is not None:
        return True
    item = session.execute(
        columns(col(CreditItem.id))
        .where(col(CreditItem.subject_kind) == kind)
        .where(col(CreditItem.serious) | (col(CreditItem.category) == "dishonest_list"))
        .limit(1)
    ).first()
    return item is not None


def _dishonesty(
    session: Session, year: int, kind: str, keys: list[str]
) -> tuple[set[str], set[str]]:
    """(blacklisted, dishonest) subject keys of a batch for ``year`` (Hunan-Credit Art. 31
    "不存在失信信息"; RULES I-17). Blacklisted: a ``blacklist_listing`` in force at some time
    of the year — state listed, repaired or removed, ``listed_on`` ≤ 31 Dec and its end
    (``ended_on``, else ``publish_until``; none: still in force) ≥ 1 Jan. Dishonest (no
    incentives): blacklisted, or a live bad ``credit_item`` of the year (not superseded, not
    withdrawn, not repaired) that is ``serious`` (Art. 33) or of category
    ``dishonest_list``. (A practitioner's termination is added by the caller.) One indexed
    read per table per batch (the subject indexes)."""
    if not keys:
        return set(), set()
    first, last = date(year, 1, 1), date(year, 12, 31)
    blacklisted: set[str] = set()
    for key, listed_on, ended_on, until in session.execute(
        columns(col(BlacklistListing.subject_key), col(BlacklistListing.listed_on),
                col(BlacklistListing.ended_on), col(BlacklistListing.publish_until))
        .where(col(BlacklistListing.subject_kind) == kind)
        .where(col(BlacklistListing.subject_key).in_(keys))
        .where(col(BlacklistListing.state).in_(LISTING_STATES))
    ).all():  # fmt: skip
        end = ended_on or until
        if listed_on is not None and listed_on <= last and (end is None or end >= first):
            blacklisted.add(key)
    rows = session.execute(
        columns(col(CreditItem.id), col(CreditItem.subject_key), col(CreditItem.polarity),
                col(CreditItem.serious), col(CreditItem.category), col(CreditItem.occurred_on),
                col(CreditItem.supersedes_id), col(CreditItem.withdrawn))
        .where(col(CreditItem.subject_kind) == kind)
        .where(col(CreditItem.subject_key).in_(keys))
        .where(col(CreditItem.serious) | (col(CreditItem.category) == "dishonest_list")
               | col(CreditItem.supersedes_id).is_not(None))
    ).all()  # fmt: skip
    superseded = {r[6] for r in rows if r[6] is not None}
    live = {r[0]: r[1] for r in rows
            if r[0] not in superseded and not r[7] and r[2] == "bad"
            and (r[3] or r[4] == "dishonest_list") and first <= r[5] <= last}  # fmt: skip
    if live:
        repaired = set(
            session.exec(
                select(CreditRepair.item_id)
                .where(col(CreditRepair.item_id).in_(list(live)))
                .where(CreditRepair.state == "approved")
            ).all()
        )
        dishonest = {key for item_id, key in live.items() if item_id not in repaired}
    else:
        dishonest = set()
    return blacklisted, dishonest | blacklisted


def _items(
    session: Session, year: int, kind: str, keys: list[str]
) -> dict[str, list[tuple[str, str, str]]]:
    """Archive items (credit_item) that count as indicators in ``year``, by subject key:
    live (not superseded, not withdrawn), not repaired (no approved credit_repair on it),
    with an indicator and ``occurred_on`` in the year; bad → deduction, good → bonus
    (Hunan-Credit Art. 13-14, 18-19, 27). One indexed read per batch (the subject index);
    a correction names the row it replaces, so the batch's own rows tell what is live."""
    if not keys:
        return {}
    rows = session.execute(
        columns(col(CreditItem.id), col(CreditItem.subject_key), col(CreditItem.indicator),
                col(CreditItem.polarity), col(CreditItem.occurred_on),
                col(CreditItem.supersedes_id), col(CreditItem.withdrawn), col(CreditItem.title))
        .where(col(CreditItem.subject_kind) == kind)
        .where(col(CreditItem.subject_key).in_(keys))
        .where((col(CreditItem.indicator) != "") | col(CreditItem.supersedes_id).is_not(None))
        .order_by(col(CreditItem.id))
    ).all()  # fmt: skip
    if not rows:
        return {}
    superseded = {r[5] for r in rows if r[5] is not None}
    first, last = date(year, 1, 1), date(year, 12, 31)
    live = [r for r in rows
            if r[0] not in superseded and not r[6] and r[2] and first <= r[4] <= last]  # fmt: skip
    if not live:
        return {}
    repaired = set(
        session.exec(
            select(CreditRepair.item_id)
            .where(col(CreditRepair.item_id).in_([r[0] for r in live]))
            .where(CreditRepair.state == "approved")
        ).all()
    )
    out: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for item_id, key, indicator, polarity, _, _, _, title in live:
        if item_id in repaired:
            continue
        out[key].append(("bonus" if polarity == "good" else "deduction", indicator, title))
    return out


def _institutions(
    session: Session, year: int, region: str, keys: list[str] | None = None
) -> Iterator[list[Subject]]:
    """Designated hospitals and pharmacies within ``region`` (``keys``: only these codes),
    in batches (Art. 14, 20)."""
    first_day, last_day = date(year, 1, 1), date(year, 12, 31)
    with_items = {kind for kind in KIND_OF_INSTITUTION.values() if _has_items(session, kind)}
    with_dishonesty = {
        kind for kind in KIND_OF_INSTITUTION.values() if _has_dishonesty(session, kind)
    }
    after = 0
    while True:
        query = (
            select(Institution.id, Institution.code, Institution.region, Institution.kind)
            .where(col(Institution.id) > after)
            .where(col(Institution.region).startswith(region))
            .where(col(Institution.kind).in_(KIND_OF_INSTITUTION))
        )
        if keys is not None:
            query = query.where(col(Institution.code).in_(keys))
        places = session.exec(query.order_by(col(Institution.id)).limit(BATCH)).all()
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
        codes = [p[1] for p in places]
        recorded = {
            kind: _facts(session, year, kind, codes) for kind in KIND_OF_INSTITUTION.values()
        }
        archived = {
            kind: _items(session, year, kind, codes) if kind in with_items else {}
            for kind in KIND_OF_INSTITUTION.values()
        }
        dishonesty = {
            kind: _dishonesty(session, year, kind, codes) if kind in with_dishonesty else NONE
            for kind in KIND_OF_INSTITUTION.values()
        }
        batch = []
        for place_id, code, where, place_kind in places:
            iid = place_id or 0
            kind = KIND_OF_INSTITUTION[place_kind]
            subject = Subject(kind, code, where, kind)
            start = since.get(iid)
            spans = [(start, ended.get(iid))] if start is not None else []
            for decision_type, n in sorted(decided.get(iid, Counter()).items()):
                indicator = DECISION_INDICATOR.get(decision_type)
                if indicator is not None:
                    subject.deduction_counts[indicator] = n
                    subject.sources[indicator] = " (Hunan-Credit Art. 14: decisions of the year)"
            _add(subject, recorded[kind].get(code, []), archived[kind].get(code, []))
            listed, dishonest = dishonesty[kind]
            subject.facts = _use_facts(
                months_used(spans, year), code in listed, code in dishonest,
                subject.exclusion[0] == "under_investigation",
            )  # fmt: skip
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
    excluded, reason = subject.exclusion
    if not result.excluded and excluded == "other":
        # Art. 20(4), recorded by an officer; the engine's own reasons come first (RULES §8)
        result = Outcome(None, None, True, "other", False, ())
        explain = [
            *subject.notes,
            "not evaluated: Hunan-Credit Art. 20(4): 其他不应参加本期评价的情形",
        ]
    if excluded and result.reason == excluded and reason:
        explain.append(f"recorded reason: {reason}")
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
    # per kind: A-D, held, excluded (the "counts per grade, per region and per kind")
    kind_grades: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    cities: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    held: list[dict[str, str]] = field(default_factory=list)
    held_count: int = 0
    excluded: list[dict[str, str]] = field(default_factory=list)
    excluded_reasons: Counter[str] = field(default_factory=Counter)
    written: int = 0
    unchanged: int = 0
    published_runs: int = 0
    warnings: list[str] = field(default_factory=list)
    catalogues: dict[str, str] = field(default_factory=dict)  # kind → catalogue name (Art. 18)

    def add(self, row: dict[str, Any]) -> None:
        self.total += 1
        self.kinds[row["subject_kind"]] += 1
        city = row["region"][:4]
        who = {"kind": row["subject_kind"], "code": row["subject_key"], "region": row["region"]}
        column = {EXCLUDED: "excluded", HELD: "held"}.get(row["state"], row["grade"])
        self.kind_grades[row["subject_kind"]][column] += 1
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
            "kind_grades": {
                k: dict(sorted(v.items())) for k, v in sorted(self.kind_grades.items())
            },
            "held": self.held_count,
            "excluded": dict(sorted(self.excluded_reasons.items())),
            "written": self.written,
            "unchanged": self.unchanged,
            "catalogues": dict(self.catalogues),
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
            "kind_grades": counts["kind_grades"],
            "held": self.held_count,
            "held_institutions": self.held,
            "excluded": counts["excluded"],
            "excluded_subjects": self.excluded,
            "written": self.written,
            "unchanged": self.unchanged,
            "warnings": self.warnings,
            "catalogues": dict(self.catalogues),
        }


def check_region(region: str | None) -> str:
    """The province (2 digits) or a city (4 digits) within Hunan (the credit ruleset's
    province); default the province. Hunan-Credit Art. 21: the provincial bureau and the
    city (市州) bureaus evaluate, by territory; a county (6 digits) does not, and is refused."""
    region = (region or PROVINCE).strip()
    if re.fullmatch(r"[0-9]{6}", region):
        raise CreditError(
            "region",
            f"行政区划 {region} 为县级：信用评价由省医疗保障局或市州医疗保障局按属地负责"
            f"（湖南信用办法第二十一条），请填写 2 位（全省）或 4 位（市州）代码",
        )
    if not re.fullmatch(r"[0-9]{2}([0-9]{2})?", region):
        raise CreditError("region", f"行政区划 {region} 应为 2 位（全省）或 4 位（市州）数字")
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
    session: Session,
    year: int,
    region: str,
    progress: Progress | None,
    catalogues: Catalogues | None = None,
    kinds: tuple[str, ...] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Every subject of ``region`` scored with ``catalogues`` (default: those of the year,
    :func:`resolve_catalogues`); ``kinds``: only subjects evaluated with these catalogue
    kinds (a draft's preview)."""
    ruleset = credit_ruleset(RULESET)
    catalogues = catalogues or resolve_catalogues(session, year)
    producers: list[Callable[..., Iterator[list[Subject]]]] = []
    if kinds is None or {"practitioner", catalogues_service.DOCTORS} & set(kinds):
        producers.append(_practitioners)
    if kinds is None or set(KIND_OF_INSTITUTION.values()) & set(kinds):
        producers.append(_institutions)
    # Most subjects share their facts (no points, a full year): the outcome of equal facts
    # is computed once. The key holds everything _outcome reads.
    memo: dict[tuple[Any, ...], dict[str, Any]] = {}
    for producer in producers:
        for batch in producer(session, year, region):
            if kinds is not None:
                batch = [s for s in batch if s.catalogue_kind in kinds]
            yield _rows(session, ruleset, year, batch, catalogues, memo)
            if progress is not None:
                progress(len(batch))


def _rows(
    session: Session,
    ruleset: CreditRuleset,
    year: int,
    batch: list[Subject],
    catalogues: Catalogues,
    memo: dict[tuple[Any, ...], dict[str, Any]],
) -> list[dict[str, Any]]:
    medical = [s.key for s in batch if s.kind == MEDICAL]
    consulted = _consulted(session, year, medical)
    rows = []
    for s in batch:
        asked = s.kind == MEDICAL and s.key in consulted
        # Everything _score and _outcome read: equal facts, one computation.
        key = (s.kind, s.catalogue_kind, tuple(s.bonus_counts.items()),
               tuple(s.deduction_counts.items()), tuple(s.sources.items()), s.facts,
               asked, s.exclusion)  # fmt: skip
        outcome = memo.get(key)
        if outcome is None:
            if len(memo) > 50_000:
                memo.clear()
            _score(s, catalogues[s.catalogue_kind])
            outcome = memo[key] = _outcome(ruleset, s, asked)
        rows.append({"subject_kind": s.kind, "subject_key": s.key, "region": s.region,
                     **outcome})  # fmt: skip
    return rows


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
        catalogues = resolve_catalogues(session, year)
        summary.catalogues = {k: c.name for k, c in catalogues.items()}
        for rows in _evaluate(session, year, region, progress, catalogues):
            for row in rows:
                summary.add(row)
    if record is not None:
        with session_scope(engine, write=True) as session:
            run = _new_run(session, record, year, region, "previewed", catalogues)
            run.counts = json.dumps(summary.counts(), sort_keys=True)
            session.add(run)
            summary.run_id = run.id
            audit(session, record, "credit_preview", "credit_run", run.id, year=year,
                  region=region)  # fmt: skip
    return summary


def _new_run(
    session: Session, act: Act, year: int, region: str, state: str, catalogues: Catalogues
) -> CreditRun:
    ruleset = credit_ruleset(RULESET)
    run = CreditRun(
        year=year, region=region, state=state, ruleset=ruleset.id,
        catalogue=run_catalogue(catalogues), started_by=act.actor, started_at=act.at,
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
        catalogues = resolve_catalogues(session, year)
        summary.catalogues = {k: c.name for k, c in catalogues.items()}
        run = _new_run(session, act, year, region, "committed", catalogues)
        run.committed_by, run.committed_at = act.actor, act.at
        assert run.id is not None
        for rows in _evaluate(session, year, region, progress, catalogues):
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
    for kind, values in counts.get("kind_grades", {}).items():
        summary.kind_grades[kind].update(values)
    summary.catalogues.update(counts.get("catalogues", {}))


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
    opinion = checked_text("opinion", opinion, 2000, required=True)
    row = CreditConsultation(year=year, institution_code=place.code, opinion=opinion,
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


EXCLUSION_GROUND_ZH = {  # what an officer records (Art. 20(3)/(4)), as the form offers it
    "under_investigation": "涉嫌违法犯罪被立案查处尚未结案（第二十条第三项）",
    "excluded_other": "其他不应参加本期评价的情形（第二十条第四项）",
}


def subject_region(session: Session, subject_kind: str, subject_key: str) -> str | None:
    """The region of an evaluated subject (a registry practitioner or institution of that
    kind), None when there is none."""
    if subject_kind == "practitioner":
        return session.exec(
            select(Practitioner.region).where(Practitioner.national_code == subject_key)
        ).first()
    place_kind = {v: k for k, v in KIND_OF_INSTITUTION.items()}.get(subject_kind)
    if place_kind is None:
        return None
    return session.exec(
        select(Institution.region)
        .where(Institution.code == subject_key)
        .where(Institution.kind == place_kind)
    ).first()


def record_exclusion(
    session: Session,
    act: Act,
    year: int,
    subject_kind: str,
    subject_key: str,
    ground: str,
    reason: str,
    region_visible: Callable[[str], bool] | None = None,
) -> CreditFact:
    """Record that a subject does not take part in ``year``'s evaluation (Hunan-Credit Art.
    20(3) 立案查处尚未结案, ``ground`` ``under_investigation``; Art. 20(4) other reasons,
    ``excluded_other``), with the officer's reason: a ``credit_fact`` whose ``reason`` is
    that text. The evaluation then excludes the subject with that reason (under
    investigation first, RULES §8); a committed year is re-evaluated at once (Art. 19).
    ``region_visible``: the officer's scope; a subject outside it is "not found"."""
    if ground not in EXCLUSION_GROUND_ZH:
        raise ServiceError("ground", "请选择不参加本期评价的情形")
    if subject_kind not in KIND_ZH:
        raise ServiceError("subject_kind", "请选择信用主体类型")
    key = checked_text("subject_key", subject_key, 32, required=True)
    text = checked_text("reason", reason, 500, required=True)
    region = subject_region(session, subject_kind, key)
    if region is None or (region_visible is not None and not region_visible(region)):
        raise ServiceError("subject_key", f"未找到信用主体 {key}，或不在您的管辖范围内")
    row = CreditFact(year=year, subject_kind=subject_kind, subject_key=key, indicator=ground,
                     recorded_by=act.actor, recorded_at=act.at, reason=text)  # fmt: skip
    session.add(row)
    session.flush()
    audit(session, act, "credit_exclusion", "credit_fact", row.id, year=year,
          subject_kind=subject_kind, subject_key=key, ground=ground, why=text)  # fmt: skip
    reevaluate_subject(session, act, subject_kind, key, [year],
                       f"不参加本期评价：{EXCLUSION_GROUND_ZH[ground]}，{text}")  # fmt: skip
    return row


def runs(
    session: Session, region_visible: Callable[[str], bool], limit: int = 50
) -> list[CreditRun]:
    found = session.exec(select(CreditRun).order_by(col(CreditRun.id).desc()).limit(limit * 4))
    return [r for r in found if region_visible(r.region)][:limit]


def medical_results(session: Session, run: CreditRun) -> list[dict[str, Any]]:
    """The medical institutions' current results of a committed run, for the health
    commission of the same level (Hunan-Credit Art. 21: 作出信用评价之后…及时通报): code,
    name, region, grade, score, state; per institution its newest row of the run (a
    re-evaluation supersedes within the run, Art. 19)."""
    newest: dict[str, CreditResult] = {}
    for row in session.exec(
        select(CreditResult)
        .where(CreditResult.run_id == run.id)
        .where(CreditResult.subject_kind == MEDICAL)
        .order_by(col(CreditResult.id))
    ).all():
        newest[row.subject_key] = row
    names = dict(
        session.exec(
            select(Institution.code, Institution.name).where(col(Institution.code).in_(newest))
        ).all()
    ) if newest else {}  # fmt: skip
    return [
        {"code": code, "name": names.get(code, ""), "region": r.region, "grade": r.grade or "",
         "score": r.score, "state": r.state}
        for code, r in sorted(newest.items())
    ]  # fmt: skip


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
    institution, its newest result in a published run of that year, graded A with
    ``incentives`` (Art. 31(1) "信用评价为A级且不存在失信信息": an A with dishonesty
    information is not listed)."""
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
    # Art. 31(1): A and no dishonesty information (the result's ``incentives``)
    codes = [k for k, r in newest.items() if r.grade == "A" and r.state == GRADED and r.incentives]
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


# --- a draft catalogue's preview (Art. 18) ----------------------------------------------------


@dataclass(frozen=True)
class CataloguePreview:
    """A draft catalogue tried on the subjects of ``year`` beside the version in force."""

    year: int
    kind: str
    draft: Summary
    current: Summary
    current_name: str


def preview_catalogue(
    engine: Engine, catalogue_id: int, *, today: date | None = None
) -> CataloguePreview:
    """Evaluate last year's subjects of the draft's kind with the draft and with the version
    in force for the draft's year (published, else the default), nothing written (Art. 18:
    the draft is tried before publication). "Last year": the latest year that is over and
    not after the draft's year, ``min(draft.year, today.year − 1)``; the whole province (the
    catalogue is provincial)."""
    today = today or china_today()
    with session_scope(engine) as session:
        row = catalogues_service.get(session, catalogue_id)
        draft = catalogues_service.catalogue_of(row)
        kind = row.subject_kind
        if kind not in CATALOGUE_KINDS:
            raise CreditError("subject_kind", "该类信用主体暂不参加年度评价，无法预览")
        year = min(row.year, today.year - 1)
        in_force = resolve_catalogues(session, row.year)
        summaries = []
        for name, chosen in (("draft", draft), ("current", in_force[kind])):
            catalogues = {**in_force, kind: chosen}
            summary = Summary(year, PROVINCE, "preview")
            summary.catalogues = {
                kind: chosen.name if name == "current" else f"draft:{chosen.name}"
            }
            for rows in _evaluate(session, year, PROVINCE, None, catalogues, (kind,)):
                for r in rows:
                    summary.add(r)
            summaries.append(summary)
    return CataloguePreview(year, kind, summaries[0], summaries[1], in_force[kind].name)


# --- re-evaluation on changed facts (Art. 19, 22) ---------------------------------------------

GRADE_ZH = {GRADED: "", HELD: "待征求意见", EXCLUDED: "不参加本期评价"}
BASIS = (
    "《湖南省医疗保障信用管理办法》第十九条：信用评价结果根据信用信息变化动态调整，变化情况"
    "记入信用档案；第二十二条：告知信用主体评价结果的变化情况、理由和依据"
)


def _shown(row: Any) -> str:
    if row["state"] == GRADED:
        score = row["score"]
        return f"{row['grade']} 级（{score:g} 分）" if score is not None else str(row["grade"])
    if row["state"] == EXCLUDED:
        return f"不参加本期评价（{row['exclusion_reason']}）"
    score = row["score"]
    return "待征求意见" if score is None else f"待征求意见（暂定 {score:g} 分）"


def reevaluate_subject(
    session: Session,
    act: Act,
    subject_kind: str,
    subject_key: str,
    years: list[int] | set[int] | None = None,
    why: str = "",
) -> list[CreditChangeNotice]:
    """Re-evaluate one subject at once after its facts changed (Hunan-Credit Art. 19:
    results change dynamically and every change is archived; Art. 22: the subject is told
    what changed, why and on what basis).

    For each committed year (``years``: only these) in which the subject has a result, the
    subject is evaluated again exactly as the annual run does (the year's catalogue, the
    consultation: a medical institution held for it stays held); a changed result is a new
    ``credit_result`` superseding the current one (in the same run) with a
    ``credit_change_notice``; an unchanged one writes nothing. Runs in the caller's
    transaction; returns the notices written."""
    committed = set(
        session.exec(
            select(CreditRun.year).where(col(CreditRun.state).in_(("committed", "published")))
        ).all()
    )
    wanted = sorted(committed if years is None else committed & set(years))
    if not wanted or subject_kind not in KIND_ZH:
        return []
    results = table(CreditResult)
    current: dict[int, Any] = {}
    for row in session.execute(
        columns(results.c.id, results.c.run_id, results.c.year, *(results.c[k] for k in COMPARED))
        .where(results.c.year.in_(wanted))
        .where(results.c.subject_kind == subject_kind)
        .where(results.c.subject_key == subject_key)
        .order_by(results.c.id)
    ).all():
        current[row.year] = row._mapping
    notices = []
    ruleset = credit_ruleset(RULESET)
    producer = _practitioners if subject_kind == "practitioner" else _institutions
    for year, old in sorted(current.items()):
        catalogues = resolve_catalogues(session, year)
        batch = [s for b in producer(session, year, PROVINCE, [subject_key]) for s in b
                 if s.kind == subject_kind]  # fmt: skip
        if not batch:
            continue
        new = _rows(session, ruleset, year, batch[:1], catalogues, {})[0]
        if all(old[k] == new[k] for k in COMPARED):
            continue
        result = CreditResult(**new, run_id=old["run_id"], year=year, recorded_at=act.at,
                              supersedes_id=old["id"])  # fmt: skip
        session.add(result)
        session.flush()
        notice = CreditChangeNotice(
            subject_kind=subject_kind, subject_key=subject_key, year=year,
            result_id=result.id or 0, previous_result_id=old["id"],
            what=f"{year} 年度信用评价结果：{_shown(old)} → {_shown(new)}",
            why=why.strip() or "信用信息发生变化", basis=BASIS, recorded_at=act.at,
        )  # fmt: skip
        session.add(notice)
        session.flush()
        audit(session, act, "credit_reevaluate", "credit_result", result.id, year=year,
              subject_kind=subject_kind, subject_key=subject_key, notice=notice.id,
              before=_shown(old), after=_shown(new), why=notice.why)  # fmt: skip
        notices.append(notice)
    return notices


def reevaluate_institution(
    session: Session, act: Act, institution: Institution, why: str = ""
) -> list[CreditChangeNotice]:
    """:func:`reevaluate_subject` for a registry institution (hospitals and pharmacies)."""
    kind = KIND_OF_INSTITUTION.get(institution.kind)
    if kind is None:
        return []
    return reevaluate_subject(session, act, kind, institution.code, why=why)


def item_changed(session: Session, act: Act, item: CreditItem) -> list[CreditChangeNotice]:
    """A new or superseding ``credit_item`` (or a repair approved on one): re-evaluate its
    subject when it or the row it replaces feeds an indicator (Art. 19, 22). For the
    archive's services to call at the end of their transaction."""
    replaced = session.get(CreditItem, item.supersedes_id) if item.supersedes_id else None
    if not item.indicator and (replaced is None or not replaced.indicator):
        return []
    years = {item.occurred_on.year} | ({replaced.occurred_on.year} if replaced else set())
    why = f"信用信息变化：{item.title}（{item.occurred_on}）"
    return reevaluate_subject(session, act, item.subject_kind, item.subject_key, years, why)


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
