"""Credit repair (Hunan-Credit Art. 25-27): the conditions, the papers and their checks,
sealed attachments, the written approval or refusal."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from portal.credit_models import CreditAttachment, CreditItem
from portal.crypto import SealError
from portal.services import credit_repairs as repairs
from portal.services.errors import ServiceError
from portal.services.registry import Act
from tests.portal.conftest import SECRET, Cast
from tests.portal.test_credit_objections import bad_item, text_of

CREDIT = Act("credit-chen", datetime(2026, 9, 1, 2, 0, tzinfo=UTC), "信用管理")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
EXE = b"MZ\x90\x00" + b"\x00" * 32


def papers(**override: tuple[str, str, str, bytes] | None) -> list[tuple[str, str, str, bytes]]:
    chosen = {
        "application_form": ("application_form", "申请表.pdf", "application/pdf", PDF),
        "commitment_letter": ("commitment_letter", "承诺书.png", "image/png", PNG),
        "proof": ("proof", "整改材料.jpg", "image/jpeg", JPEG),
    }
    chosen.update(override)  # type: ignore[arg-type]
    return [p for p in chosen.values() if p is not None]


def apply(session: Session, item: CreditItem, **kw: object) -> object:
    values: dict[str, object] = {
        "item_id": item.id, "applicant": "张伟", "applied_on": date(2026, 3, 10),
        "correction": "已退回违规费用并完成整改", "attachments": papers(), "secret": SECRET, **kw,
    }  # fmt: skip
    return repairs.apply_credit_repair(session, CREDIT, **values)  # type: ignore[arg-type]


def test_minimum_period_three_months_and_one_year_for_the_blacklist(
    session: Session, cast: Cast
) -> None:
    item = bad_item(session, cast.doctor, occurred_on=date(2025, 12, 11))
    with pytest.raises(ServiceError, match=r"最短公示期.*2026-03-11"):
        apply(session, item)
    listed = bad_item(session, cast.nurse, category="dishonest_list", serious=True,
                      occurred_on=date(2025, 6, 1))  # fmt: skip
    assert repairs.minimum_months(listed) == 12
    with pytest.raises(ServiceError, match=r"12 个月.*2026-06-01"):
        apply(session, listed)
    assert apply(session, listed, applied_on=date(2026, 6, 1)).state == "pending"  # type: ignore[attr-defined]


def test_new_bad_record_during_publication_refuses(session: Session, cast: Cast) -> None:
    item = bad_item(session, cast.doctor)
    bad_item(session, cast.doctor, title="协议处理：约谈", occurred_on=date(2025, 10, 1))
    with pytest.raises(ServiceError, match=r"新增不良信用记录.*第二十五条第三项"):
        apply(session, item)


def test_the_three_papers_are_required(session: Session, cast: Cast) -> None:
    item = bad_item(session, cast.doctor)
    with pytest.raises(ServiceError, match="缺少信用承诺书") as refused:
        apply(session, item, attachments=papers(commitment_letter=None))
    assert refused.value.field == "attachment_commitment_letter"
    with pytest.raises(ServiceError, match="请说明"):
        apply(session, item, correction="")


def test_attachment_types_by_their_bytes_and_size(session: Session, cast: Cast) -> None:
    item = bad_item(session, cast.doctor)
    for content in (PNG, EXE):
        fake = ("proof", "整改材料.pdf", "application/pdf", content)
        with pytest.raises(ServiceError, match=r"整改材料\.pdf"):
            apply(session, item, attachments=papers(proof=fake))
    exe = ("proof", "run.exe", "application/octet-stream", EXE)
    with pytest.raises(ServiceError, match="不是 PDF、PNG 或 JPEG"):
        apply(session, item, attachments=papers(proof=exe))
    big = ("proof", "big.pdf", "application/pdf", PDF + b"0" * repairs.MAX_BYTES)
    with pytest.raises(ServiceError, match="超过 10 MB"):
        apply(session, item, attachments=papers(proof=big))


def test_attachments_sealed_with_their_digest(session: Session, cast: Cast) -> None:
    repair = apply(session, bad_item(session, cast.doctor))
    stored = repairs.attachments_of(session, repair.id)  # type: ignore[attr-defined]
    assert [a.role for a in stored] == ["application_form", "commitment_letter", "proof"]
    form = stored[0]
    assert isinstance(form, CreditAttachment) and PDF not in form.content_sealed
    assert form.sha256 == hashlib.sha256(PDF).hexdigest() and form.size == len(PDF)
    assert repairs.open_attachment(session, form, SECRET) == PDF
    assert stored[1].content_type == "image/png"


def test_approval_marks_the_item_repaired(session: Session, cast: Cast) -> None:
    item = bad_item(session, cast.doctor)
    repair = apply(session, item)
    with pytest.raises(ServiceError, match="不良影响已基本消除"):
        repairs.decide_credit_repair(
            session,
            CREDIT,
            repair.id,
            approved=True,
            reasons="",  # type: ignore[attr-defined]
            decided_on=date(2026, 3, 20),
        )
    done = repairs.decide_credit_repair(
        session,
        CREDIT,
        repair.id,
        approved=True,
        reasons="",  # type: ignore[attr-defined]
        decided_on=date(2026, 3, 20),
        harm_removed=True,
    )
    assert done.state == "approved" and done.document_no.startswith("医保信用修复〔2026〕")
    assert repairs.repaired_on(session, [item.id or 0]) == {item.id: date(2026, 3, 20)}
    assert repairs.repair_mark(date(2026, 3, 20)) == "2026年03月20日修复"
    with pytest.raises(ServiceError, match="已有信用修复申请"):
        apply(session, item)
    text = text_of(repairs.decision_document(session, done))
    assert "信用修复决定书" in text and "2026年03月20日修复" in text


def test_refusal_needs_reasons_and_prints_them(session: Session, cast: Cast) -> None:
    repair = apply(session, bad_item(session, cast.doctor))
    with pytest.raises(ServiceError, match="写明理由"):
        repairs.decide_credit_repair(
            session,
            CREDIT,
            repair.id,
            approved=False,
            reasons="",  # type: ignore[attr-defined]
            decided_on=date(2026, 3, 20),
        )
    refused = repairs.decide_credit_repair(
        session, CREDIT, repair.id, approved=False, reasons="违规费用尚未全部退回",  # type: ignore[attr-defined]
        decided_on=date(2026, 3, 20),
    )  # fmt: skip
    assert refused.state == "refused"
    assert repairs.repaired_on(session, [refused.item_id or 0]) == {}
    text = text_of(repairs.decision_document(session, refused))
    assert "不予信用修复决定书" in text and "违规费用尚未全部退回" in text


def test_a_listed_item_is_repaired_with_its_listing(session: Session, cast: Cast) -> None:
    from portal.credit_models import BlacklistListing
    from portal.services import credit_objections as objections

    item = bad_item(session, cast.doctor, category="dishonest_list", serious=True,
                    occurred_on=date(2025, 1, 10))  # fmt: skip
    listing = BlacklistListing(
        subject_kind="practitioner", subject_key=cast.doctor, name="张伟", region="430102",
        item_id=item.id, grounds="终止医保支付资格", basis="湖南信用办法第三十三条",
        authority="长沙市医疗保障局", state="listed", proposed_on=date(2025, 1, 2),
        listed_on=date(2025, 1, 20), **CREDIT.stamp(),
    )  # fmt: skip
    session.add(listing)
    session.flush()
    with pytest.raises(ServiceError, match=r"12 个月.*2026-01-20"):
        apply(session, item, applied_on=date(2026, 1, 15))  # a year from the listing decision
    repair = apply(session, item, applied_on=date(2026, 1, 20))
    assert repair.listing_id == listing.id  # type: ignore[attr-defined]
    objections.file_objection(
        session, CREDIT, item_id=item.id, subject_kind="practitioner", subject_key=cast.doctor,
        ground="infringed", statement="公示范围超出规定", applicant="张伟",
        filed_on=date(2026, 1, 21),
    )  # fmt: skip
    assert objections.listings_under_objection(session, [listing.id or 0]) == {listing.id}


def test_approving_a_listing_s_repair_ends_its_publication_everywhere(
    session: Session, cast: Cast
) -> None:
    """Art. 27: the listing becomes ``repaired`` and a ``repaired`` event is what the public
    page, the feeds and the credit-sharing push read."""
    from sqlmodel import select

    from portal.credit_models import BlacklistEvent, BlacklistListing
    from portal.services import blacklist

    item = bad_item(session, cast.doctor, category="dishonest_list", serious=True,
                    occurred_on=date(2025, 1, 20))  # fmt: skip
    listing = BlacklistListing(
        subject_kind="practitioner", subject_key=cast.doctor, name="张伟", region="430102",
        item_id=item.id, grounds="终止医保支付资格", basis="湖南信用办法第三十三条",
        authority="长沙市医疗保障局", state="listed", proposed_on=date(2025, 1, 2),
        listed_on=date(2025, 1, 20), publish_until=date(2028, 1, 20), **CREDIT.stamp(),
    )  # fmt: skip
    session.add(listing)
    session.flush()
    repair = apply(session, item, applied_on=date(2026, 1, 20))
    repairs.decide_credit_repair(
        session, CREDIT, repair.id, approved=True, reasons="",  # type: ignore[attr-defined]
        decided_on=date(2026, 2, 2), harm_removed=True,
    )  # fmt: skip
    session.refresh(listing)
    assert listing.state == "repaired" and listing.ended_on == date(2026, 2, 2)
    events = session.exec(
        select(BlacklistEvent).where(BlacklistEvent.listing_id == listing.id)
    ).all()
    assert [(e.type, e.effective_on) for e in events] == [("repaired", date(2026, 2, 2))]
    assert blacklist.repaired_mark(date(2026, 2, 2)) == "2026年02月02日修复"


def test_attachments_still_open_after_a_new_secret(session: Session, cast: Cast) -> None:
    """Attachments are append-only: a new secret re-seals their data key, not each file."""
    from portal.services.secrets import rotate

    repair = apply(session, bad_item(session, cast.doctor))
    session.commit()
    new_secret = "another-secret-for-the-attachments"
    rotate(session.get_bind(), SECRET, new_secret)  # type: ignore[arg-type]
    session.expire_all()
    form = repairs.attachments_of(session, repair.id)[0]  # type: ignore[arg-type]
    assert repairs.open_attachment(session, form, new_secret) == PDF
    with pytest.raises(SealError):
        repairs.open_attachment(session, form, SECRET)
