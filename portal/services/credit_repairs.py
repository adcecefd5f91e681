"""信用修复: repairing a subject's credit after bad information (Hunan-Credit Art. 25-27;
RULES §8 "Credit repair", "Repair decision", I-20).

Conditions, all of them (Art. 25), checked on application and again on approval:

1. the minimum publication period (最短公示期) has passed since the bad information was
   confirmed (:func:`minimum_months`; RULES I-20);
2. the subject corrected the wrong, met its obligations, and the harm is essentially
   removed: the applicant states it (``correction``), the officer confirms it on approval
   (``harm_removed``);
3. no new bad record appeared while the item was published (:func:`new_bad_records`).

The application carries the application form, the commitment letter and proof of the
correction (Art. 26): files of PDF, PNG or JPEG (recognised by their bytes, not their
names), at most 10 MB each, kept sealed (AES-GCM) with their SHA-256. The decision is a
written approval or refusal with reasons (Art. 27, "书面告知"); on approval the archive
marks the item "YYYY年MM月DD日修复" (:func:`repair_mark`) and its publication ends.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from portal.credit_models import (
    BlacklistListing,
    CreditAttachment,
    CreditItem,
    CreditRepair,
)
from portal.crypto import seal_bytes, unseal_bytes
from portal.services.credit_objections import RULESET, china_day, live_item, subject_ref
from portal.services.errors import NotFound, ServiceError, checked_text
from portal.services.registry import Act, audit
from portal.services.secrets import file_key
from scoring.dates import months_period_end
from scoring.rulesets import credit_ruleset

STATE_ZH = {"pending": "待审核", "approved": "准予修复", "refused": "不予修复"}
ROLES_ZH = {
    "application_form": "信用修复申请表",
    "commitment_letter": "信用承诺书",
    "proof": "纠正、整改情况材料",
}
MAX_BYTES = 10 * 1024 * 1024  # each attachment, 10 MB
MAX_FILES = 12
# Recognised by their first bytes: the name and the browser's type are not trusted.
KINDS = (
    ("application/pdf", b"%PDF-", (".pdf",)),
    ("image/png", b"\x89PNG\r\n\x1a\n", (".png",)),
    ("image/jpeg", b"\xff\xd8\xff", (".jpg", ".jpeg")),
)


# The minimum publication period (最短公示期) in months, per kind of information (RULES
# I-20: the texts do not fix it, the portal makes it configurable). Serious dishonesty and
# the dishonest list: the credit ruleset's ``blacklist.minimum_publication_years`` (1 year).
# Any other bad item: 3 months, the shortest period the national credit-repair measures
# (国家发展改革委《失信行为纠正后的信用信息修复管理办法（试行）》) set for information on
# ordinary dishonesty. Change an entry here to change the rule; the docstring of
# :func:`minimum_months` says which applies.
def minimum_months(item: CreditItem) -> int:
    """Hunan-Credit Art. 25(1), RULES I-20 (configurable per kind of information, as data in
    the credit ruleset): the blacklist's minimum (12 months) for the dishonest list
    (category ``dishonest_list``) and serious dishonesty; otherwise the category's own
    ``minimum_publication_months``, else its ``default`` (3 months)."""
    rules = credit_ruleset(RULESET)
    if item.category == "dishonest_list" or item.serious:
        return 12 * rules.minimum_publication_years
    months = rules.minimum_publication_months
    return months.get(item.category, months.get("default", 3))


def earliest_repair(confirmed_on: date, months: int) -> date:
    """The first day the minimum period has passed: the period counts the day the
    information was confirmed (as a period of whole months does, RULES §5.2 step 4)."""
    return months_period_end(confirmed_on, months) + timedelta(days=1)


def repair_mark(day: date) -> str:
    """The archive's mark after an approved repair (Art. 27): "2026年06月01日修复"."""
    return f"{day.year:04d}年{day.month:02d}月{day.day:02d}日修复"


# --- what is repaired ------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    item: CreditItem
    listing: BlacklistListing | None
    confirmed_on: date  # 失信信息被确认之日 (a listing: its decision day)
    months: int


