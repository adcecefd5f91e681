"""Credit archives: a subject's items of credit information (Hunan-Credit Art. 3, 13-16).

A subject is ``(kind, key)``. Practitioners (national code) and the registry's institutions
(institution code; ``designated_hospital`` / ``designated_pharmacy`` from ``institution.kind``)
are subjects without re-entry (Art. 13); every other subject is a ``credit_subject`` row
(portal.services.credit_subjects).

Items are append-only (Art. 13: nothing is overwritten): a correction is a new row whose
``supersedes_id`` names the row it replaces, a withdrawal a new row with ``withdrawn``. The
marks an item carries are derived, never stored: "异议处理中" while an objection on it is
open (Art. 24), "YYYY年MM月DD日修复" once a repair of it is approved, and from then on it is
no longer published (Art. 27).

The points ledger feeds the archive itself (``sync_from_ledger``, ``sync_agreement_actions``):
one bad item per decision and person, one per agreement action of an institution.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from portal.credit_models import (
    CATEGORIES,
    INSTITUTION_KINDS,
    SOURCES,
    SUBJECT_KIND_ZH,
    SUBJECT_KINDS,
    CreditItem,
    CreditObjection,
    CreditRepair,
    CreditSubject,
)
from portal.models import (
    AgreementAction,
    Decision,
    Institution,
    LedgerEntry,
    Notice,
    Practitioner,
)
from portal.services.errors import NotFound, ServiceError, checked_text
from portal.services.registry import Act, audit

# One Chinese label per concept (RULES §1): the nine kinds of Art. 3.
KIND_ZH = {kind: SUBJECT_KIND_ZH[kind] for kind in SUBJECT_KINDS}
CATEGORY_ZH = {
    "registration": "登记注册基本信息",
    "qualification": "资质资格、职称和职业资格信息",
    "administrative": "行政管理信息",
    "judicial": "司法裁判及执行信息",
    "abnormal_operation": "经营（活动）异常名录（状态）信息",
    "evaluation_result": "信用评价结果信息",
    "agreement": "行政约定及其履行信息（医疗服务协议）",
    "commitment": "信用承诺及其履行信息",
    "violation": "违反法律法规情况",
    "honour": "诚实守信相关荣誉信息",
    "dishonest_list": "失信主体名单信息",
    "other": "其他公共信用信息",
}
SOURCE_ZH = {
    "self_reported": "信用主体提供",
    "supervision": "医疗保障部门认定",
    "shared_platform": "公共信用信息平台等数据共享",
    "business_system": "医保信息系统采集",
    "other": "其他符合规定的途径",
}
POLARITY_ZH = {"good": "良好信息", "bad": "不良信息"}
INSTITUTION_OF_KIND = {"hospital": "designated_hospital", "pharmacy": "designated_pharmacy"}
REGISTRY_KINDS = ("practitioner", "designated_hospital", "designated_pharmacy")
UNDER_OBJECTION = "异议处理中"
TITLE_LONGEST, DETAIL_LONGEST = 200, 4000
CHANGEABLE = (
    "category", "polarity", "public", "serious", "source", "source_unit", "title", "detail",
    "occurred_on", "indicator",
)  # fmt: skip
# Items fed from the ledger carry no indicator: the evaluation reads those facts (points,
# penalties, agreement actions) from the ledger itself, so an indicator here would count
# them twice (portal.services.credit_evaluation).
LEDGER_FED = ""
DECISION_CATEGORY = {"administrative_penalty": "violation", "agreement_action": "agreement"}
DECISION_ZH = {"administrative_penalty": "行政处罚", "agreement_action": "协议处理"}
ACTION_ZH = {"suspended": "中止医保协议", "terminated": "解除医保协议"}
PUBLIC_STATUSES = ("suspended", "terminated", "cancelled")  # as portal.services.public


# --- subjects -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectInfo:
    """A subject as the archive shows it. ``document``: what identifies it publicly (the
    credit code; never an individual's number); ``institution_code``: the registry
    institution it is, if any (an institution administrator's own archive)."""

    kind: str
    key: str
    name: str
    region: str
    document: str
    registry: bool
    institution_code: str = ""
    legal_representative: str = ""

    @property
    def kind_zh(self) -> str:
        return KIND_ZH.get(self.kind, self.kind)

    @property
    def is_institution(self) -> bool:
        return self.kind in INSTITUTION_KINDS


def subject(session: Session, kind: str, key: str) -> SubjectInfo:
    """Resolve a subject (Art. 3, 13): registry practitioners and institutions first, then
    ``credit_subject``; NotFound otherwise."""
    key = key.strip()[:32]
    if kind not in KIND_ZH:
        raise NotFound("subject_kind", f"未找到信用主体类型 {kind[:24]}")
    if kind == "practitioner":
        person = session.exec(
            select(Practitioner).where(Practitioner.national_code == key.upper())
        ).first()
        if person is not None:
            return SubjectInfo(kind, person.national_code, person.name, person.region,
                               person.national_code, True)  # fmt: skip
    if kind in ("designated_hospital", "designated_pharmacy"):
        place = session.exec(select(Institution).where(Institution.code == key)).first()
        if place is not None and INSTITUTION_OF_KIND.get(place.kind) == kind:
            return SubjectInfo(kind, place.code, place.name, place.region, place.credit_code,
                               True, institution_code=place.code)  # fmt: skip
    row = session.exec(
        select(CreditSubject)
        .where(CreditSubject.subject_kind == kind)
        .where(CreditSubject.subject_key == key)
    ).first()
    if row is None:
        raise NotFound("subject_key", f"未找到信用主体 {key}")
    document = row.subject_key if row.document_type == "credit_code" else ""
    return SubjectInfo(row.subject_kind, row.subject_key, row.name, row.region, document,
                       False, legal_representative=row.legal_representative)  # fmt: skip


# --- items --------------------------------------------------------------------------------


def _checked(
    session: Session,
    *,
    category: str,
    polarity: str,
    source: str,
    title: str,
    occurred_on: date | None,
    detail: str,
    source_unit: str,
    serious: bool,
) -> None:
    if category not in CATEGORIES:
        raise ServiceError(
            "category", "信息类别应为《湖南省医疗保障信用管理办法》第十四条所列十二类之一"
        )
    if polarity not in POLARITY_ZH:
        raise ServiceError("polarity", "请选择良好信息或不良信息")
    if source not in SOURCES:
        raise ServiceError("source", "信息来源应为第十六条所列途径之一")
    if not title.strip():
        raise ServiceError("title", "请填写信息内容")
    if len(title.strip()) > TITLE_LONGEST:
        raise ServiceError("title", f"信息内容不超过 {TITLE_LONGEST} 字（详情可写入说明）")
    checked_text("title", title, TITLE_LONGEST)
    checked_text("source_unit", source_unit, 200)
    checked_text("detail", detail, DETAIL_LONGEST)
    if not isinstance(occurred_on, date):
        raise ServiceError("occurred_on", "请填写信息发生（认定）日期")
    if serious and polarity != "bad":
        raise ServiceError("serious", "只有不良信息才能认定为严重失信")


def record_item(
    session: Session,
    act: Act,
    *,
    subject_kind: str,
    subject_key: str,
    category: str,
    polarity: str,
    public: bool,
    source: str,
    title: str,
    occurred_on: date,
    detail: str = "",
    source_unit: str = "",
    indicator: str = "",
    origin: str | None = None,
    serious: bool = False,
) -> CreditItem:
    """Put one item of credit information in a subject's archive (Hunan-Credit Art. 13-16):
    its category (Art. 14), source (Art. 16), whether public (Art. 4), good or bad."""
    try:
        found = subject(session, subject_kind, subject_key)
    except NotFound as exc:
        raise ServiceError("subject_key", exc.message) from exc
    _checked(session, category=category, polarity=polarity, source=source, title=title,
             occurred_on=occurred_on, detail=detail, source_unit=source_unit,
             serious=serious)  # fmt: skip
    if origin is not None:
        taken = session.exec(select(CreditItem.id).where(CreditItem.origin == origin)).first()
        if taken is not None:
            raise ServiceError("origin", f"该信息已记入档案（记录 {taken}），不重复记录")
    item = CreditItem(
        subject_kind=found.kind, subject_key=found.key, category=category, polarity=polarity,
        public=bool(public), serious=bool(serious), source=source,
        source_unit=source_unit.strip(), title=title.strip(), detail=detail.strip(),
        occurred_on=occurred_on, indicator=indicator.strip(), origin=origin, **act.stamp(),
    )  # fmt: skip
    session.add(item)
    session.flush()
    audit(session, act, "credit_item_record", "credit_item", item.id,
          subject=f"{found.kind}:{found.key}", category=category, origin=origin)  # fmt: skip
    _facts_changed(session, act, item)
    return item


def _facts_changed(session: Session, act: Act, item: CreditItem) -> None:
    """An item that feeds an indicator changes the facts of committed credit years: its
    subject is re-evaluated at once and told (Hunan-Credit Art. 19, 22)."""
    from portal.services.credit_evaluation import item_changed

    item_changed(session, act, item)


def _live_row(session: Session, item_id: int) -> CreditItem:
    item = session.get(CreditItem, item_id)
    if item is None:
        raise NotFound("item_id", f"未找到信用信息 {item_id}")
    if session.exec(select(CreditItem.id).where(CreditItem.supersedes_id == item_id)).first():
        raise ServiceError("item_id", "该信息已被更正或撤销，请对最新记录操作")
    if item.withdrawn:
        raise ServiceError("item_id", "该信息已撤销")
    return item


def _successor(session: Session, old: CreditItem, act: Act, **values: Any) -> CreditItem:
    data = {k: getattr(old, k) for k in ("subject_kind", "subject_key", *CHANGEABLE)}
    data.update(values)
    item = CreditItem(**data, supersedes_id=old.id, **act.stamp())
    session.add(item)
    session.flush()
    _facts_changed(session, act, item)
    return item


def supersede_item(session: Session, act: Act, item_id: int, **changes: Any) -> CreditItem:
    """Correct an item: a new row that supersedes it; the old one stays on record
    (Hunan-Credit Art. 13, 19: every change archived)."""
    if not act.reason.strip():
        raise ServiceError("reason", "更正信用信息必须说明理由")
    unknown = [k for k in changes if k not in CHANGEABLE]
    if unknown:
        raise ServiceError(unknown[0], f"不能更正该项；可更正：{'、'.join(CHANGEABLE)}")
    old = _live_row(session, item_id)
    merged = {k: getattr(old, k) for k in CHANGEABLE} | changes
    if isinstance(merged["title"], str):
        merged["title"] = merged["title"].strip()
    _checked(session, category=merged["category"], polarity=merged["polarity"],
             source=merged["source"], title=merged["title"], occurred_on=merged["occurred_on"],
             detail=merged["detail"], source_unit=merged["source_unit"],
             serious=bool(merged["serious"]))  # fmt: skip
    if all(merged[k] == getattr(old, k) for k in CHANGEABLE):
        raise ServiceError("item_id", "更正内容与原记录相同")
    item = _successor(session, old, act, **merged)
    audit(session, act, "credit_item_supersede", "credit_item", item.id,
          supersedes=old.id, changes=sorted(changes))  # fmt: skip
    return item


def withdraw_item(session: Session, act: Act, item_id: int) -> CreditItem:
    """Withdraw an item: a new row, ``withdrawn``, that supersedes it (the old one stays)."""
    if not act.reason.strip():
        raise ServiceError("reason", "撤销信用信息必须说明理由")
    old = _live_row(session, item_id)
    item = _successor(session, old, act, withdrawn=True)
    audit(session, act, "credit_item_withdraw", "credit_item", item.id, supersedes=old.id)
    return item


@dataclass(frozen=True)
class ItemView:
    """A live item with what is derived for it: its marks, whether it is still published
    (public and not repaired, Art. 4, 27) and the versions it replaced (newest first)."""

    item: CreditItem
    marks: tuple[str, ...] = ()
    published: bool = False
    repaired_on: date | None = None
    under_objection: bool = False
    history: tuple[CreditItem, ...] = field(default_factory=tuple)

    @property
    def category_zh(self) -> str:
        return CATEGORY_ZH.get(self.item.category, self.item.category)

    @property
    def source_zh(self) -> str:
        return SOURCE_ZH.get(self.item.source, self.item.source)

    @property
    def polarity_zh(self) -> str:
        return POLARITY_ZH.get(self.item.polarity, self.item.polarity)


def repair_mark(day: date) -> str:
    """The archive's mark of an approved repair (Hunan-Credit Art. 27)."""
    return f"{day:%Y}年{day:%m}月{day:%d}日修复"


def _chains(items: list[CreditItem]) -> list[tuple[CreditItem, tuple[CreditItem, ...]]]:
    """(head, older versions newest first) for every chain whose head is not withdrawn."""
    by_id = {i.id: i for i in items}
    superseded = {i.supersedes_id for i in items if i.supersedes_id is not None}
    out = []
    for item in items:
        if item.id in superseded or item.withdrawn:
            continue
        older: list[CreditItem] = []
        back = item.supersedes_id
        while back is not None and back in by_id:
            older.append(by_id[back])
            back = by_id[back].supersedes_id
        out.append((item, tuple(older)))
    return out


def current_items(session: Session, subject_kind: str, subject_key: str) -> list[ItemView]:
    """The subject's live items (not superseded, not withdrawn), newest first, with their
    marks: "异议处理中" while an objection is open (Art. 24), "YYYY年MM月DD日修复" after
    an approved repair, which ends publication (Art. 27)."""
    items = list(
        session.exec(
            select(CreditItem)
            .where(CreditItem.subject_kind == subject_kind)
            .where(CreditItem.subject_key == subject_key)
            .order_by(col(CreditItem.id))
        ).all()
    )
    chains = _chains(items)
    ids = [i.id for i in items]
    open_on: set[int] = set()
    repaired: dict[int, date] = {}
    if ids:
        open_on = {
            i
            for i in session.exec(
                select(CreditObjection.item_id)
                .where(col(CreditObjection.item_id).in_(ids))
                .where(CreditObjection.state == "open")
            ).all()
            if i is not None
        }
        for item_id, decided_on in session.exec(
            select(col(CreditRepair.item_id), col(CreditRepair.decided_on))
            .where(col(CreditRepair.item_id).in_(ids))
            .where(CreditRepair.state == "approved")
        ).all():
            if item_id is not None and decided_on is not None:
                repaired[item_id] = min(decided_on, repaired.get(item_id, decided_on))
    views = []
    for head, older in chains:
        versions = [head.id, *(o.id for o in older)]
        objected = any(v in open_on for v in versions)
        days = [repaired[v] for v in versions if v in repaired]
        repaired_on = min(days) if days else None
        marks = ((UNDER_OBJECTION,) if objected else ()) + (
            (repair_mark(repaired_on),) if repaired_on else ()
        )
        views.append(
            ItemView(head, marks, head.public and repaired_on is None, repaired_on, objected, older)
        )
    views.sort(key=lambda v: (v.item.occurred_on, v.item.id or 0), reverse=True)
    return views


def item_history(session: Session, item_id: int) -> list[CreditItem]:
    """An item and every version before it, newest first."""
    out = []
    seen: set[int] = set()
    current = session.get(CreditItem, item_id)
    while current is not None and current.id not in seen:
        out.append(current)
        seen.add(current.id or 0)
        current = session.get(CreditItem, current.supersedes_id) if current.supersedes_id else None
    return out


def withdrawn_items(session: Session, subject_kind: str, subject_key: str) -> list[CreditItem]:
    """The withdrawal rows of the subject (each supersedes the item it withdrew)."""
    return list(
        session.exec(
            select(CreditItem)
            .where(CreditItem.subject_kind == subject_kind)
            .where(CreditItem.subject_key == subject_key)
            .where(col(CreditItem.withdrawn).is_(True))
            .order_by(col(CreditItem.id).desc())
        ).all()
    )


# --- fed by the points ledger ---------------------------------------------------------------


def _heads_by_origin(session: Session, origins: list[str]) -> dict[str, CreditItem]:
    """origin → the newest version of the item that came from it (withdrawn ones too)."""
    if not origins:
        return {}
    firsts = list(session.exec(select(CreditItem).where(col(CreditItem.origin).in_(origins))))
    subjects = {(i.subject_kind, i.subject_key) for i in firsts}
    rows: list[CreditItem] = []
    for kind, keys in _group(subjects).items():
        rows += session.exec(
            select(CreditItem)
            .where(CreditItem.subject_kind == kind)
            .where(col(CreditItem.subject_key).in_(keys))
        ).all()
    successor = {i.supersedes_id: i for i in rows if i.supersedes_id is not None}
    heads = {}
    for first in firsts:
        head = first
        while head.id in successor:
            head = successor[head.id]
        heads[first.origin or ""] = head
    return heads


def _group(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for kind, key in pairs:
        grouped[kind].append(key)
    return grouped


@dataclass(frozen=True)
class _Wanted:
    subject_kind: str
    subject_key: str
    category: str
    public: bool
    title: str
    detail: str
    occurred_on: date
    indicator: str
    withdrawn: bool


def _write(
    session: Session, act: Act, origin: str, wanted: _Wanted, head: CreditItem | None
) -> int:
    """Bring the item from ``origin`` to ``wanted``: record, supersede or withdraw (0 or 1)."""
    if head is None:
        if wanted.withdrawn:
            return 0
        record_item(session, act, subject_kind=wanted.subject_kind,
                    subject_key=wanted.subject_key, category=wanted.category, polarity="bad",
                    public=wanted.public, source="supervision", title=wanted.title,
                    occurred_on=wanted.occurred_on, detail=wanted.detail,
                    source_unit="医疗保障部门", indicator=wanted.indicator,
                    origin=origin)  # fmt: skip
        return 1
    if wanted.withdrawn:
        if head.withdrawn:
            return 0
        item = _successor(session, head, act, withdrawn=True)
        audit(session, act, "credit_item_withdraw", "credit_item", item.id,
              supersedes=head.id, origin=origin)  # fmt: skip
        return 1
    same = (
        not head.withdrawn
        and head.title == wanted.title
        and head.public == wanted.public
        and head.detail == wanted.detail
        and head.occurred_on == wanted.occurred_on
        and head.category == wanted.category
    )
    if same:
        return 0
    item = _successor(session, head, act, title=wanted.title, public=wanted.public,
                      detail=wanted.detail, occurred_on=wanted.occurred_on,
                      category=wanted.category, withdrawn=False)  # fmt: skip
    audit(session, act, "credit_item_supersede", "credit_item", item.id,
          supersedes=head.id, origin=origin)  # fmt: skip
    return 1


SYNC_BATCH = 500


def sync_from_ledger(
    session: Session,
    act: Act,
    practitioner_ids: Iterable[int] | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """One bad item per decision affecting a practitioner, kept in step with the ledger
    (Hunan-Credit Art. 14(七), (九), 16(二); Hunan-Rules Art. 17: the points feed the credit
    archive without re-entry). Origin ``decision:<id>:<national code>``; category
    ``violation`` for an administrative penalty, ``agreement`` for an agreement action;
    public once a notice published it (a suspension or termination, as the public site
    shows). A correction in the ledger supersedes the item, as does an upheld appeal (its
    points replace the case's, Hunan-Rules Art. 18); a voided case, or an appeal to 0 points
    (撤销), withdraws it.
    Idempotent: returns the number of rows written. ``None``: every practitioner with a
    decision (the back-fill)."""
    if practitioner_ids is None:
        ids = sorted(
            {
                pid
                for pid in session.exec(
                    select(LedgerEntry.practitioner_id).where(
                        col(LedgerEntry.decision_id).is_not(None)
                    )
                ).all()
            }
        )
    else:
        ids = sorted(set(practitioner_ids))
    written = 0
    for start in range(0, len(ids), SYNC_BATCH):
        batch = ids[start : start + SYNC_BATCH]
        written += _sync_people(session, act, batch)
        if progress is not None:
            progress(len(batch))
    return written


def people_with_decisions(session: Session) -> int:
    """How many practitioners the back-fill looks at (for a progress bar)."""
    return len(
        set(
            session.exec(
                select(LedgerEntry.practitioner_id).where(col(LedgerEntry.decision_id).is_not(None))
            ).all()
        )
    )


def _sync_people(session: Session, act: Act, ids: list[int]) -> int:
    if not ids:
        return 0
    people = {
        p.id: p for p in session.exec(select(Practitioner).where(col(Practitioner.id).in_(ids)))
    }
    entries = list(
        session.exec(
            select(LedgerEntry)
            .where(col(LedgerEntry.practitioner_id).in_(ids))
            .order_by(col(LedgerEntry.id))
        )
    )
    superseded = {e.supersedes_id for e in entries if e.supersedes_id is not None}
    touched: dict[tuple[int, int], list[LedgerEntry]] = defaultdict(list)
    appealed: dict[tuple[int, int], int] = {}  # an upheld appeal replaces the case's points
    for entry in entries:
        if entry.decision_id is None:
            continue
        pair = (entry.practitioner_id, entry.decision_id)
        alive = entry.id not in superseded and entry.kind != "void"
        if entry.kind in ("score", "void"):
            touched[pair] += [entry] if alive else []
        elif entry.kind == "appeal" and alive:
            appealed[pair] = int(json.loads(entry.payload).get("points") or 0)
    decision_ids = sorted({d for _, d in touched})
    if not decision_ids:
        return 0
    decisions = {
        d.id: d for d in session.exec(select(Decision).where(col(Decision.id).in_(decision_ids)))
    }
    places = {
        i.id: i
        for i in session.exec(
            select(Institution).where(
                col(Institution.id).in_({d.institution_id for d in decisions.values()})
            )
        )
    }
    published = {
        (n.practitioner_id, n.decision_id)
        for n in session.exec(
            select(Notice)
            .where(col(Notice.decision_id).in_(decision_ids))
            .where(col(Notice.practitioner_id).in_(ids))
            .where(col(Notice.status).in_(PUBLIC_STATUSES))
        )
    }
    origins = {
        key: f"decision:{key[1]}:{people[key[0]].national_code}"
        for key in touched
        if key[0] in people
    }
    heads = _heads_by_origin(session, list(origins.values()))
    written = 0
    for key, origin in sorted(origins.items()):
        person, decision = people[key[0]], decisions[key[1]]
        live = touched[key]
        points = sum(int(json.loads(e.payload).get("points") or 0) for e in live)
        after_appeal = "（申诉更正）" if key in appealed else ""
        points = appealed.get(key, points)
        kind = decision.decision_type
        place = places.get(decision.institution_id)
        document = f"{DECISION_ZH.get(kind, kind)}（{decision.document_no}）"
        title = f"{document}记{points}分{after_appeal}"[:200]
        gone = not live or (key in appealed and not points)
        detail = f"处理依据：{decision.legal_basis}；机构：{place.name if place else ''}"
        wanted = _Wanted(
            "practitioner", person.national_code, DECISION_CATEGORY.get(kind, "other"),
            key in published, title, detail, decision.decision_date,
            LEDGER_FED, withdrawn=gone,
        )  # fmt: skip
        written += _write(session, act, origin, wanted, heads.get(origin))
    return written


def sync_institution_decisions(
    session: Session, act: Act, decision_ids: Iterable[int] | None = None
) -> int:
    """One bad item per decision recorded against an institution — an administrative
    penalty or an agreement action of a case (Hunan-Credit Art. 14(七), (九), 16(二)) — in
    the institution's archive, origin ``decision:<id>:<institution code>``: the facts its
    evaluation deducts for (portal.services.credit_evaluation reads the decisions), so the
    institution can see them, object to them and ask for their repair. Not public (the
    public site does not publish institutions' decisions); no indicator (the ledger is read
    directly, never counted twice). Idempotent."""
    query = select(Decision).order_by(col(Decision.id))
    if decision_ids is not None:
        wanted_ids = sorted(set(decision_ids))
        if not wanted_ids:
            return 0
        query = query.where(col(Decision.id).in_(wanted_ids))
    written = 0
    for decision in session.exec(query):
        place = session.get(Institution, decision.institution_id)
        kind = INSTITUTION_OF_KIND.get(place.kind if place else "")
        if place is None or kind is None:
            continue
        origin = f"decision:{decision.id}:{place.code}"
        document = f"{DECISION_ZH.get(decision.decision_type, decision.decision_type)}"
        wanted = _Wanted(
            kind, place.code, DECISION_CATEGORY.get(decision.decision_type, "other"), False,
            f"{document}（{decision.document_no}）"[:200],
            f"处理依据：{decision.legal_basis}"[:DETAIL_LONGEST], decision.decision_date,
            LEDGER_FED, withdrawn=False,
        )  # fmt: skip
        written += _write(
            session, act, origin, wanted, _heads_by_origin(session, [origin]).get(origin)
        )
    return written


def sync_agreement_actions(
    session: Session, act: Act, action_ids: Iterable[int] | None = None
) -> int:
    """One bad item per suspension or termination of an institution's agreement (Hunan-
    Credit Art. 14(七)), origin ``agreement_action:<id>``, the institution the subject; a
    correcting action (``supersedes_id``) supersedes the item of the one it replaces
    (origin kept on the first). A reinstatement is not bad information: no item. Not public:
    the public site does not publish institutions' agreement actions. Idempotent."""
    query = select(AgreementAction).order_by(col(AgreementAction.id))
    if action_ids is not None:
        wanted_ids = sorted(set(action_ids))
        if not wanted_ids:
            return 0
        query = query.where(col(AgreementAction.id).in_(wanted_ids))
    actions = list(session.exec(query))
    written = 0
    for action in actions:
        place = session.get(Institution, action.institution_id)
        kind = INSTITUTION_OF_KIND.get(place.kind if place else "")
        if place is None or kind is None or action.action not in ACTION_ZH:
            continue
        first = action
        while first.supersedes_id is not None:
            earlier = session.get(AgreementAction, first.supersedes_id)
            if earlier is None:
                break
            first = earlier
        origin = f"agreement_action:{first.id}"
        later = session.exec(
            select(AgreementAction.id).where(AgreementAction.supersedes_id == action.id)
        ).first()
        if later is not None:
            continue  # the correcting action speaks for it
        until = f"至{action.until.isoformat()}" if action.until else ""
        wanted = _Wanted(
            kind, place.code, "agreement", False,
            f"{ACTION_ZH[action.action]}（{action.document_no}）"[:200],
            f"自{action.effective_from.isoformat()}起{until}", action.decided_on,
            LEDGER_FED, withdrawn=False,
        )  # fmt: skip
        written += _write(
            session, act, origin, wanted, _heads_by_origin(session, [origin]).get(origin)
        )
    return written
