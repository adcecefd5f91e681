"""Credit-management tables beyond the annual run (Hunan-Credit Art. 3, 9-16, 18, 22, 24-27,
33-35; RULES §8). Imported by :mod:`portal.models`, so one metadata holds every table.

A subject is named everywhere by ``(subject_kind, subject_key)``, as ``credit_result`` does:
practitioners by national code and registry institutions by institution code (they are
subjects without re-entry); other subjects (``credit_subject``) by the key made for them
(institutions: the Unified Social Credit Code; individuals: ``P`` + a keyed hash of the
ID / exit-entry document number, never the number itself).

Append-only (UPDATE, DELETE, REPLACE refused by the database, migration 0010):
``credit_item``, ``credit_commitment_template``, ``credit_commitment``,
``credit_commitment_event``, ``credit_attachment``, ``blacklist_event``,
``credit_change_notice``. Workflow rows (``credit_subject``, ``credit_catalogue`` while a
draft, ``credit_objection``, ``credit_repair``, ``blacklist_listing``) change state in place,
every change in the audit log; a published catalogue is frozen by the database.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.models import Recorded

# The kinds of subject (Art. 3). Institutions: the six kinds; individuals: the three.
INSTITUTION_KINDS = (
    "designated_hospital",  # 定点医疗机构
    "designated_pharmacy",  # 定点零售药店
    "insured_employer",  # 参保单位
    "third_party_agency",  # 第三方服务机构
    "pharma_company",  # 医药企业
    "other_institution",  # 其他机构
)
INDIVIDUAL_KINDS = (
    "practitioner",  # 医保相关人员 (定点医药机构的相关人员)
    "insured_person",  # 参保人
    "other_individual",  # 其他个人
)
SUBJECT_KINDS = INSTITUTION_KINDS + INDIVIDUAL_KINDS

# One Chinese name per kind (RULES §1), from the database to every page.
HOSPITAL_DOCTOR = "hospital_doctor"  # a catalogue kind: 定点医疗机构医保医师 (Hunan-Rules Art. 17)
SUBJECT_KIND_ZH = {
    "designated_hospital": "定点医疗机构",
    "designated_pharmacy": "定点零售药店",
    "insured_employer": "参保单位",
    "third_party_agency": "第三方服务机构",
    "pharma_company": "医药企业",
    "other_institution": "其他机构",
    "practitioner": "医保相关人员",
    "insured_person": "参保人",
    "other_individual": "其他个人",
    HOSPITAL_DOCTOR: "定点医疗机构医保医师",
}

# The twelve categories of credit information (Art. 14 (一)-(十二)).
CATEGORIES = (
    "registration",  # (一) 登记注册基本信息
    "qualification",  # (二) 资质资格、职称和职业资格
    "administrative",  # (三) 行政管理信息
    "judicial",  # (四) 司法裁判及执行信息
    "abnormal_operation",  # (五) 经营（活动）异常名录（状态）
    "evaluation_result",  # (六) 信用评价结果
    "agreement",  # (七) 行政约定及其履行（医疗服务协议）
    "commitment",  # (八) 信用承诺及其履行
    "violation",  # (九) 违反法律法规情况
    "honour",  # (十) 诚实守信相关荣誉
    "dishonest_list",  # (十一) 失信主体名单
    "other",  # (十二) 其他公共信用信息
)
# The ways information is gathered (Art. 16 (一)-(五)).
SOURCES = (
    "self_reported",  # (一) 信用主体提供
    "supervision",  # (二) 医疗保障部门认定（智能审核、监控、日常监管、专项行动）
    "shared_platform",  # (三) 公共信用信息平台等数据共享
    "business_system",  # (四) 医保信息系统采集
    "other",  # (五) 其他符合规定的途径
)


class CreditSubject(Recorded, table=True):
    """A subject outside the registry (Art. 3, 13, 15): insured employers, agencies,
    companies, insured persons... ``document_type``: credit_code | resident_id | exit_entry.
    Individuals' numbers are sealed (AES-GCM, context ``credit_subject.document:<key>``)
    with a keyed hash for exact search, as practitioners' ID numbers are."""

    __tablename__ = "credit_subject"
    __table_args__ = (UniqueConstraint("subject_kind", "subject_key"),)
    id: int | None = Field(default=None, primary_key=True)
    subject_kind: str = Field(max_length=24)
    subject_key: str = Field(max_length=32, index=True)
    name: str = Field(max_length=200, index=True)
    region: str = Field(max_length=6, index=True)
    document_type: str = Field(max_length=16)
    document_digest: str = Field(default="", max_length=64, index=True)
    document_sealed: str | None = Field(default=None, sa_type=Text)
    legal_representative: str = Field(default="", max_length=64)  # institutions (Art. 15)


