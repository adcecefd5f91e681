"""The blacklist: 医疗保障领域失信联合惩戒对象名单 (Hunan-Credit Art. 33-35; Hunan-Rules
Art. 17, 19; RULES §8 "Blacklist").

One ``blacklist_listing`` per proposal, through its states:

- ``proposed`` (``propose``; ``propose_terminated`` for every terminated practitioner,
  Hunan-Rules Art. 17: listed within 20 working days of the termination decision, ``due_on``);
- ``noticed`` (``issue_prior_notice``, Hunan-Credit Art. 35: the reasons, basis and rights
  are told before the decision; the subject may object within 5 working days,
  ``objection_due_on``; ``record_objection`` / ``answer_objection``: answered within 5
  working days of the objection, Art. 35);
- ``listed`` (``list_subject``: the listing decision, an administrative decision document
  with reason, basis, measures, removal conditions and procedure and remedies, Art. 35;
  认定之日 ``listed_on``; published until ``publish_until``, 3 years, Art. 33(1) and
  RULES I-19, from the credit ruleset's ``blacklist.publication_years``);
- ``repaired`` (credit repair approved, Art. 27: "YYYY年MM月DD日修复", publication ends) or
  ``removed`` (the period is over: ``end_publications``, the ``end_publications`` job);
- ``withdrawn`` (at any point; a public listing withdrawn is a ``withdrawn`` event).

Periods: ``publish_until`` is the anniversary of ``listed_on`` (a missing 29 February is
1 March, as RULES §5.2 counts years); the listing shows on ``listed_on`` .. the day before
``publish_until`` and is removed on ``publish_until`` itself. The persons of Art. 33(4)
(legal representative, principal, actual controller of a listed institution) are listed
the same way, with ``role``, ``related_listing_id`` and a 5-year ``bar_until``.

Every public change is one ``blacklist_event`` (the feed, ``/blacklist``) and, in the same
transaction, a signed message in the webhook outbox for the subscriptions that follow the
blacklist (the provincial credit-sharing platform, Hunan-Credit Art. 28; Hunan-Rules
Art. 17; ``portal.services.webhooks.BLACKLIST_TOPIC``). Events hold public data only: the
code is the subject's key for practitioners and institutions; individuals whose key is
derived from an ID number are named in public by ``BL`` + the listing number instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, String, cast, func, literal
from sqlmodel import Session, col, select

from portal.clock import CHINA
from portal.credit_models import (
    INSTITUTION_KINDS,
    SUBJECT_KIND_ZH,
    SUBJECT_KINDS,
    BlacklistEvent,
    BlacklistListing,
    CreditItem,
    CreditSubject,
)
from portal.models import Decision, Institution, Notice, Practitioner
from portal.services import webhooks
from portal.services.errors import NotFound, ServiceError, checked_text
from portal.services.registry import Act, audit
from scoring.dates import years_later
from scoring.deadlines import due_date
from scoring.rulesets import (
    PractitionerRuleset,
    all_rulesets,
    credit_ruleset,
    practitioner_ruleset,
)

RULESET = "hunan-credit-2024"
BAR_YEARS = 5  # Hunan-Credit Art. 33(4): 5年内从事定点医药机构管理活动
APPEAL_DAYS = 10  # Hunan-Rules Art. 19: a practitioner may appeal within 10 working days
ACTIVE = ("proposed", "noticed", "listed")
STATE_ZH = {
    "proposed": "拟列入",
    "noticed": "已事先告知",
    "listed": "已列入",
    "repaired": "已修复",
    "removed": "已移出",
    "withdrawn": "已撤销",
}
EVENT_ZH = {
    "listed": "列入",
    "repaired": "信用修复",
    "removed": "公示期满移出",
    "corrected": "更正",
    "withdrawn": "撤销",
}
KIND_ZH = {kind: SUBJECT_KIND_ZH[kind] for kind in SUBJECT_KINDS}  # Art. 3, named once
ROLE_ZH = {  # Hunan-Credit Art. 33(4)
    "legal_representative": "法定代表人",
    "principal": "主要负责人",
    "actual_controller": "实际控制人",
}
ORIGINS_ZH = {"officer": "人工提出", "termination": "终止医保支付资格（自动）"}
TERMINATED_BASIS = (
    "《湖南省定点医药机构相关人员医保支付资格管理实施细则》第十七条；"
    "《湖南省医疗保障信用管理办法》第三十三条、第三十五条"
)
DEFAULT_MEASURES = (
    "依法依规纳入医疗保障领域失信联合惩戒对象名单，通过信用湖南、医疗保障部门官方网站向社会"
    "公开严重失信信息；在医疗保障工作中列为重点审查对象，在行政管理中限制享受行政便利措施；"
    "依据全国失信惩戒措施基础清单和湖南省补充清单实施惩戒（湖南信用办法第三十三条、第三十四条）。"
)


def publication_years() -> int:
    """3 years from 认定之日 (Hunan-Credit Art. 33(1); the same for individuals, RULES I-19),
    configurable in the credit ruleset (``blacklist.publication_years``)."""
    return credit_ruleset(RULESET).blacklist_years


def china_day(at: datetime) -> date:
    return at.astimezone(CHINA).date() if at.tzinfo else at.date()


# --- subjects ------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    kind: str
    key: str
    name: str
    region: str


def find_subject(session: Session, kind: str, key: str) -> Subject:
    """A subject by ``(kind, key)``: practitioners by national code, registry institutions
    by institution code (subjects without re-entry), others from ``credit_subject``."""
    key = checked_text("subject_key", key, 32).upper()
    if kind not in SUBJECT_KINDS:
        raise ServiceError("subject_kind", "请选择信用主体类别")
    if not key:
        raise ServiceError("subject_key", "请填写信用主体代码")
    if kind == "practitioner":
        person = session.exec(select(Practitioner).where(Practitioner.national_code == key)).first()
        if person is not None:
            return Subject(kind, key, person.name, person.region)
    if kind in INSTITUTION_KINDS:
        place = session.exec(select(Institution).where(Institution.code == key)).first()
        if place is not None:
            return Subject(kind, key, place.name, place.region)
    other = session.exec(
        select(CreditSubject)
        .where(CreditSubject.subject_kind == kind)
        .where(CreditSubject.subject_key == key)
    ).first()
    if other is None:
        raise NotFound("subject_key", f"未找到信用主体 {key}")
    return Subject(kind, key, other.name, other.region)


def public_code(listing: BlacklistListing) -> str:
    """What the public sees as the code: practitioners' and institutions' own codes; for
    other individuals (whose key is made from an ID number) ``BL`` + the listing number."""
    if listing.subject_kind == "practitioner" or listing.subject_kind in INSTITUTION_KINDS:
        return listing.subject_key
    return f"BL{listing.id or 0:08d}"


# --- proposals -----------------------------------------------------------------------


def get_listing(session: Session, listing_id: int, lock: bool = False) -> BlacklistListing:
    listing = session.get(BlacklistListing, listing_id, with_for_update=lock)
    if listing is None:
        raise NotFound("listing_id", f"未找到名单记录 {listing_id}")
    return listing


def _text(value: str, field: str, what: str, limit: int = 4000, required: bool = True) -> str:
    """Free text of a listing (事由, 依据, 措施, 认定机关, 异议, 答复, 文号...): stripped, at
    most ``limit`` characters, no control characters (``checked_text``), refused naming the
    field, never cut short; nothing is written when refused."""
    if required and not (value or "").strip():
        raise ServiceError(field, f"请填写{what}")
    try:
        return checked_text(field, value, limit)
    except ServiceError as exc:
        raise ServiceError(field, f"{what}{exc.message}") from None


def propose(
    session: Session,
    act: Act,
    *,
    subject_kind: str,
    subject_key: str,
    grounds: str,
    basis: str,
    authority: str,
    proposed_on: date,
    measures: str = "",
    origin: str | None = None,
    due_on: date | None = None,
    role: str = "",
    related_listing_id: int | None = None,
) -> BlacklistListing:
    """拟列入严重失信主体名单 (Hunan-Credit Art. 33, 35): the subject, 事由 ``grounds``, 依据
    ``basis``, the measures to be taken and the listing authority. ``origin`` names what
    proposed it (unique: the same source proposes once). A person of Art. 33(4) names the
    institution's listing (``related_listing_id``) and ``role``."""
    subject = find_subject(session, subject_kind, subject_key)
    grounds = _text(grounds, "grounds", "事由")
    basis = _text(basis, "basis", "依据")
    authority = _text(authority, "authority", "认定机关", 200)
    measures = _text(measures, "measures", "失信惩戒措施", required=False)
    if role and role not in ROLE_ZH:
        raise ServiceError("role", "人员身份应为法定代表人、主要负责人或实际控制人")
    if role:
        if related_listing_id is None:
            raise ServiceError("related_listing_id", "请填写所涉机构的名单记录编号")
        related = get_listing(session, related_listing_id)
        if related.subject_kind not in INSTITUTION_KINDS or related.state == "withdrawn":
            raise ServiceError(
                "related_listing_id", "第三十三条第（四）项只适用于列入名单的机构类信用主体"
            )
        if subject.kind in INSTITUTION_KINDS:
            raise ServiceError("subject_kind", "法定代表人、主要负责人或实际控制人应为个人")
    busy = session.exec(
        select(BlacklistListing.id)
        .where(BlacklistListing.subject_kind == subject.kind)
        .where(BlacklistListing.subject_key == subject.key)
        .where(col(BlacklistListing.state).in_(ACTIVE))
        .where(BlacklistListing.role == role)
    ).first()
    if busy is not None:
        raise ServiceError("subject_key", f"该信用主体已有未办结或公示中的名单记录（#{busy}）")
    listing = BlacklistListing(
        subject_kind=subject.kind,
        subject_key=subject.key,
        name=subject.name,
        region=subject.region,
        role=role,
        related_listing_id=related_listing_id if role else None,
        origin=origin,
        grounds=grounds,
        basis=basis,
        measures=measures or DEFAULT_MEASURES,
        authority=authority,
        state="proposed",
        proposed_on=proposed_on,
        due_on=due_on,
        **act.stamp(),
    )
    session.add(listing)
    session.flush()
    audit(session, act, "blacklist_propose", "blacklist_listing", listing.id,
          subject=f"{subject.kind}:{subject.key}", origin=origin, due_on=due_on)  # fmt: skip
    return listing