def _target(session: Session, item_id: int | None, listing_id: int | None) -> Target:
    listing = None
    if listing_id is not None:
        listing = session.get(BlacklistListing, listing_id)
        if listing is None:
            raise NotFound("listing_id", f"未找到失信名单记录 {listing_id}")
        if listing.state != "listed" or listing.listed_on is None:
            raise ServiceError("listing_id", "只有已列入名单、仍在公示的记录才能申请信用修复")
        if listing.item_id is None:
            raise ServiceError("listing_id", "该名单记录未关联信用信息")
        if item_id is not None and item_id != listing.item_id:
            raise ServiceError("item_id", "信用信息与名单记录不一致")
        item_id = listing.item_id
    if item_id is None:
        raise ServiceError("item_id", "请指明申请修复的失信信息")
    if listing is None:  # an item behind a listing in publication is repaired with it
        listing = session.exec(
            select(BlacklistListing)
            .where(BlacklistListing.item_id == item_id)
            .where(BlacklistListing.state == "listed")
        ).first()
    item = live_item(session, item_id)
    if item.polarity != "bad" or item.withdrawn:
        raise ServiceError("item_id", "只有现行的失信信息才能申请信用修复")
    if listing is not None and listing.listed_on is not None:
        years = credit_ruleset(RULESET).minimum_publication_years
        return Target(item, listing, listing.listed_on, 12 * years)
    return Target(item, None, item.occurred_on, minimum_months(item))


def new_bad_records(session: Session, item: CreditItem, since: date) -> list[CreditItem]:
    """Bad information of the same subject that arose after ``since`` (Art. 25(3): "在公开
    期间无新增不良信用记录"): live, not withdrawn, other than this item and its versions."""
    rows = session.exec(
        select(CreditItem)
        .where(CreditItem.subject_kind == item.subject_kind)
        .where(CreditItem.subject_key == item.subject_key)
        .where(CreditItem.polarity == "bad")
        .where(col(CreditItem.occurred_on) > since)
    ).all()
    replaced = set(
        session.exec(
            select(CreditItem.supersedes_id).where(col(CreditItem.supersedes_id).is_not(None))
        ).all()
    )
    chain = _versions(session, item)
    return [r for r in rows if r.id not in replaced and not r.withdrawn and r.id not in chain]


def _versions(session: Session, item: CreditItem) -> set[int]:
    ids, current = {item.id or 0}, item
    while current.supersedes_id is not None:
        older = session.get(CreditItem, current.supersedes_id)
        if older is None:
            break
        ids.add(older.id or 0)
        current = older
    return ids


def check_conditions(session: Session, target: Target, on: date) -> None:
    """Art. 25(1) and (3) on day ``on``; the refusal names the condition and its article."""
    earliest = earliest_repair(target.confirmed_on, target.months)
    if on < earliest:
        raise ServiceError(
            "item_id",
            f"未达到最短公示期（{target.months} 个月，自 {target.confirmed_on.isoformat()} 确认"
            f"起），{earliest.isoformat()} 起方可申请（湖南信用办法第二十五条第一项；RULES I-20）",
        )
    newer = new_bad_records(session, target.item, target.confirmed_on)
    if newer:
        first = newer[0]
        raise ServiceError(
            "item_id",
            f"公示期间新增不良信用记录（{first.occurred_on.isoformat()} {first.title}），"
            "不符合信用修复条件（湖南信用办法第二十五条第三项）",
        )


# --- attachments -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    role: str  # application_form | commitment_letter | proof
    filename: str
    content_type: str  # as the browser said; checked against the bytes
    content: bytes


def _clean_name(name: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f\"<>|:*?]", "", name).strip(" .")
    return name[-200:] or "attachment"


def sniff(content: bytes) -> str | None:
    """PDF, PNG or JPEG by the file's first bytes; None for anything else."""
    for kind, magic, _ in KINDS:
        if content.startswith(magic):
            return kind
    return None


def check_upload(upload: Upload) -> tuple[str, str]:
    """The upload's clean name and its real type; refused unless the bytes are a PDF, PNG
    or JPEG, the name's extension agrees, and the file is at most 10 MB (Art. 26)."""
    label = ROLES_ZH.get(upload.role)
    if label is None:
        raise ServiceError("role", "附件类别应为申请表、信用承诺书或整改材料")
    name = _clean_name(upload.filename)
    field = f"attachment_{upload.role}"
    if not upload.content:
        raise ServiceError(field, f"{label}「{name}」是空文件")
    if len(upload.content) > MAX_BYTES:
        raise ServiceError(field, f"{label}「{name}」超过 10 MB，请压缩后上传")
    kind = sniff(upload.content)
    if kind is None:
        raise ServiceError(field, f"{label}「{name}」不是 PDF、PNG 或 JPEG 文件")
    extensions = next(ext for k, _, ext in KINDS if k == kind)
    if not name.lower().endswith(extensions):
        raise ServiceError(field, f"{label}「{name}」的文件名与内容不符（内容为 {kind}）")
    return name, kind


