"""The ledger: recording cases, replaying a person's history, statuses and settlement checks.

The ledger is append-only. A person's points and statuses are computed by the engine from
their live entries (those not superseded); the status cache is written in the same
transaction as the entries, after the person's row is locked, so concurrent writers for
one person queue and never leave the cache behind the ledger.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from portal.clock import china_today
from portal.models import (
    Decision,
    Institution,
    LedgerEntry,
    Practitioner,
    Registration,
    StatusCache,
)
from portal.services import blacklist, cache, credit_archive, ledger_chain, webhooks
from portal.services.errors import NotFound, ServiceError
from portal.services.registry import Act, audit, get_institution, get_practitioner
from scoring.engine import Timeline, evaluate
from scoring.errors import InputError
from scoring.model import Appeal, Event, Linked, Repair, Restore, Score, Shorten, StatusOn
from scoring.points import situation_points, tier_points
from scoring.rulesets import ADJUSTMENTS, RESPONSIBILITIES, practitioner_ruleset

DECISION_TYPES = {"administrative_penalty": "行政处罚", "agreement_action": "协议处理"}


# --- replay ------------------------------------------------------------------------


def live_entries(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """Entries in recording order, without those a later entry superseded or voided."""
    superseded = {e.supersedes_id for e in entries if e.supersedes_id is not None}
    return [e for e in entries if e.id not in superseded and e.kind != "void"]


def entry_event(entry: LedgerEntry) -> Event:
    data: dict[str, Any] = json.loads(entry.payload)
    day = entry.event_date
    if entry.kind == "score":
        effective = data.get("effective")
        return Score(
            day,
            int(data["points"]),
            case=str(entry.decision_id),
            violation=data.get("violation"),
            effective=date.fromisoformat(effective) if effective else None,
            cancels=bool(data.get("cancels")),
            explain=data.get("explain", ""),
        )
    if entry.kind == "repair":
        return Repair(day, data["route"], data.get("param"))
    if entry.kind == "restore":
        applied = data.get("applied")
        return Restore(day, date.fromisoformat(applied) if applied else None)
    if entry.kind == "appeal":
        return Appeal(day, str(entry.decision_id), int(data["points"]))
    if entry.kind == "shorten":
        return Shorten(day, date.fromisoformat(data["end"]))
    if entry.kind == "linked":
        end = data.get("end")
        return Linked(
            day,
            data["kind"],
            date.fromisoformat(data["start"]),
            date.fromisoformat(end) if end else None,
            data.get("cause", ""),
        )
    raise ValueError(f"ledger entry {entry.id}: unknown kind {entry.kind!r}")


def replay_entries(ruleset_id: str, entries: list[LedgerEntry]) -> Timeline:
    live = live_entries(entries)
    return evaluate(practitioner_ruleset(ruleset_id), [entry_event(e) for e in live])


def person_entries(session: Session, practitioner_id: int) -> list[LedgerEntry]:
    return list(
        session.exec(
            select(LedgerEntry)
            .where(LedgerEntry.practitioner_id == practitioner_id)
            .order_by(LedgerEntry.id)  # type: ignore[arg-type]
        ).all()
    )


def lock_people(session: Session, ids: list[int]) -> None:
    """Row locks on PostgreSQL (in id order, so two writers never deadlock)."""
    if ids and session.get_bind().dialect.name == "postgresql":
        session.exec(
            select(Practitioner.id)
            .where(Practitioner.id.in_(sorted(set(ids))))  # type: ignore[union-attr]
            .order_by(Practitioner.id)  # type: ignore[arg-type]
            .with_for_update()
        ).all()


def recompute(session: Session, person: Practitioner, as_of: date) -> Timeline:
    """Replay the person's ledger; write the cache and every registration's status.

    A refusal by the engine (an input the rules do not allow) becomes a ServiceError, and
    the caller's transaction is rolled back: nothing half-recorded.
    """
    assert person.id is not None
    entries = person_entries(session, person.id)
    try:
        timeline = replay_entries(person.ruleset, entries)
    except InputError as exc:
        raise engine_refusal(exc, live_entries(entries), person.ruleset) from exc
    row = session.get(StatusCache, person.id) or StatusCache(practitioner_id=person.id)
    row.ledger_seq = max((e.id or 0 for e in entries), default=0)
    row.timeline = cache.encode(timeline)
    session.add(row)
    status = timeline.status_on(as_of).status
    # Linkage: points and status belong to the person, at every institution (National-
    # Procedure Art. 34; Anhui-Rules Art. 20, 23): multi-site doctors, pharmacy principals.
    before = None
    for registration in session.exec(
        select(Registration).where(Registration.practitioner_id == person.id)
    ).all():
        if registration.deregistered_on is None and registration.status != status:
            before = registration.status
            registration.status = status
            session.add(registration)
    if before is not None:
        session.flush()
        webhooks.enqueue(
            session.connection(), person.national_code, before, status, as_of, datetime.now(UTC)
        )
    return timeline


FIELD_OF_KIND = {"score": "decision_date", "linked": "effective_from"}


def engine_refusal(exc: InputError, live: list[LedgerEntry], ruleset_id: str) -> ServiceError:
    """The engine's refusal, said in the user's words with the form's field name."""
    field, message = "ledger", f"规则不允许该记录：{exc.message}"
    match = re.fullmatch(r"events\[(\d+)\]\.(\w+)", exc.where)
    if match:
        entry = live[int(match.group(1))]
        what = match.group(2)
        if what == "date" and "took effect" in exc.message:
            field = FIELD_OF_KIND.get(entry.kind, "date")
            rs = practitioner_ruleset(ruleset_id)
            message = (
                f"{entry.event_date.isoformat()} 早于《{rs.name}》施行日期 "
                f"{rs.effective_from.isoformat()}，不能按该规则记录"
            )
        elif what == "effective":
            field = "period_start"
            message = "起始日期不符合规则：湖南暂停、终止“从次月起”，不得早于次月1日"
        elif what == "date":
            field = "decision_date"
            message = "同一处理决定的各项记分日期必须一致"
        elif what == "end":
            field = "until"
            message = "关联暂停须载明截止日期，且不早于起始日期"
    return ServiceError(field, message)