def propose_terminated(
    session: Session,
    act: Act,
    today: date,
    limit: int | None = None,
    sees_region: Callable[[str], bool] | None = None,
) -> list[BlacklistListing]:
    """Every practitioner terminated by a published decision (a termination notice issued
    on or before ``today``) is proposed for listing (Hunan-Rules Art. 17), due within 20
    working days of the termination decision (``due_on``, RULES §6). Idempotent: origin
    ``decision:<decision id>:<national code>``. Only rulesets that have the step (Hunan).
    Proposed on the day the termination notice was issued (made public). ``sees_region``
    keeps the practitioners of an officer's region only (Hunan-Credit Art. 21: an officer
    acts on the subjects of its region); None: the whole province (the daily job)."""
    key = col(Practitioner.national_code)
    origin_of = literal("decision:") + cast(col(Decision.id), String) + ":" + key
    taken = select(BlacklistListing.id).where(BlacklistListing.origin == origin_of)
    with_step = [
        r.id
        for r in all_rulesets().values()
        if isinstance(r, PractitionerRuleset) and "blacklist_terminated" in r.deadlines
    ]
    rows = session.exec(
        select(Notice, Decision, Practitioner, Institution)
        .join(Decision, col(Decision.id) == Notice.decision_id)
        .join(Practitioner, col(Practitioner.id) == Notice.practitioner_id)
        .join(Institution, col(Institution.id) == Decision.institution_id)
        .where(Notice.status == "terminated")
        .where(Notice.issued_on <= today)
        .where(col(Decision.ruleset).in_(with_step))
        .where(~taken.exists())  # proposed already: not loaded again every day
        .order_by(col(Notice.id))
        .limit(limit)
    ).all()
    made = []
    busy = set(
        session.exec(
            select(BlacklistListing.subject_key)
            .where(BlacklistListing.subject_kind == "practitioner")
            .where(col(BlacklistListing.state).in_(ACTIVE))
            .where(BlacklistListing.role == "")
        ).all()
    )
    for notice, decision, person, place in rows:
        if sees_region is not None and not sees_region(person.region):
            continue
        if person.national_code in busy:  # a second termination of someone proposed or
            continue  # listed already: that one record stands (Art. 35); asked again daily
        busy.add(person.national_code)
        rules = practitioner_ruleset(decision.ruleset)
        origin = f"decision:{decision.id}:{person.national_code}"
        due = due_date(rules, "blacklist_terminated", decision.decision_date).due
        grounds = (
            f"{person.name}（{person.national_code}）因{place.name}的违法违规行为，"
            f"经处理决定 {decision.document_no}（{decision.decision_date.isoformat()}）"
            f"被终止医保支付资格（处理通知书 {notice.document_no}）。"
        )
        made.append(
            propose(
                session,
                Act(act.actor, act.at, act.reason or "终止医保支付资格的相关人员纳入名单"),
                subject_kind="practitioner",
                subject_key=person.national_code,
                grounds=grounds,
                basis=TERMINATED_BASIS,
                authority=f"医疗保障行政部门（行政区划 {place.region}）",
                proposed_on=notice.issued_on,
                origin=origin,
                due_on=due,
            )
        )
    return made