class CreditItem(Recorded, table=True):
    """One piece of credit information in a subject's archive (Art. 13-16). Append-only: a
    change is a new row whose ``supersedes_id`` names the row it replaces (``withdrawn``:
    the replacement removes the item). ``polarity``: good | bad; ``public`` (Art. 4);
    ``origin``: where it came from, unique when set (``ledger:<entry id>``,
    ``import:<sha256>:<line>``...) so the same source never arrives twice; ``indicator``:
    the catalogue indicator it feeds, if any; ``serious``: serious dishonesty (Art. 33)."""

    __tablename__ = "credit_item"
    __table_args__ = (
        Index("ix_credit_item_subject", "subject_kind", "subject_key"),
        UniqueConstraint("origin"),
    )
    id: int | None = Field(default=None, primary_key=True)
    subject_kind: str = Field(max_length=24)
    subject_key: str = Field(max_length=32)
    category: str = Field(max_length=24)
    polarity: str = Field(max_length=4)  # good | bad
    public: bool = False
    serious: bool = False
    source: str = Field(max_length=24)
    source_unit: str = Field(default="", max_length=200)
    title: str = Field(max_length=200)
    detail: str = Field(default="", sa_type=Text)
    occurred_on: date
    indicator: str = Field(default="", max_length=32)
    origin: str | None = Field(default=None, max_length=120)
    supersedes_id: int | None = Field(default=None, foreign_key="credit_item.id")
    withdrawn: bool = False


class CreditCommitmentTemplate(Recorded, table=True):
    """A commitment letter template (Art. 10-12), versioned per subject kind: a new version
    is a new row."""

    __tablename__ = "credit_commitment_template"
    id: int | None = Field(default=None, primary_key=True)
    subject_kind: str = Field(max_length=24)
    version: int
    title: str = Field(max_length=200)
    text: str = Field(sa_type=Text)


class CreditCommitment(Recorded, table=True):
    """A signed commitment (Art. 9-12): the text as signed, who signed, on which day."""

    __tablename__ = "credit_commitment"
    __table_args__ = (Index("ix_credit_commitment_subject", "subject_kind", "subject_key"),)
    id: int | None = Field(default=None, primary_key=True)
    subject_kind: str = Field(max_length=24)
    subject_key: str = Field(max_length=32)
    template_id: int = Field(foreign_key="credit_commitment_template.id")
    signed_text: str = Field(sa_type=Text)
    signed_by: str = Field(max_length=64)
    signed_on: date


class CreditCommitmentEvent(Recorded, table=True):
    """Fulfilment of a commitment (Art. 9): ``outcome`` kept | breached on ``on``; a breach
    names the bad ``credit_item`` it made (category ``commitment``, indicator
    ``commitment_broken``), which feeds the deduction module."""

    __tablename__ = "credit_commitment_event"
    id: int | None = Field(default=None, primary_key=True)
    commitment_id: int = Field(foreign_key="credit_commitment.id", index=True)
    outcome: str = Field(max_length=12)
    on: date
    item_id: int | None = Field(default=None, foreign_key="credit_item.id")