def _context(repair_id: int, role: str, digest: str) -> str:
    return f"credit_attachment.content:{repair_id}:{role}:{digest}"


def open_attachment(session: Session, attachment: CreditAttachment, secret: str) -> bytes:
    """The file's bytes; the caller has checked the right and written the query log."""
    content = unseal_bytes(
        file_key(session, secret),
        attachment.content_sealed,
        _context(attachment.repair_id, attachment.role, attachment.sha256),
    )
    if hashlib.sha256(content).hexdigest() != attachment.sha256:
        raise ServiceError("attachment", "附件校验值不符")
    return content


def attachments_of(session: Session, repair_id: int) -> list[CreditAttachment]:
    return list(
        session.exec(
            select(CreditAttachment)
            .where(CreditAttachment.repair_id == repair_id)
            .order_by(col(CreditAttachment.id))
        )
    )


# --- applying and deciding -------------------------------------------------------------------


def apply_credit_repair(
    session: Session,
    act: Act,
    *,
    item_id: int | None,
    listing_id: int | None = None,
    applicant: str,
    applied_on: date,
    correction: str,
    attachments: Sequence[Upload | tuple[str, str, str, bytes]],
    secret: str,
) -> CreditRepair:
    """A repair application (Art. 25-26) on a bad item (or a blacklist listing): the
    conditions of Art. 25 (1) and (3) are checked now, the statement of (2) is required,
    and the three papers of Art. 26 must all be there (``attachments``: ``Upload`` or
    ``(role, filename, content_type, bytes)``). One pending application per item."""
    target = _target(session, item_id, listing_id)
    item = target.item
    applicant = checked_text("applicant", applicant, 64)
    if not applicant:
        raise ServiceError("applicant", "请填写申请人（不超过 64 个字）")
    correction = checked_text("correction", correction, 4000)
    if len(correction) < 4 or len(correction) > 4000:
        raise ServiceError(
            "correction", "请说明纠正失信行为、履行义务和消除不良影响的情况（4 至 4000 字）"
        )
    if applied_on > china_day(act):
        raise ServiceError("applied_on", "申请日期不能晚于今天")
    waiting = session.exec(
        select(CreditRepair.id)
        .where(CreditRepair.item_id == item.id)
        .where(col(CreditRepair.state).in_(("pending", "approved")))
    ).first()
    if waiting is not None:
        raise ServiceError("item_id", "该失信信息已有信用修复申请（待审核或已修复）")
    check_conditions(session, target, applied_on)
    uploads = [a if isinstance(a, Upload) else Upload(*a) for a in attachments]
    if len(uploads) > MAX_FILES:
        raise ServiceError("attachments", f"附件不超过 {MAX_FILES} 个")
    checked = [(u, *check_upload(u)) for u in uploads]
    for role, label in ROLES_ZH.items():
        if not any(u.role == role for u in uploads):
            raise ServiceError(f"attachment_{role}", f"缺少{label}（湖南信用办法第二十六条）")
    repair = CreditRepair(
        item_id=item.id,
        listing_id=target.listing.id if target.listing else None,
        subject_kind=item.subject_kind,
        subject_key=item.subject_key,
        applicant=applicant,
        applied_on=applied_on,
        correction=correction,
        state="pending",
        **act.stamp(),
    )
    session.add(repair)
    session.flush()
    key = file_key(session, secret)
    for upload, name, kind in checked:
        digest = hashlib.sha256(upload.content).hexdigest()
        session.add(
            CreditAttachment(
                repair_id=repair.id or 0,
                role=upload.role,
                filename=name,
                content_type=kind,
                size=len(upload.content),
                sha256=digest,
                content_sealed=seal_bytes(
                    key, upload.content, _context(repair.id or 0, upload.role, digest)
                ),
                **act.stamp(),
            )
        )
    session.flush()
    audit(
        session,
        act,
        "apply_credit_repair",
        "credit_repair",
        repair.id,
        item=item.id,
        listing=repair.listing_id,
        attachments=[
            {"role": u.role, "name": n, "type": k, "size": len(u.content)} for u, n, k in checked
        ],
    )
    return repair


def document_no_for(repair: CreditRepair, decided_on: date) -> str:
    """The decision's number, in a series like the notices': 医保信用修复〔2026〕000003号."""
    return f"医保信用修复〔{decided_on.year}〕{repair.id or 0:06d}号"


def get_repair(session: Session, repair_id: int) -> CreditRepair:
    found = session.get(CreditRepair, repair_id)
    if found is None:
        raise NotFound("repair_id", f"未找到信用修复申请 {repair_id}")
    return found