# --- prior notice and objection (Art. 35) --------------------------------------------


def _unique_no(session: Session, column: Any, value: str, field: str, own: int | None) -> str:
    value = _text(value, field, "文号", 64)
    other = session.exec(select(BlacklistListing.id).where(column == value)).first()
    if other is not None and other != own:
        raise ServiceError(field, f"文号 {value} 已被其他名单记录使用")
    return value


def issue_prior_notice(
    session: Session, act: Act, listing_id: int, *, on: date, notice_no: str = ""
) -> BlacklistListing:
    """事先告知 (Hunan-Credit Art. 35): the reasons, basis and the subject's rights, before
    the decision; an objection is due within 5 working days after ``on`` (the credit
    ruleset's ``blacklist_objection`` step; RULES I-9: the day of notice does not count)."""
    listing = get_listing(session, listing_id, lock=True)
    if listing.state != "proposed":
        raise ServiceError("state", f"当前状态为{STATE_ZH[listing.state]}，不能再出具事先告知书")
    if on < listing.proposed_on:
        raise ServiceError("on", "告知日期不能早于提出日期")
    number = _text(notice_no, "notice_no", "告知书文号", 64, required=False)
    number = number or f"医保失信告〔{on.year}〕{listing.id:06d}号"
    listing.notice_no = _unique_no(session, BlacklistListing.notice_no, number, "notice_no",
                                   listing.id)  # fmt: skip
    listing.noticed_on = on
    listing.objection_due_on = due_date(credit_ruleset(RULESET), "blacklist_objection", on).due
    listing.state = "noticed"
    session.add(listing)
    audit(session, act, "blacklist_notice", "blacklist_listing", listing.id)
    return listing