class CreditCatalogue(SQLModel, table=True):
    """A version of the indicator catalogue for a year and subject kind (Art. 18;
    ``subject_kind`` ``hospital_doctor`` is the doctors' own catalogue, Hunan-Rules Art. 17).
    ``body``: JSON ``{"bonus": [...], "deductions": [...]}`` as in the ruleset file. A draft
    is edited in place (audited); ``published`` is frozen by the database. ``is_default``:
    the shipped default from ``hunan-credit-2024.yaml``."""

    __tablename__ = "credit_catalogue"
    __table_args__ = (UniqueConstraint("year", "subject_kind", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    year: int
    subject_kind: str = Field(max_length=24)
    version: int
    state: str = Field(max_length=12)  # draft | published
    is_default: bool = False
    body: str = Field(sa_type=Text)
    created_by: str = Field(max_length=64)
    created_at: datetime
    published_by: str = Field(default="", max_length=64)
    published_at: datetime | None = None


class CreditObjection(Recorded, table=True):
    """An objection to an item of credit information (Art. 24). ``ground``: wrong | missing
    | infringed; due in 3 working days from ``filed_on``, or 5 when ``other_unit`` must
    check. ``state``: open | upheld | rejected; the written answer (PDF) from ``answer``."""

    __tablename__ = "credit_objection"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int | None = Field(default=None, foreign_key="credit_item.id", index=True)
    subject_kind: str = Field(max_length=24)
    subject_key: str = Field(max_length=32, index=True)
    ground: str = Field(max_length=12)
    statement: str = Field(sa_type=Text)
    applicant: str = Field(max_length=64)
    filed_on: date
    other_unit: bool = False
    due_on: date
    state: str = Field(max_length=12, index=True)
    answer: str = Field(default="", sa_type=Text)
    answered_by: str = Field(default="", max_length=64)
    answered_on: date | None = None
    document_no: str = Field(default="", max_length=64)
    correction_item_id: int | None = Field(default=None, foreign_key="credit_item.id")


class CreditRepair(Recorded, table=True):
    """A credit repair application (Art. 25-27) on a bad item or a listing. ``state``:
    pending | approved | refused; the written decision carries ``decision_reasons``."""

    __tablename__ = "credit_repair"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int | None = Field(default=None, foreign_key="credit_item.id", index=True)
    listing_id: int | None = Field(default=None, foreign_key="blacklist_listing.id")
    subject_kind: str = Field(max_length=24)
    subject_key: str = Field(max_length=32, index=True)
    applicant: str = Field(max_length=64)
    applied_on: date
    correction: str = Field(sa_type=Text)  # what was corrected, how the harm was removed
    state: str = Field(max_length=12, index=True)
    decision_reasons: str = Field(default="", sa_type=Text)
    decided_by: str = Field(default="", max_length=64)
    decided_on: date | None = None
    document_no: str = Field(default="", max_length=64)


class CreditAttachment(Recorded, table=True):
    """A file given with a repair application (Art. 26): ``role`` application_form |
    commitment_letter | proof. The bytes are sealed (AES-GCM) and served only to those with
    the right, each view in the query log."""

    __tablename__ = "credit_attachment"
    id: int | None = Field(default=None, primary_key=True)
    repair_id: int = Field(foreign_key="credit_repair.id", index=True)
    role: str = Field(max_length=20)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    content_sealed: bytes = Field(sa_type=LargeBinary)


class BlacklistListing(Recorded, table=True):
    """A (proposed) listing as seriously dishonest (Art. 33-35; Hunan-Rules Art. 17, 19).
    ``state``: proposed → noticed (prior notice, 5 working days to object) → listed (the
    listing decision, 认定之日 ``listed_on``; published until ``publish_until``, 3 years,
    RULES I-19) → repaired | removed; or withdrawn. ``origin`` (unique when set) names
    what proposed it (``decision:<id>`` for a terminated practitioner, listed within 20
    working days: ``due_on``). ``related_listing_id``: the institution's listing for a
    person of Art. 33(4), barred until ``bar_until`` (5 years)."""

    __tablename__ = "blacklist_listing"
    __table_args__ = (
        Index("ix_blacklist_listing_subject", "subject_kind", "subject_key"),
        UniqueConstraint("origin"),
    )
    id: int | None = Field(default=None, primary_key=True)
    subject_kind: str = Field(max_length=24)
    subject_key: str = Field(max_length=32)
    name: str = Field(max_length=200)
    region: str = Field(max_length=6, index=True)
    role: str = Field(default="", max_length=24)  # Art. 33(4): legal_representative...
    related_listing_id: int | None = Field(default=None, foreign_key="blacklist_listing.id")
    item_id: int | None = Field(default=None, foreign_key="credit_item.id")
    origin: str | None = Field(default=None, max_length=120)
    grounds: str = Field(sa_type=Text)  # 事由
    basis: str = Field(sa_type=Text)  # 依据
    measures: str = Field(default="", sa_type=Text)  # 失信惩戒措施提示
    authority: str = Field(max_length=200)  # the listing authority
    state: str = Field(max_length=12, index=True)
    proposed_on: date
    due_on: date | None = None
    notice_no: str = Field(default="", max_length=64)
    noticed_on: date | None = None
    objection_due_on: date | None = None
    objection: str = Field(default="", sa_type=Text)
    objection_on: date | None = None  # the day the objection was received (Art. 35)
    objection_answer: str = Field(default="", sa_type=Text)
    document_no: str = Field(default="", max_length=64)
    listed_on: date | None = None
    publish_until: date | None = None
    bar_until: date | None = None
    ended_on: date | None = None


class BlacklistEvent(SQLModel, table=True):
    """One public change of the blacklist (the feed, the credit-sharing push). Append-only.
    ``type``: listed | repaired | removed | corrected | withdrawn; ``replaces_id`` the item it
    corrects; ``published_on`` the day it became public, ``effective_on`` the day it takes
    effect."""

    __tablename__ = "blacklist_event"
    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="blacklist_listing.id", index=True)
    type: str = Field(max_length=12)
    subject_kind: str = Field(max_length=24)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    status: str = Field(max_length=12)  # listed | repaired | removed | withdrawn
    published_on: date = Field(index=True)
    effective_on: date
    period_start: date | None = None
    period_end: date | None = None
    document_no: str = Field(default="", max_length=64)
    replaces_id: int | None = Field(default=None, foreign_key="blacklist_event.id")
    recorded_at: datetime


class CreditChangeNotice(SQLModel, table=True):
    """Telling a subject that its result changed (Art. 22): what changed, why, on what
    basis. Append-only."""

    __tablename__ = "credit_change_notice"
    __table_args__ = (Index("ix_credit_change_notice_subject", "subject_kind", "subject_key"),)
    id: int | None = Field(default=None, primary_key=True)
    subject_kind: str = Field(max_length=24)
    subject_key: str = Field(max_length=32)
    year: int
    result_id: int = Field(foreign_key="credit_result.id")
    previous_result_id: int | None = Field(default=None, foreign_key="credit_result.id")
    what: str = Field(sa_type=Text)
    why: str = Field(sa_type=Text)
    basis: str = Field(sa_type=Text)
    recorded_at: datetime
