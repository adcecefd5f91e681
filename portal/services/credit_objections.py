"""信用信息异议: objections to credit information and their written answers (Hunan-Credit
Art. 24; RULES §8 "Objections", "Objection grounds").

A subject may object that an item of its credit information is wrong (错误) or missing
(遗漏), or that its rights were infringed in collecting, disclosing or using it (侵犯合法
权益). The unit answers within 3 working days, or 5 when another unit must help check; the
answer is written (a PDF, :mod:`portal.services.credit_documents`). While an objection is
open its item is marked "异议处理中" wherever it shows (:func:`under_objection`).

Nothing in the archive is overwritten: an upheld objection on a wrong item writes a new
``credit_item`` that supersedes it (or withdraws it); on missing information, a new item.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from portal.clock import CHINA
from portal.credit_models import CATEGORIES, SOURCES, CreditItem, CreditObjection, CreditSubject
from portal.models import Institution, Practitioner, Registration
from portal.services.errors import NotFound, ServiceError, checked_text
from portal.services.registry import Act, audit
from scoring.deadlines import due_date
from scoring.rulesets import credit_ruleset
from scoring.workdays import WorkCalendar

RULESET = "hunan-credit-2024"
GROUNDS = {
    "wrong": "信息内容存在错误",
    "missing": "信息内容存在遗漏",
    "infringed": "信息归集、披露、使用过程中侵犯合法权益",
}
STATE_ZH = {"open": "异议处理中", "upheld": "异议成立", "rejected": "异议不成立"}
UNDER_OBJECTION = "异议处理中"  # the mark on an item while its objection is open (Art. 24)
REGISTRY_KINDS = {"hospital": "designated_hospital", "pharmacy": "designated_pharmacy"}


# --- subjects --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectRef:
    """Where a subject is and what it is called: enough to scope and to print."""

    kind: str
    key: str
    name: str
    region: str
    institution_codes: tuple[str, ...]  # the registry institutions it belongs to (or is)


def subject_ref(session: Session, kind: str, key: str) -> SubjectRef:
    """The subject named by ``(kind, key)`` (credit_models: practitioners by national code,
    registry institutions by institution code, others from ``credit_subject``), else
    NotFound."""
    key = key.strip()[:32]
    if kind == "practitioner":
        person = session.exec(
            select(Practitioner).where(Practitioner.national_code == key.upper())
        ).first()
        if person is not None:
            places = session.exec(
                select(Institution.code)
                .join(Registration, Registration.institution_id == Institution.id)  # type: ignore[arg-type]
                .where(Registration.practitioner_id == person.id)
            ).all()
            return SubjectRef(
                kind, person.national_code, person.name, person.region, tuple(sorted(set(places)))
            )
    if kind in REGISTRY_KINDS.values():
        place = session.exec(select(Institution).where(Institution.code == key)).first()
        if place is not None and REGISTRY_KINDS.get(place.kind) == kind:
            return SubjectRef(kind, place.code, place.name, place.region, (place.code,))
    other = session.exec(
        select(CreditSubject)
        .where(CreditSubject.subject_kind == kind)
        .where(CreditSubject.subject_key == key)
    ).first()
    if other is not None:
        return SubjectRef(kind, other.subject_key, other.name, other.region, ())
    raise NotFound("subject_key", f"未找到信用主体 {key}")


# --- deadlines -------------------------------------------------------------------------------


def objection_due(filed_on: date, other_unit: bool, calendar: WorkCalendar | None = None) -> date:
    """The last day to answer (Hunan-Credit Art. 24: "自收到异议申请之日起3个工作日内…需要
    其他单位协助核查信息的…5个工作日内"): the 3rd (or 5th) working day after the day of
    receipt. The day of receipt itself does not count, as for every step of RULES §6
    (RULES I-9); weekends and the State Council's holidays are skipped and adjusted
    working Saturdays count, by the project's working-day calendar (scoring.workdays)."""
    step = "objection_other_units" if other_unit else "objection_own_data"
    return due_date(credit_ruleset(RULESET), step, filed_on, calendar).due


# --- filing ----------------------------------------------------------------------------------


def _text(value: str, field: str, what: str, limit: int, least: int = 1) -> str:
    value = value.strip()
    if len(value) < least:
        raise ServiceError(field, f"请填写{what}" + (f"（至少 {least} 个字）" if least > 1 else ""))
    if len(value) > limit:
        raise ServiceError(field, f"{what}不能超过 {limit} 个字")
    return checked_text(field, value, limit)


def china_day(act: Act) -> date:
    return act.at.astimezone(CHINA).date()


def live_item(session: Session, item_id: int) -> CreditItem:
    """The item as it stands: it exists and no later row supersedes it."""
    item = session.get(CreditItem, item_id)
    if item is None:
        raise NotFound("item_id", f"未找到信用信息 {item_id}")
    newer = session.exec(select(CreditItem.id).where(CreditItem.supersedes_id == item_id)).first()
    if newer is not None:
        raise ServiceError("item_id", f"该信用信息已被更正（见第 {newer} 条），请对现行信息提出")
    return item


def file_objection(
    session: Session,
    act: Act,
    *,
    item_id: int | None,
    subject_kind: str,
    subject_key: str,
    ground: str,
    statement: str,
    applicant: str,
    filed_on: date,
    other_unit: bool = False,
) -> CreditObjection:
    """Record an objection received on ``filed_on`` (Hunan-Credit Art. 24): on an item of
    the subject's credit information (required when it is wrong; none when something is
    missing), one open objection per item at a time; due by :func:`objection_due`."""
    if ground not in GROUNDS:
        raise ServiceError("ground", "异议理由应为：信息错误、信息遗漏或侵犯合法权益")
    subject = subject_ref(session, subject_kind, subject_key)
    statement = _text(statement, "statement", "异议内容及理由", 4000, 4)
    applicant = _text(applicant, "applicant", "异议申请人", 64)
    if filed_on > china_day(act):
        raise ServiceError("filed_on", "收到异议申请日期不能晚于今天")
    if ground == "wrong" and item_id is None:
        raise ServiceError("item_id", "认为信息有错误的，请指明所异议的信用信息")
    if ground == "missing" and item_id is not None:
        raise ServiceError("item_id", "认为信息有遗漏的，不指向已有信息，请在异议内容中写明")
    if item_id is not None:
        item = live_item(session, item_id)
        if (item.subject_kind, item.subject_key) != (subject.kind, subject.key):
            raise ServiceError("item_id", "该信用信息不属于此信用主体")
        if item.withdrawn:
            raise ServiceError("item_id", "该信用信息已撤销")
        if item_id in under_objection(session, [item_id]):
            raise ServiceError("item_id", "该信用信息已有正在处理的异议（异议处理中）")
    objection = CreditObjection(
        item_id=item_id,
        subject_kind=subject.kind,
        subject_key=subject.key,
        ground=ground,
        statement=statement,
        applicant=applicant,
        filed_on=filed_on,
        other_unit=other_unit,
        due_on=objection_due(filed_on, other_unit),
        state="open",
        **act.stamp(),
    )
    session.add(objection)
    session.flush()
    audit(
        session,
        act,
        "file_objection",
        "credit_objection",
        objection.id,
        subject=f"{subject.kind}:{subject.key}",
        item=item_id,
        ground=ground,
        due_on=objection.due_on,
    )
    return objection


# --- answering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Correction:
    """What an upheld objection changes: fields of the corrected item (None: unchanged), or
    ``withdraw`` it; for missing information, the new item's fields (all but ``detail``
    required)."""

    title: str | None = None
    detail: str | None = None
    occurred_on: date | None = None
    category: str | None = None
    polarity: str | None = None
    public: bool | None = None
    source: str | None = None
    source_unit: str | None = None
    withdraw: bool = False

    def fields(self) -> dict[str, Any]:
        names = (
            "title",
            "detail",
            "occurred_on",
            "category",
            "polarity",
            "public",
            "source",
            "source_unit",
        )
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


def _check_item_fields(values: dict[str, Any]) -> None:
    if "title" in values:
        values["title"] = _text(values["title"], "title", "信息名称", 200)
    if values.get("category") is not None and values["category"] not in CATEGORIES:
        raise ServiceError("category", "信息类别应为湖南信用办法第十四条的十二类之一")
    if values.get("polarity") is not None and values["polarity"] not in ("good", "bad"):
        raise ServiceError("polarity", "请选择守信信息或失信信息")
    if values.get("source") is not None and values["source"] not in SOURCES:
        raise ServiceError("source", "信息来源应为湖南信用办法第十六条所列途径之一")


def document_no_for(objection: CreditObjection, answered_on: date) -> str:
    """The answer's number, in a series like the notices': 医保信用异议〔2025〕000012号."""
    return f"医保信用异议〔{answered_on.year}〕{objection.id or 0:06d}号"


def get_objection(session: Session, objection_id: int) -> CreditObjection:
    found = session.get(CreditObjection, objection_id)
    if found is None:
        raise NotFound("objection_id", f"未找到异议 {objection_id}")
    return found


def answer_objection(
    session: Session,
    act: Act,
    objection_id: int,
    *,
    upheld: bool,
    answer: str,
    answered_on: date,
    correction: Correction | None = None,
) -> CreditObjection:
    """The written answer (Hunan-Credit Art. 24: "处理结果应当书面通知异议申请人").

    Upheld on a wrong item (or on an infringement in its use): ``correction`` writes a new
    ``credit_item`` superseding it, or withdrawing it (required for a wrong item: an upheld
    "wrong" changes the record). Upheld on missing information: a new item with the
    correction's fields. Rejected: nothing in the archive changes. The answer gets its
    number (:func:`document_no_for`); an answer after ``due_on`` is recorded and shows late.
    """
    objection = session.get(CreditObjection, objection_id, with_for_update=True)
    if objection is None:
        raise NotFound("objection_id", f"未找到异议 {objection_id}")
    if objection.state != "open":
        raise ServiceError("objection_id", "该异议已答复")
    answer = _text(answer, "answer", "处理结果及理由", 4000, 4)
    if answered_on < objection.filed_on:
        raise ServiceError("answered_on", "答复日期不能早于收到异议申请日期")
    if answered_on > china_day(act):
        raise ServiceError("answered_on", "答复日期不能晚于今天")
    if not upheld and correction is not None and (correction.withdraw or correction.fields()):
        raise ServiceError("upheld", "异议不成立时不更正信用信息")
    made: CreditItem | None = None
    if upheld:
        made = _correct(session, act, objection, correction)
    before = {"state": objection.state}
    objection.state = "upheld" if upheld else "rejected"
    objection.answer = answer
    objection.answered_by = act.actor
    objection.answered_on = answered_on
    objection.document_no = document_no_for(objection, answered_on)
    objection.correction_item_id = made.id if made is not None else None
    session.add(objection)
    audit(
        session,
        act,
        "answer_objection",
        "credit_objection",
        objection.id,
        before=before,
        after={
            "state": objection.state,
            "document_no": objection.document_no,
            "correction_item_id": objection.correction_item_id,
            "late": answered_on > objection.due_on,
        },
    )
    return objection


def _correct(
    session: Session, act: Act, objection: CreditObjection, correction: Correction | None
) -> CreditItem | None:
    wanted = correction or Correction()
    values = wanted.fields()
    _check_item_fields(values)
    origin = f"objection:{objection.id}"
    if objection.ground == "missing":
        missing = [
            n
            for n, zh in (
                ("title", "信息名称"),
                ("occurred_on", "信息日期"),
                ("category", "信息类别"),
                ("polarity", "守信或失信"),
            )
            if n not in values
        ]
        if missing or wanted.withdraw:
            raise ServiceError(
                missing[0] if missing else "withdraw",
                "异议成立（信息遗漏）时，请填写补录信息的名称、日期、类别和性质",
            )
        item = CreditItem(
            subject_kind=objection.subject_kind,
            subject_key=objection.subject_key,
            source=values.pop("source", "supervision"),
            origin=origin,
            **values,
            **act.stamp(),
        )
    else:
        if objection.item_id is None:
            if values or wanted.withdraw:
                raise ServiceError("item_id", "本异议未指向信用信息，无可更正的信息")
            return None
        old = live_item(session, objection.item_id)
        if not values and not wanted.withdraw:
            if objection.ground == "wrong":
                raise ServiceError(
                    "title", "异议成立（信息错误）时，请填写更正后的信息或撤销该信息"
                )
            return None
        item = CreditItem(
            **{
                **old.model_dump(
                    exclude={
                        "id",
                        "recorded_by",
                        "recorded_at",
                        "reason",
                        "origin",
                        "supersedes_id",
                        "withdrawn",
                    }
                ),
                **values,
            },
            origin=origin,
            supersedes_id=old.id,
            withdrawn=wanted.withdraw,
            **replace(act, reason=f"异议成立：{act.reason}" if act.reason else "异议成立").stamp(),
        )
    session.add(item)
    session.flush()
    audit(
        session,
        act,
        "correct_credit_item",
        "credit_item",
        item.id,
        supersedes=item.supersedes_id,
        withdrawn=item.withdrawn,
        objection=objection.id,
    )
    return item


# --- queues and marks ------------------------------------------------------------------------


def open_objections(session: Session, region: str | None = None) -> list[CreditObjection]:
    """Open objections, earliest due first; ``region`` (2, 4 or 6 digits) keeps those whose
    subject is in it or below."""
    rows = list(
        session.exec(
            select(CreditObjection)
            .where(CreditObjection.state == "open")
            .order_by(col(CreditObjection.due_on), col(CreditObjection.id))
        )
    )
    if not region:
        return rows
    regions: dict[tuple[str, str], str] = {}
    kept = []
    for row in rows:
        key = (row.subject_kind, row.subject_key)
        if key not in regions:
            try:
                regions[key] = subject_ref(session, *key).region
            except NotFound:
                regions[key] = ""
        if regions[key].startswith(region):
            kept.append(row)
    return kept


def late_objections(
    session: Session, today: date, region: str | None = None
) -> list[CreditObjection]:
    """Open objections past their day (Art. 24), as the dashboard lists them."""
    return [o for o in open_objections(session, region) if o.due_on < today]


def under_objection(session: Session, item_ids: list[int]) -> set[int]:
    """Which of these items carry an open objection: shown "异议处理中" (Art. 24 para. 3)."""
    if not item_ids:
        return set()
    found = session.exec(
        select(CreditObjection.item_id)
        .where(CreditObjection.state == "open")
        .where(col(CreditObjection.item_id).in_(item_ids))
    ).all()
    return {i for i in found if i is not None}


def objections_of(session: Session, subject_kind: str, subject_key: str) -> list[CreditObjection]:
    """A subject's objections, newest first (the archive's objection records, Art. 13)."""
    return list(
        session.exec(
            select(CreditObjection)
            .where(CreditObjection.subject_kind == subject_kind)
            .where(CreditObjection.subject_key == subject_key)
            .order_by(col(CreditObjection.id).desc())
        )
    )


def item_label(item: CreditItem | None) -> str:
    return f"{item.title}（{item.occurred_on.isoformat()}）" if item is not None else ""


def answer_document(session: Session, objection: CreditObjection) -> bytes:
    """The written answer as a PDF (Art. 24), from the answered objection."""
    from portal.services.credit_documents import ObjectionAnswer, objection_answer_pdf

    if objection.state == "open" or objection.answered_on is None:
        raise ServiceError("objection_id", "该异议尚未答复")
    subject = subject_ref(session, objection.subject_kind, objection.subject_key)
    item = session.get(CreditItem, objection.item_id) if objection.item_id else None
    made = (
        session.get(CreditItem, objection.correction_item_id)
        if objection.correction_item_id
        else None
    )
    correction = ""
    if made is not None:
        if made.withdrawn:
            correction = f"撤销原信息“{item_label(item)}”"
        elif made.supersedes_id:
            correction = f"原信息更正为“{item_label(made)}”"
        else:
            correction = f"补录信息“{item_label(made)}”"
    return objection_answer_pdf(
        ObjectionAnswer(
            document_no=objection.document_no,
            applicant=objection.applicant,
            subject=f"{subject.name}（{subject.key}）",
            item=item_label(item),
            ground=GROUNDS[objection.ground],
            statement=objection.statement,
            filed_on=objection.filed_on,
            upheld=objection.state == "upheld",
            answer=objection.answer,
            correction=correction,
            answered_on=objection.answered_on,
        )
    )


def all_objections(session: Session, limit: int = 500) -> list[CreditObjection]:
    """Every objection, newest first (the queue's "all" view)."""
    return list(
        session.exec(select(CreditObjection).order_by(col(CreditObjection.id).desc()).limit(limit))
    )


def listings_under_objection(session: Session, listing_ids: list[int]) -> set[int]:
    """Which blacklist listings rest on an item with an open objection: a public page that
    shows the listing marks it "异议处理中" (Art. 24 para. 3) — for the blacklist pages."""
    from portal.credit_models import BlacklistListing

    if not listing_ids:
        return set()
    rows = session.exec(
        select(BlacklistListing.id, BlacklistListing.item_id).where(
            col(BlacklistListing.id).in_(listing_ids)
        )
    ).all()
    marked = under_objection(session, [i for _, i in rows if i is not None])
    return {lid for lid, i in rows if lid is not None and i in marked}