def answer_due(listing: BlacklistListing) -> date | None:
    """The objection is answered within 5 working days of its receipt (Art. 35)."""
    if listing.objection_on is None:
        return None
    return due_date(credit_ruleset(RULESET), "blacklist_objection", listing.objection_on).due


def record_objection(
    session: Session, act: Act, listing_id: int, *, statement: str, received_on: date
) -> BlacklistListing:
    """The subject's objection (Hunan-Credit Art. 35), answered within 5 working days of its
    receipt (``answer_due``). Art. 35 sets no deadline for filing: ``objection_due_on`` is
    the date the prior notice suggests, not a bar. An objection received after it is still
    accepted as long as no listing decision has been made (the state is ``noticed``), and
    the decision then waits for its answer (``late`` in the audit record)."""
    listing = get_listing(session, listing_id, lock=True)
    if listing.state != "noticed":
        raise ServiceError("state", "只有已事先告知、尚未作出决定的记录可以登记异议")
    if listing.objection_on is not None:
        raise ServiceError("statement", "已登记异议，不能重复登记")
    assert listing.noticed_on is not None and listing.objection_due_on is not None
    if received_on < listing.noticed_on:
        raise ServiceError("received_on", "收到日期不能早于告知日期")
    listing.objection = _text(statement, "statement", "异议内容")
    listing.objection_on = received_on
    session.add(listing)
    audit(session, act, "blacklist_objection", "blacklist_listing", listing.id,
          late=received_on > listing.objection_due_on)  # fmt: skip
    return listing


def answer_objection(
    session: Session, act: Act, listing_id: int, *, answer: str, upheld: bool, on: date
) -> BlacklistListing:
    """核实并反馈 (Art. 35): the answer, due 5 working days after the objection. An upheld
    objection ends the procedure (the listing is withdrawn, nothing was public)."""
    listing = get_listing(session, listing_id, lock=True)
    if listing.state != "noticed" or listing.objection_on is None:
        raise ServiceError("answer", "没有待答复的异议")
    if listing.objection_answer:
        raise ServiceError("answer", "异议已答复")
    if on < listing.objection_on:
        raise ServiceError("on", "答复日期不能早于收到异议的日期")
    verdict = "异议成立，不予列入。" if upheld else "异议不成立。"
    listing.objection_answer = f"{verdict}{_text(answer, 'answer', '答复意见')}"
    if upheld:
        listing.state = "withdrawn"
        listing.ended_on = on
    session.add(listing)
    audit(session, act, "blacklist_answer", "blacklist_listing", listing.id, upheld=upheld,
          late=bool((due := answer_due(listing)) and on > due))  # fmt: skip
    return listing


# --- the listing decision ------------------------------------------------------------