def append(
    session: Session,
    act: Act,
    person: Practitioner,
    kind: str,
    day: date,
    payload: dict[str, Any],
    decision_id: int | None = None,
    supersedes_id: int | None = None,
) -> LedgerEntry:
    entry = LedgerEntry(
        practitioner_id=person.id or 0,
        kind=kind,
        event_date=day,
        decision_id=decision_id,
        payload=json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str),
        supersedes_id=supersedes_id,
        **act.stamp(),
    )
    session.add(entry)
    session.flush()
    ledger_chain.queue(session, entry)
    audit(session, act, f"ledger_{kind}", "ledger_entry", entry.id, practitioner=person.id)
    return entry


# --- recording a case --------------------------------------------------------------


@dataclass
class Finding:
    """Responsibility found for one person in a case (责任认定)."""

    national_code: str
    responsibility: str | None = None
    tier: int | None = None
    situation: str | None = None
    points: int | None = None
    adjustment: str = "none"
    violation: str | None = None
    effective: date | None = None


@dataclass
class CaseRecorded:
    decision: Decision
    people: dict[str, StatusOn] = field(default_factory=dict)  # national code → status
    points: dict[str, int] = field(default_factory=dict)  # national code → case points
    warnings: list[str] = field(default_factory=list)  # e.g. ruleset expired (I-1)


def _points(
    ruleset_id: str, finding: Finding, amount: float | None, where: str
) -> tuple[int, bool, str]:
    """Points for one finding (RULES §3), with the user's field named on refusal."""
    given = [k for k in ("points", "tier", "situation") if getattr(finding, k) is not None]
    if len(given) != 1:
        raise ServiceError(f"{where}.points", "请在“直接记分”“记分档次”“负面情形”中选择一种")
    if finding.adjustment not in ADJUSTMENTS:
        raise ServiceError(f"{where}.adjustment", "调整方式应为从轻、减轻一档、从重或加重一档")
    if finding.responsibility is not None and finding.responsibility not in RESPONSIBILITIES:
        raise ServiceError(f"{where}.responsibility", "责任应为一般、重要或主要责任")
    ruleset = practitioner_ruleset(ruleset_id)
    if finding.points is not None:
        if not 1 <= finding.points <= 12:
            raise ServiceError(f"{where}.points", "单次记分应为 1 至 12 分")
        return finding.points, False, f"{finding.points} points given"
    if finding.situation is not None and finding.situation not in ruleset.situations:
        raise ServiceError(
            f"{where}.situation", f"负面情形 {finding.situation} 不在 {ruleset_id} 目录中"
        )
    if finding.tier is not None and finding.tier not in ruleset.tiers:
        raise ServiceError(f"{where}.tier", "记分档次应为 1 至 4")
    situation = ruleset.situations.get(finding.situation or "")
    if finding.responsibility is None and (situation is None or situation.needs_responsibility):
        raise ServiceError(f"{where}.responsibility", "请选择责任程度")
    if situation is not None and situation.needs_amount and amount is None:
        raise ServiceError("amount", "该负面情形按责任金额确定档次，请填写责任金额")
    try:
        if finding.tier is not None:
            scored = tier_points(
                ruleset, finding.tier, finding.responsibility or "", finding.adjustment
            )
        else:
            scored = situation_points(
                ruleset, finding.situation or "", finding.responsibility, amount, finding.adjustment
            )
    except InputError as exc:
        raise ServiceError(f"{where}.{exc.where}", exc.message) from exc
    return scored.points, scored.cancels, scored.explain