def decide_credit_repair(
    session: Session,
    act: Act,
    repair_id: int,
    *,
    approved: bool,
    reasons: str,
    decided_on: date,
    harm_removed: bool = False,
) -> CreditRepair:
    """The written decision (Art. 27): approval when the conditions of Art. 25 still hold
    and the officer confirms the harm is essentially removed (``harm_removed``, RULES §8
    "Repair decision"); a refusal must give its reasons. No day limit ("及时")."""
    repair = session.get(CreditRepair, repair_id, with_for_update=True)
    if repair is None:
        raise NotFound("repair_id", f"未找到信用修复申请 {repair_id}")
    if repair.state != "pending":
        raise ServiceError("repair_id", "该信用修复申请已作出决定")
    reasons = checked_text("reasons", reasons, 4000)
    if decided_on < repair.applied_on:
        raise ServiceError("decided_on", "决定日期不能早于申请日期")
    if decided_on > china_day(act):
        raise ServiceError("decided_on", "决定日期不能晚于今天")
    if approved:
        if not harm_removed:
            raise ServiceError(
                "harm_removed",
                "准予修复前请确认失信行为已纠正、不良影响已基本消除"
                "（湖南信用办法第二十五条第二项）",
            )
        check_conditions(session, _target(session, repair.item_id, repair.listing_id), decided_on)
        reasons = reasons or "符合湖南信用办法第二十五条规定的信用修复条件"
    elif len(reasons) < 4:
        raise ServiceError("reasons", "不予修复的，请写明理由（至少 4 个字）")
    before = {"state": repair.state}
    repair.state = "approved" if approved else "refused"
    repair.decision_reasons = reasons
    repair.decided_by = act.actor
    repair.decided_on = decided_on
    repair.document_no = document_no_for(repair, decided_on)
    session.add(repair)
    audit(
        session,
        act,
        "decide_credit_repair",
        "credit_repair",
        repair.id,
        before=before,
        after={
            "state": repair.state,
            "document_no": repair.document_no,
            "harm_removed": harm_removed,
        },
    )
    if approved and repair.item_id is not None:  # a repaired item no longer counts (Art. 19)
        from portal.services.credit_evaluation import item_changed

        repaired = session.get(CreditItem, repair.item_id)
        if repaired is not None:
            item_changed(session, act, repaired)
    if approved and repair.listing_id is not None:
        # The repaired item is a blacklist listing's: its publication ends everywhere
        # (state repaired, a "repaired" blacklist event for the page, the feeds and the
        # credit-sharing push; Art. 27).
        from portal.services import blacklist

        blacklist.end_publication(session, act, repair.listing_id, "repaired", decided_on)
    return repair


def repaired_on(session: Session, item_ids: list[int]) -> dict[int, date]:
    """Items with an approved repair and its day: the archive marks them
    :func:`repair_mark` and their publication ends (Art. 27)."""
    if not item_ids:
        return {}
    rows = session.exec(
        select(CreditRepair)
        .where(CreditRepair.state == "approved")
        .where(col(CreditRepair.item_id).in_(item_ids))
    ).all()
    return {r.item_id: r.decided_on for r in rows if r.item_id and r.decided_on}


def repairs(session: Session, state: str | None = None) -> list[CreditRepair]:
    query = select(CreditRepair).order_by(col(CreditRepair.id).desc())
    if state:
        query = query.where(CreditRepair.state == state)
    return list(session.exec(query))


def subject_of(session: Session, repair: CreditRepair) -> str:
    """The subject's name, for lists and documents."""
    try:
        return subject_ref(session, repair.subject_kind, repair.subject_key).name
    except NotFound:
        return repair.subject_key


def decision_document(session: Session, repair: CreditRepair) -> bytes:
    """The written decision as a PDF (Art. 27), from the decided application."""
    from portal.services.credit_documents import RepairDecision, repair_decision_pdf
    from portal.services.credit_objections import item_label

    if repair.state == "pending" or repair.decided_on is None:
        raise ServiceError("repair_id", "该信用修复申请尚未作出决定")
    approved = repair.state == "approved"
    item = session.get(CreditItem, repair.item_id) if repair.item_id else None
    return repair_decision_pdf(
        RepairDecision(
            document_no=repair.document_no,
            applicant=repair.applicant,
            subject=f"{subject_of(session, repair)}（{repair.subject_key}）",
            item=item_label(item),
            applied_on=repair.applied_on,
            approved=approved,
            reasons=repair.decision_reasons,
            mark=repair_mark(repair.decided_on) if approved else "",
            decided_on=repair.decided_on,
        )
    )