def _item(session: Session, act: Act, listing: BlacklistListing, origin: str,
          withdrawn: bool = False, supersedes: int | None = None) -> CreditItem:  # fmt: skip
    assert listing.listed_on is not None
    role = f"（{ROLE_ZH[listing.role]}，第三十三条第（四）项）" if listing.role else ""
    item = CreditItem(
        subject_kind=listing.subject_kind,
        subject_key=listing.subject_key,
        category="dishonest_list",
        polarity="bad",
        public=True,
        serious=True,
        source="supervision",
        source_unit=listing.authority[:200],
        title=f"列入医疗保障领域失信联合惩戒对象名单{role}"[:200],
        detail=f"事由：{listing.grounds}\n依据：{listing.basis}\n决定书：{listing.document_no}",
        occurred_on=listing.listed_on,
        origin=origin,
        supersedes_id=supersedes,
        withdrawn=withdrawn,
        **act.stamp(),
    )
    session.add(item)
    session.flush()
    return item


def _event(
    session: Session, act: Act, listing: BlacklistListing, kind: str, effective: date,
    replaces: int | None = None,
) -> BlacklistEvent:  # fmt: skip
    """One public change: the feed item, pushed to the credit-sharing platform at once
    (the outbox, same transaction; Hunan-Credit Art. 28)."""
    status = {"corrected": listing.state}.get(kind, kind)
    event = BlacklistEvent(
        listing_id=listing.id or 0,
        type=kind,
        subject_kind=listing.subject_kind,
        code=public_code(listing),
        name=listing.name,
        status=status,
        published_on=max(effective, china_day(act.at)),
        effective_on=effective,
        period_start=listing.listed_on,
        period_end=listing.publish_until,
        document_no=listing.document_no,
        replaces_id=replaces,
        recorded_at=act.at,
    )
    session.add(event)
    session.flush()
    item = feed_item(event, listing.authority, bool(under_objection(session, [listing.id or 0])))
    webhooks.enqueue_blacklist(session.connection(), item, act.at)
    return event


def under_objection(session: Session, listing_ids: list[int]) -> set[int]:
    """The listings marked 异议处理中 (Hunan-Credit Art. 24: 异议申请处理期间，应当对异议信息
    进行标注): an objection on the listing's archive item is open
    (``credit_objections.listings_under_objection``)."""
    from portal.services.credit_objections import listings_under_objection

    return listings_under_objection(session, [i for i in listing_ids if i])


def feed_item(event: BlacklistEvent, authority: str = "", objected: bool = False) -> dict[str, Any]:
    """The DESIGN feed shape ("Feeds"): one public change of the blacklist, with the listing
    authority, the kind of subject and ``under_objection`` (an extra field DESIGN allows:
    true while an objection on the listing is open, Hunan-Credit Art. 24)."""
    return {
        "id": event.id,
        "type": event.type,
        "code": event.code,
        "name": event.name,
        "status": event.status,
        "published": event.published_on.isoformat(),
        "effective": event.effective_on.isoformat(),
        "period_start": event.period_start.isoformat() if event.period_start else None,
        "period_end": event.period_end.isoformat() if event.period_end else None,
        "reregister_from": None,
        "document_no": event.document_no,
        "replaces": event.replaces_id,
        "subject_kind": event.subject_kind,
        "authority": authority,
        "under_objection": objected,
    }