def record_case(
    session: Session,
    act: Act,
    *,
    institution_code: str,
    decision_type: str,
    legal_basis: str,
    document_no: str,
    decision_date: date,
    amount: float | None,
    findings: list[Finding],
    as_of: date,
) -> CaseRecorded:
    """Record a decision and the points of each responsible person (RULES §3-§5).

    Points come from the engine; every person's status is recomputed at once for all their
    registrations. National-Procedure Art. 25-27 (scoring date = decision date).
    """
    institution = get_institution(session, institution_code)
    if decision_type not in DECISION_TYPES:
        raise ServiceError("decision_type", "处理类型应为行政处罚或协议处理")
    if not legal_basis.strip():
        raise ServiceError("legal_basis", "请填写处理依据")
    if not document_no.strip():
        raise ServiceError("document_no", "请填写文书编号")
    if amount is not None and amount < 0:
        raise ServiceError("amount", "责任金额不能为负数")
    if not findings:
        raise ServiceError("findings", "请至少认定一名相关责任人员")
    if session.exec(select(Decision.id).where(Decision.document_no == document_no.strip())).first():
        raise ServiceError("document_no", f"文书编号 {document_no} 已登记")
    people: dict[str, Practitioner] = {}
    for i, finding in enumerate(findings):
        try:
            person = get_practitioner(session, finding.national_code)
        except NotFound as exc:
            raise ServiceError(f"findings[{i}].national_code", exc.message) from exc
        if person.ruleset != institution.ruleset:
            raise ServiceError(f"findings[{i}].national_code", "该人员所属省份与机构不一致，请核对")
        people[person.national_code] = person
    ruleset = practitioner_ruleset(institution.ruleset)
    scored = []
    for i, finding in enumerate(findings):
        points, cancels, explain = _points(institution.ruleset, finding, amount, f"findings[{i}]")
        effective = finding.effective
        if effective is not None and effective < decision_date:
            raise ServiceError(
                f"findings[{i}].effective", "暂停、终止的起始日期不能早于处理决定日期"
            )
        if effective is None and ruleset.start == "scoring_date":
            # RULES I-6: no period reaches back before the institution could know; the
            # notice states the start (issue_notice moves it to the date of issue).
            effective = max(decision_date, as_of)
        scored.append((finding, points, cancels, explain, effective))
    lock_people(session, [p.id or 0 for p in people.values()])
    decision = Decision(
        institution_id=institution.id or 0,
        decision_type=decision_type,
        legal_basis=legal_basis.strip(),
        document_no=document_no.strip(),
        decision_date=decision_date,
        amount=amount,
        ruleset=institution.ruleset,
        **act.stamp(),
    )
    session.add(decision)
    session.flush()
    audit(session, act, "record_case", "decision", decision.id, document_no=decision.document_no)
    result = CaseRecorded(decision)
    for finding, points, cancels, explain, effective in scored:
        person = people[finding.national_code.strip().upper()]
        payload = {
            "points": points,
            "cancels": cancels,
            "explain": explain,
            "violation": finding.violation,
            "situation": finding.situation,
            "tier": finding.tier,
            "responsibility": finding.responsibility,
            "adjustment": finding.adjustment,
            "effective": effective.isoformat() if effective else None,
        }
        append(session, act, person, "score", decision_date, payload, decision.id)
    for code, person in people.items():
        timeline = recompute(session, person, as_of)
        result.people[code] = timeline.status_on(as_of)
        result.points[code] = case_points(session, person, timeline, decision.id or 0)
        result.warnings += [w for w in timeline.warnings if w not in result.warnings]
    credit_archive.sync_from_ledger(session, act, [p.id or 0 for p in people.values()])
    credit_archive.sync_institution_decisions(session, act, [decision.id or 0])
    _reevaluate_credit(session, act, institution, list(people), decision)
    return result


