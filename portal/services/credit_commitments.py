"""Credit commitments (Hunan-Credit Art. 9-12): templates, signing, fulfilment.

A template is versioned per subject kind: a new version is a new row (the old stays, so
what a subject signed can always be read). A signature stores the text as signed. Its
fulfilment is recorded once, kept or breached (Art. 9: 履约情况记入信用档案); a breach writes
a bad item (category ``commitment``, indicator ``commitment_broken``), which the deduction
module counts. All three tables are append-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from portal.credit_models import (
    CreditCommitment,
    CreditCommitmentEvent,
    CreditCommitmentTemplate,
)
from portal.services import credit_archive
from portal.services.errors import NotFound, ServiceError, checked_text
from portal.services.registry import Act, audit

OUTCOME_ZH = {"kept": "已履行", "breached": "未履行（违反承诺）"}
BREACH_INDICATOR = "commitment_broken"
TEXT_LONGEST = 20000  # a commitment letter as signed


def create_template(
    session: Session, act: Act, *, subject_kind: str, title: str, text: str
) -> CreditCommitmentTemplate:
    """A new version of the commitment letter for a kind of subject (Art. 10-12)."""
    if subject_kind not in credit_archive.KIND_ZH:
        raise ServiceError("subject_kind", "请选择适用的信用主体类型")
    if not title.strip() or len(title.strip()) > 200:
        raise ServiceError("title", "请填写承诺书标题（不超过 200 字）")
    checked_text("title", title, 200)
    checked_text("text", text, TEXT_LONGEST)
    if len(text.strip()) < 10:
        raise ServiceError("text", "请填写承诺书正文（至少 10 字）")
    last = session.exec(
        select(func.max(CreditCommitmentTemplate.version)).where(
            CreditCommitmentTemplate.subject_kind == subject_kind
        )
    ).one()
    template = CreditCommitmentTemplate(
        subject_kind=subject_kind, version=int(last or 0) + 1, title=title.strip(),
        text=text.strip(), **act.stamp(),
    )  # fmt: skip
    session.add(template)
    session.flush()
    audit(session, act, "commitment_template_create", "credit_commitment_template", template.id,
          kind=subject_kind, version=template.version)  # fmt: skip
    return template


def templates(session: Session, subject_kind: str | None = None) -> list[CreditCommitmentTemplate]:
    """Every template version, newest first per kind."""
    query = select(CreditCommitmentTemplate).order_by(
        col(CreditCommitmentTemplate.subject_kind), col(CreditCommitmentTemplate.version).desc()
    )
    if subject_kind is not None:
        query = query.where(CreditCommitmentTemplate.subject_kind == subject_kind)
    return list(session.exec(query))


def latest_templates(session: Session, subject_kind: str) -> list[CreditCommitmentTemplate]:
    rows = templates(session, subject_kind)
    return rows[:1]


def sign(
    session: Session,
    act: Act,
    *,
    subject_kind: str,
    subject_key: str,
    template_id: int,
    signed_by: str,
    signed_on: date,
    signed_text: str | None = None,
) -> CreditCommitment:
    """Record a signed commitment (Art. 9-12): the text exactly as signed (the template's,
    unless the signed paper differs), who signed and when."""
    try:
        found = credit_archive.subject(session, subject_kind, subject_key)
    except NotFound as exc:
        raise ServiceError("subject_key", exc.message) from exc
    template = session.get(CreditCommitmentTemplate, template_id)
    if template is None:
        raise ServiceError("template_id", "请选择承诺书模板")
    if template.subject_kind != found.kind:
        raise ServiceError("template_id", "该模板不适用于此类信用主体")
    if not signed_by.strip() or len(signed_by.strip()) > 64:
        raise ServiceError("signed_by", "请填写签署人（不超过 64 字）")
    checked_text("signed_by", signed_by, 64)
    if not isinstance(signed_on, date) or signed_on > act.at.date():
        raise ServiceError("signed_on", "签署日期不能晚于今天")
    text = checked_text(
        "signed_text", signed_text if signed_text is not None else template.text, TEXT_LONGEST
    )
    if not text:
        raise ServiceError("signed_text", "请填写所签署的承诺内容")
    commitment = CreditCommitment(
        subject_kind=found.kind, subject_key=found.key, template_id=template.id or 0,
        signed_text=text, signed_by=signed_by.strip(), signed_on=signed_on, **act.stamp(),
    )  # fmt: skip
    session.add(commitment)
    session.flush()
    audit(session, act, "commitment_sign", "credit_commitment", commitment.id,
          subject=f"{found.kind}:{found.key}", template=template.id)  # fmt: skip
    return commitment


def record_fulfilment(
    session: Session, act: Act, commitment_id: int, *, outcome: str, on: date, detail: str = ""
) -> CreditCommitmentEvent:
    """Kept or breached (Art. 9). A breach writes a bad item in the archive (category
    ``commitment``, Art. 14(八); indicator ``commitment_broken``) that the deduction module
    counts; the event names it."""
    commitment = session.get(CreditCommitment, commitment_id)
    if commitment is None:
        raise NotFound("commitment_id", f"未找到信用承诺 {commitment_id}")
    if outcome not in OUTCOME_ZH:
        raise ServiceError("outcome", "请选择已履行或未履行")
    detail = checked_text("detail", detail, 4000)
    if not isinstance(on, date) or on < commitment.signed_on or on > act.at.date():
        raise ServiceError("on", "认定日期应在签署日期之后、不晚于今天")
    earlier = session.exec(
        select(CreditCommitmentEvent.id).where(CreditCommitmentEvent.commitment_id == commitment_id)
    ).first()
    if earlier is not None:
        raise ServiceError("outcome", "该承诺的履行情况已记录")
    item_id = None
    if outcome == "breached":
        template = session.get(CreditCommitmentTemplate, commitment.template_id)
        title = f"违反信用承诺：{template.title if template else ''}"[:200]
        item = credit_archive.record_item(
            session, act, subject_kind=commitment.subject_kind,
            subject_key=commitment.subject_key, category="commitment", polarity="bad",
            public=False, source="supervision", title=title, occurred_on=on, detail=detail,
            indicator=BREACH_INDICATOR, origin=f"commitment:{commitment.id}",
        )  # fmt: skip
        item_id = item.id
    event = CreditCommitmentEvent(
        commitment_id=commitment_id, outcome=outcome, on=on, item_id=item_id, **act.stamp()
    )
    session.add(event)
    session.flush()
    audit(session, act, f"commitment_{outcome}", "credit_commitment_event", event.id,
          commitment=commitment_id, item=item_id)  # fmt: skip
    return event


@dataclass(frozen=True)
class CommitmentView:
    commitment: CreditCommitment
    template: CreditCommitmentTemplate | None
    event: CreditCommitmentEvent | None

    @property
    def outcome_zh(self) -> str:
        return OUTCOME_ZH.get(self.event.outcome, "") if self.event else "待认定"


def commitments_of(session: Session, subject_kind: str, subject_key: str) -> list[CommitmentView]:
    """A subject's commitments with their template and fulfilment, newest first."""
    rows = list(
        session.exec(
            select(CreditCommitment)
            .where(CreditCommitment.subject_kind == subject_kind)
            .where(CreditCommitment.subject_key == subject_key)
            .order_by(col(CreditCommitment.id).desc())
        )
    )
    ids = [r.id for r in rows]
    events = {
        e.commitment_id: e
        for e in session.exec(
            select(CreditCommitmentEvent).where(col(CreditCommitmentEvent.commitment_id).in_(ids))
        )
    } if ids else {}  # fmt: skip
    return [
        CommitmentView(
            r, session.get(CreditCommitmentTemplate, r.template_id), events.get(r.id or 0)
        )
        for r in rows
    ]