def list_subject(
    session: Session,
    act: Act,
    listing_id: int,
    *,
    listed_on: date,
    document_no: str = "",
    authority: str = "",
) -> BlacklistListing:
    """列入严重失信主体名单的决定 (Hunan-Credit Art. 33, 35): after the prior notice, once the
    suggested objection date has passed with no objection, or the objection (late ones too:
    Art. 35 sets no filing deadline, see ``record_objection``) is answered. 认定之日
    ``listed_on``; published for 3 years (``publish_until``, Art. 33(1), RULES I-19); a
    person of Art. 33(4) is barred for 5 years (``bar_until``). Writes the serious bad
    ``dishonest_list`` item (public) in the subject's archive and the ``listed`` event; the
    committed credit year of 认定之日 is evaluated again (Art. 19, 22)."""
    listing = get_listing(session, listing_id, lock=True)
    if listing.state != "noticed":
        raise ServiceError("state", "应先出具事先告知书（湖南信用办法第三十五条）")
    assert listing.noticed_on is not None and listing.objection_due_on is not None
    if listing.objection_on is not None and not listing.objection_answer:
        raise ServiceError("listed_on", "当事人提出的异议尚未答复，不能作出列入决定")
    if listing.objection_on is None and listed_on <= listing.objection_due_on:
        raise ServiceError(
            "listed_on",
            f"异议期限至 {listing.objection_due_on.isoformat()}，期满后方可作出列入决定",
        )
    if listed_on < listing.noticed_on:
        raise ServiceError("listed_on", "认定日期不能早于事先告知日期")
    if authority.strip():
        listing.authority = _text(authority, "authority", "认定机关", 200)
    number = _text(document_no, "document_no", "决定书文号", 64, required=False)
    number = number or f"医保失信决〔{listed_on.year}〕{listing.id:06d}号"
    listing.document_no = _unique_no(session, BlacklistListing.document_no, number,
                                     "document_no", listing.id)  # fmt: skip
    listing.listed_on = listed_on
    listing.publish_until = years_later(listed_on, publication_years())
    if listing.role:
        listing.bar_until = years_later(listed_on, BAR_YEARS)
    listing.state = "listed"
    listing.item_id = _item(session, act, listing, f"blacklist:{listing.id}").id
    session.add(listing)
    audit(session, act, "blacklist_list", "blacklist_listing", listing.id)
    _event(session, act, listing, "listed", listed_on)
    _reevaluate(
        session,
        act,
        listing,
        {listed_on.year},
        f"列入失信联合惩戒对象名单（{listing.document_no}）",
    )
    return listing


def _last_event(session: Session, listing_id: int) -> BlacklistEvent | None:
    return session.exec(
        select(BlacklistEvent)
        .where(BlacklistEvent.listing_id == listing_id)
        .order_by(col(BlacklistEvent.id).desc())
    ).first()


def end_publication(
    session: Session, act: Act, listing_id: int, kind: str, on: date
) -> BlacklistListing:
    """Publication ends: ``repaired`` (credit repair approved — the archive is marked
    "YYYY年MM月DD日修复" and publication ends, Hunan-Credit Art. 27; called by the repair
    approval) or ``removed`` (the publication period is over, Art. 33(1))."""
    if kind not in ("repaired", "removed"):
        raise ServiceError("kind", "结束公示的方式应为 repaired 或 removed")
    listing = get_listing(session, listing_id, lock=True)
    if listing.state != "listed":
        raise ServiceError("state", f"当前状态为{STATE_ZH[listing.state]}，不在公示中")
    assert listing.listed_on is not None and listing.publish_until is not None
    if on < listing.listed_on:
        raise ServiceError("on", "结束日期不能早于认定日期")
    if kind == "removed" and on < listing.publish_until:
        raise ServiceError("on", f"公示期至 {listing.publish_until.isoformat()}，尚未届满")
    listing.state = kind
    listing.ended_on = on
    session.add(listing)
    audit(session, act, f"blacklist_{kind}", "blacklist_listing", listing.id)
    _event(session, act, listing, kind, on)
    why = "信用修复，终止公示" if kind == "repaired" else "公示期满，移出失信联合惩戒对象名单"
    _reevaluate(session, act, listing, _years(listing.listed_on, on), f"{why}（{on}）")
    return listing


def repaired_mark(day: date) -> str:
    """Hunan-Credit Art. 27: 标记"某年某月某日修复"."""
    return f"{day.year}年{day.month:02d}月{day.day:02d}日修复"


def end_publications(session: Session, act: Act, today: date) -> list[int]:
    """The ``end_publications`` job: every listing whose period is over (``publish_until``
    on or before ``today``) is removed, effective on its ``publish_until``. Idempotent."""
    due = session.exec(
        select(BlacklistListing.id)
        .where(BlacklistListing.state == "listed")
        .where(col(BlacklistListing.publish_until) <= today)
        .order_by(col(BlacklistListing.id))
    ).all()
    ended = []
    for listing_id in due:
        listing = get_listing(session, listing_id or 0)
        assert listing.publish_until is not None
        end_publication(session, act, listing.id or 0, "removed", listing.publish_until)
        ended.append(listing.id or 0)
    return ended