def _reevaluate_credit(
    session: Session, act: Act, institution: Institution, codes: list[str], decision: Decision
) -> None:
    """A new decision changes the facts of committed credit years (Hunan-Credit Art. 19, 22)."""
    from portal.services import credit_evaluation

    why = f"处理决定 {decision.document_no}（{decision.decision_date}）"
    for code in codes:
        credit_evaluation.reevaluate_subject(session, act, "practitioner", code, why=why)
    credit_evaluation.reevaluate_institution(session, act, institution, why=why)


def case_points(
    session: Session, person: Practitioner, timeline: Timeline, decision_id: int
) -> int:
    """The points a case counts for one person: its counted score events (RULES §3.3, I-5)."""
    live = live_entries(person_entries(session, person.id or 0))
    return sum(
        outcome.points or 0
        for entry, outcome in zip(live, timeline.outcomes, strict=True)
        if entry.kind == "score" and entry.decision_id == decision_id and outcome.counted
    )


CORRECTABLE: dict[str, dict[str, str]] = {
    "score": {"points": "int", "effective": "date", "violation": "text"},
    "linked": {"start": "date", "end": "date"},
    "shorten": {"end": "date"},
}


def _checked_correction(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Only the fields a correction may change, with their types checked (Chinese errors)."""
    allowed = CORRECTABLE.get(kind, {})
    if not payload or not allowed:
        raise ServiceError(
            "payload",
            "该类记录只能撤销（作废），不能修改内容" if not allowed else "请填写要更正的内容",
        )
    checked: dict[str, Any] = {}
    for key, value in payload.items():
        if key not in allowed:
            raise ServiceError(key, f"不能更正该项；可更正：{'、'.join(allowed)}")
        if allowed[key] == "int":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
                raise ServiceError(key, "记分应为 1 至 12 的整数（撤销请作废该记录）")
            checked[key] = value
            checked["explain"] = f"{value} points given (corrected)"
        elif allowed[key] == "date":
            try:
                checked[key] = None if value is None else date.fromisoformat(str(value)).isoformat()
            except ValueError:
                raise ServiceError(key, "日期应写作 YYYY-MM-DD") from None
        else:
            checked[key] = None if value is None else str(value)
    return checked


def correct_entry(
    session: Session,
    act: Act,
    entry_id: int,
    payload: dict[str, Any] | None,
    as_of: date,
    cause: str = "correction",
) -> LedgerEntry:
    """Supersede an entry with a corrected one (``payload``) or withdraw it (None).

    The old entry stays in the ledger; what was shown before remains on record. The person
    is locked before anything is read, so two corrections of one entry cannot both land.
    ``cause``: what the disclosures feed calls the change (disclosure_feed.CAUSES).
    """
    return correct_entries(session, act, [(entry_id, payload)], as_of, cause)[0]


def correct_entries(
    session: Session,
    act: Act,
    corrections: list[tuple[int, dict[str, Any] | None]],
    as_of: date,
    cause: str = "correction",
) -> list[LedgerEntry]:
    """Several corrections of one person's entries, replayed once (a case's events must
    agree with each other, so they change together)."""
    if not act.reason.strip():
        raise ServiceError("reason", "更正记录必须说明理由")
    new_entries: list[LedgerEntry] = []
    people: dict[int, Practitioner] = {}
    for entry_id, payload in corrections:
        old = session.get(LedgerEntry, entry_id)
        if old is None:
            raise NotFound("entry_id", f"未找到记录 {entry_id}")
        person = people.get(old.practitioner_id) or session.get(Practitioner, old.practitioner_id)
        assert person is not None
        if person.id not in people:
            lock_people(session, [person.id or 0])
            people[person.id or 0] = person
        taken = select(LedgerEntry.id).where(LedgerEntry.supersedes_id == entry_id)
        if session.exec(taken).first():
            raise ServiceError("entry_id", "该记录已被更正，请更正最新记录")
        if old.kind == "void":
            raise ServiceError("entry_id", "作废记录不能再更正")
        if payload is None:
            kind, data = "void", {}
        else:
            kind, data = (
                old.kind,
                {**json.loads(old.payload), **_checked_correction(old.kind, payload)},
            )
        new_entries.append(
            append(session, act, person, kind, old.event_date, data, old.decision_id, old.id)
        )
    from portal.services import disclosure_feed

    for person in people.values():
        timeline = recompute(session, person, as_of)
        disclosure_feed.follow(session, person, as_of, cause, timeline)
    credit_archive.sync_from_ledger(session, act, list(people))
    blacklist.terminations_reconsidered(
        session,
        act,
        [(e.decision_id, people[e.practitioner_id].national_code) for e in new_entries],
        as_of,
    )
    return new_entries


# --- reading -----------------------------------------------------------------------


def timeline_of(session: Session, person: Practitioner) -> Timeline:
    return replay_entries(person.ruleset, person_entries(session, person.id or 0))


def status_on(session: Session, national_code: str, on: date) -> StatusOn:
    """The status in force on ``on`` (RULES §5.2 step 9): from the cache when it can answer."""
    person = get_practitioner(session, national_code)
    row = session.get(StatusCache, person.id)
    answer = cache.cached_status(row.timeline if row else None, person.ruleset, on)
    return answer if answer is not None else timeline_of(session, person).status_on(on)


@dataclass(frozen=True)
class Settlement:
    payable: bool
    reason: str
    status: StatusOn


def settlement_check(
    session: Session, national_code: str, service_date: date, emergency: bool
) -> Settlement:
    """Was a fund-paid service by this person on this date payable? (RULES §5.5, I-8)

    National-Procedure Art. 16, 45, 47-48; Hunan-Rules Art. 11; Anhui-Rules Art. 24;
    Hainan-Rules Art. 23: nothing is paid during a restriction, except emergencies and
    rescue where the ruleset allows it; after a licence cancellation nothing (I-3).
    """
    status = status_on(session, national_code, service_date)
    person = get_practitioner(session, national_code)
    registered = session.exec(
        select(Registration.id)
        .where(Registration.practitioner_id == person.id)
        .where(Registration.registered_on <= service_date)
        .where(
            (Registration.deregistered_on == None)  # noqa: E711
            | (Registration.deregistered_on > service_date)  # type: ignore[operator]
        )
    ).first()
    if registered is None:
        return Settlement(False, "该日未在任何定点医药机构登记备案，医保基金不予支付", status)
    if status.payable:
        return Settlement(True, "该日登记备案状态正常，可以结算", status)
    if emergency and status.emergency_payable:
        return Settlement(True, "该日资格受限，但急诊、抢救等特殊情形可以结算", status)
    if emergency:
        return Settlement(False, "该日资格受限，且本规则集对该状态不设急诊、抢救例外", status)
    return Settlement(False, "该日医保支付资格受限，医保基金不予支付（急诊、抢救除外）", status)


def ledger_size(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(LedgerEntry)).one())


def entry_payload(entry: LedgerEntry) -> dict[str, Any]:
    """An entry's data for display (a malformed payload shows as empty, never fails)."""
    try:
        data = json.loads(entry.payload)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def preview_case(
    engine: Engine,
    *,
    institution_code: str,
    decision_type: str,
    legal_basis: str,
    document_no: str,
    decision_date: date,
    amount: float | None,
    findings: list[Finding],
    actor: str,
) -> list[dict[str, Any]]:
    """What recording this case would do, person by person, with nothing saved.

    It runs record_case itself in a transaction that is always rolled back, so the preview
    and the saving cannot disagree: points, the resulting status and period, the articles.
    """
    with Session(engine, expire_on_commit=False) as session:
        try:
            as_of = max(decision_date, china_today())
            recorded = record_case(
                session,
                Act(actor, datetime.now(UTC), "预览"),
                institution_code=institution_code,
                decision_type=decision_type,
                legal_basis=legal_basis,
                document_no=document_no,
                decision_date=decision_date,
                amount=amount,
                findings=findings,
                as_of=as_of,
            )
            people = []
            for code, status in recorded.people.items():
                person = get_practitioner(session, code)
                timeline = timeline_of(session, person)
                later = timeline.status_on(max(as_of, _first_start(timeline, decision_date)))
                people.append(
                    {
                        "code": code,
                        "name": person.name,
                        "points": recorded.points.get(code, 0),
                        "year_points": status.year_points,
                        "status": status,
                        "then": later,
                        "explain": list(later.explain),
                        "warnings": list(recorded.warnings),
                    }
                )
            return people
        finally:
            session.rollback()


def _first_start(timeline: Timeline, decided: date) -> date:
    """The first day a period of this case is in force (Hunan's next-month start), so the
    preview shows the status it leads to, not only today's."""
    starts = [p.start for p in timeline.periods if p.decided_on == decided]
    return min(starts) if starts else decided