def withdraw(
    session: Session, act: Act, listing_id: int, *, on: date, reason: str
) -> BlacklistListing:
    """Withdraw a proposal or a listing (found wrong, set aside on appeal or review): a
    public listing gets a ``withdrawn`` event replacing its last one, and its archive item
    is withdrawn by a superseding row (append-only)."""
    reason = _text(reason, "reason", "撤销理由", 500)
    listing = get_listing(session, listing_id, lock=True)
    if listing.state not in ACTIVE:
        raise ServiceError("state", f"当前状态为{STATE_ZH[listing.state]}，不能撤销")
    was_public = listing.state == "listed"
    listing.state = "withdrawn"
    listing.ended_on = on
    session.add(listing)
    audit(session, act, "blacklist_withdraw", "blacklist_listing", listing.id, why=reason)
    if was_public:
        if listing.item_id is not None:
            _item(session, act, listing, f"blacklist:{listing.id}:withdrawn", withdrawn=True,
                  supersedes=listing.item_id)  # fmt: skip
        last = _last_event(session, listing.id or 0)
        _event(session, act, listing, "withdrawn", on, replaces=last.id if last else None)
        assert listing.listed_on is not None
        _reevaluate(session, act, listing, _years(listing.listed_on, on),
                    f"撤销列入失信联合惩戒对象名单：{reason}")  # fmt: skip
    return listing


CORRECTABLE = ("name", "document_no", "listed_on", "grounds", "basis", "authority", "measures")
CORRECT_TEXT = {  # field: (name in Chinese, longest)
    "name": ("名称", 200),
    "grounds": ("事由", 4000),
    "basis": ("依据", 4000),
    "measures": ("失信惩戒措施", 4000),
    "authority": ("认定机关", 200),
}


def correct(
    session: Session, act: Act, listing_id: int, *, on: date, **fields: Any
) -> BlacklistListing:
    """Correct a public listing (name, document number, 认定之日...): a ``corrected`` event
    replaces the last one; a new 认定之日 moves the period (and the Art. 33(4) bar)."""
    listing = get_listing(session, listing_id, lock=True)
    if listing.state != "listed":
        raise ServiceError("state", "只有公示中的名单记录可以更正")
    unknown = set(fields) - set(CORRECTABLE)
    if unknown:
        raise ServiceError(sorted(unknown)[0], "该项不能更正")
    for key, (what, longest) in CORRECT_TEXT.items():
        if isinstance(fields.get(key), str):
            fields[key] = _text(fields[key], key, what, longest, required=False)
    before = listing.listed_on
    changed = {k: v for k, v in fields.items() if v not in (None, "") and getattr(listing, k) != v}
    if not changed:
        raise ServiceError("fields", "没有需要更正的内容")
    if "document_no" in changed:
        changed["document_no"] = _unique_no(
            session, BlacklistListing.document_no, str(changed["document_no"]), "document_no",
            listing.id,
        )  # fmt: skip
    for key, value in changed.items():
        setattr(listing, key, value)
    if "listed_on" in changed:
        listing.publish_until = years_later(listing.listed_on or on, publication_years())
        if listing.role:
            listing.bar_until = years_later(listing.listed_on or on, BAR_YEARS)
    if listing.item_id is not None:
        n = len([e for e in events_of(session, listing.id or 0) if e.type == "corrected"])
        listing.item_id = _item(session, act, listing, f"blacklist:{listing.id}:corrected:{n + 1}",
                                supersedes=listing.item_id).id  # fmt: skip
    session.add(listing)
    audit(session, act, "blacklist_correct", "blacklist_listing", listing.id)
    last = _last_event(session, listing.id or 0)
    _event(session, act, listing, "corrected", on, replaces=last.id if last else None)
    assert before is not None and listing.listed_on is not None
    _reevaluate(session, act, listing, {before.year, listing.listed_on.year},
                f"更正名单记录（{listing.document_no}）")  # fmt: skip
    return listing


# --- what follows from a listing -----------------------------------------------------


def _years(first: date | None, last: date) -> set[int]:
    start = first.year if first is not None else last.year
    return set(range(start, max(start, last.year) + 1))


def _reevaluate(
    session: Session, act: Act, listing: BlacklistListing, years: set[int], why: str
) -> None:
    """A listing, its end, withdrawal or correction changes the subject's credit facts (the
    public serious ``dishonest_list`` item): the committed years it touches are evaluated
    again at once and the subject told (Hunan-Credit Art. 19, 22; ``reevaluate_subject``)."""
    from portal.services.credit_evaluation import reevaluate_subject

    reevaluate_subject(session, act, listing.subject_kind, listing.subject_key,
                       years=sorted(years), why=why)  # fmt: skip


def termination_reconsidered(
    session: Session, act: Act, decision_id: int, code: str, today: date
) -> BlacklistListing | None:
    """A termination set aside (an upheld appeal, Hunan-Rules Art. 18-19; a correction or
    voiding of the decision's ledger entries): when the person is no longer terminated by
    decision ``decision_id``, its blacklist proposal or listing (origin
    ``decision:<id>:<code>``, Hunan-Rules Art. 17) is withdrawn in the same transaction —
    a public one with a ``withdrawn`` event replacing its last one. Returns the withdrawn
    listing, or None (nothing open, or still terminated by that decision)."""
    from portal.services.ledger import timeline_of
    from scoring.model import STATUS_OF_KIND

    listing = session.exec(
        select(BlacklistListing)
        .where(BlacklistListing.origin == f"decision:{decision_id}:{code}")
        .where(col(BlacklistListing.state).in_(ACTIVE))
    ).first()
    if listing is None:
        return None
    person = session.exec(select(Practitioner).where(Practitioner.national_code == code)).first()
    if person is not None:
        timeline = timeline_of(session, person)
        if any(
            STATUS_OF_KIND.get(p.kind) == "terminated" and str(decision_id) in p.sources
            for p in timeline.periods
        ):
            return None
    on = max(today, listing.proposed_on)
    why = f"终止医保支付资格的处理决定已被撤销或更正（处理决定 #{decision_id}），不再纳入名单"
    return withdraw(session, Act(act.actor, act.at, act.reason or why), listing.id or 0, on=on,
                    reason=why)  # fmt: skip


def terminations_reconsidered(
    session: Session, act: Act, cases: Iterable[tuple[int | None, str]], today: date
) -> None:
    """``termination_reconsidered`` for each (decision id, national code) a ledger
    correction touched (``ledger.correct_entries``)."""
    for decision_id, code in sorted({(d, c) for d, c in cases if d is not None}):
        termination_reconsidered(session, act, decision_id, code, today)


# --- reading -------------------------------------------------------------------------


def listings(
    session: Session, sees_region: Any, state: str | None = None
) -> list[BlacklistListing]:
    """The listings an officer sees (``sees_region(region) -> bool``), newest first."""
    query = select(BlacklistListing).order_by(col(BlacklistListing.id).desc())
    if state:
        query = query.where(BlacklistListing.state == state)
    return [x for x in session.exec(query) if sees_region(x.region)]


def events_of(session: Session, listing_id: int) -> list[BlacklistEvent]:
    return list(
        session.exec(
            select(BlacklistEvent)
            .where(BlacklistEvent.listing_id == listing_id)
            .order_by(col(BlacklistEvent.id))
        )
    )


def related_persons(session: Session, listing_id: int) -> list[BlacklistListing]:
    """The Art. 33(4) persons listed with an institution's listing."""
    return list(
        session.exec(
            select(BlacklistListing)
            .where(BlacklistListing.related_listing_id == listing_id)
            .order_by(col(BlacklistListing.id))
        )
    )


def working_days_left(today: date, due: date | None) -> int | None:
    """Working days from ``today`` to ``due`` (0: due today; negative: late by that many)."""
    if due is None:
        return None
    from scoring.workdays import default_calendar

    cal = default_calendar()
    if due < today:
        n, day = 0, due
        while day < today:
            day = day + timedelta(days=1)
            if cal.is_workday(day):
                n -= 1
        return min(n, -1)
    n, day = 0, today
    while day < due:
        day = day + timedelta(days=1)
        if cal.is_workday(day):
            n += 1
    return n


def due_listings(session: Session, region_ok: Any) -> list[BlacklistListing]:
    """Open proposals and notices with a deadline, for the dashboard: proposals of
    terminated practitioners (20 working days, Hunan-Rules Art. 17) and objections to answer
    (5 working days, Hunan-Credit Art. 35)."""
    rows = session.exec(
        select(BlacklistListing)
        .where(col(BlacklistListing.state).in_(("proposed", "noticed")))
        .order_by(col(BlacklistListing.id))
    ).all()
    return [x for x in rows if region_ok(x.region)]


def count_by_state(session: Session) -> dict[str, int]:
    rows = session.exec(
        select(BlacklistListing.state, func.count()).group_by(BlacklistListing.state)
    ).all()
    return {state: int(n) for state, n in rows}


def daily(engine: Engine, today: date) -> tuple[int, int]:
    """The day's blacklist work, idempotent (``portal serve`` runs it once a day; also
    ``portal blacklist propose-terminated`` / ``end-publications``): propose every newly
    terminated practitioner (Hunan-Rules Art. 17) and end the periods that are over (the
    ``end_publications`` job). Returns (proposed, ended)."""
    at = datetime.now(UTC)
    with Session(engine) as session:
        proposed = propose_terminated(session, Act("scheduler", at, "终止人员纳入名单"), today)
        ended = end_publications(session, Act("scheduler", at, "公示期满移出"), today)
        session.commit()
    return len(proposed), len(ended)
