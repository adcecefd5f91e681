"""Database tables (SQLModel).

The ledger (``ledger_entry``) is the truth about a person's points and statuses: append-only,
corrected by superseding entries, never by updates. ``status_cache`` is derived from it and
can always be rebuilt (``portal ledger rebuild``) and checked (``portal ledger verify``).
Every row that records an act says who did it, when and why.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Recorded(SQLModel):
    """Who, when and why — on every row that records an act."""

    recorded_by: str = Field(max_length=64)
    recorded_at: datetime
    reason: str = Field(default="", sa_type=Text)


class Institution(Recorded, table=True):
    """A designated institution (定点医药机构): hospital/clinic or retail pharmacy."""

    __tablename__ = "institution"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200, index=True)
    credit_code: str = Field(max_length=18, unique=True)  # GB 32100
    kind: str = Field(max_length=16)  # hospital | pharmacy
    region: str = Field(max_length=6, index=True)  # GB/T 2260
    ownership: str = Field(max_length=16)  # public | private
    ruleset: str = Field(max_length=32)


class AgreementAction(Recorded, table=True):
    """The institution's agreement status (National-Procedure Art. 34; Hunan-Rules Art. 10)."""

    __tablename__ = "agreement_action"
    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    action: str = Field(max_length=16)  # suspended | terminated | reinstated
    decided_on: date
    effective_from: date
    until: date | None = None
    document_no: str = Field(max_length=64)
    supersedes_id: int | None = Field(default=None, foreign_key="agreement_action.id")


class Practitioner(Recorded, table=True):
    """A person whose services are paid from the fund (相关人员), one file for life (一医一档)."""

    __tablename__ = "practitioner"
    id: int | None = Field(default=None, primary_key=True)
    national_code: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=64, index=True)
    # The ID number: a keyed hash for exact search, and the number itself sealed (AES-GCM,
    # portal.crypto); the mask is derived for authorised officers, never stored. After
    # migration 0005, persons recorded before it have no sealed number (``id_reentry``).
    id_digest: str = Field(max_length=64, unique=True)  # or unknown:<code> (secrets.rotate)
    id_number_sealed: str | None = Field(default=None, sa_type=Text)
    id_reentry: bool = False  # the ID number must be entered again (migration 0005)
    gender: str = Field(max_length=8)
    birth_date_sealed: str | None = Field(default=None, sa_type=Text)
    phone_sealed: str | None = Field(default=None, sa_type=Text)
    practice_type: str = Field(max_length=16)  # doctor | nurse | pharmacist | technician
    category: str = Field(default="", max_length=32)
    scope: str = Field(default="", max_length=64)
    title: str = Field(default="", max_length=32)
    region: str = Field(max_length=6)
    ruleset: str = Field(max_length=32)


class PortalMeta(SQLModel, table=True):
    """Facts about the database itself, e.g. the check value of the secret that sealed it."""

    __tablename__ = "portal_meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_type=Text)


class Registration(Recorded, table=True):
    """登记备案: a practitioner at one institution (National-Procedure Art. 15, Annex 2)."""

    __tablename__ = "registration"
    __table_args__ = (UniqueConstraint("practitioner_id", "institution_id", "registered_on"),)
    id: int | None = Field(default=None, primary_key=True)
    practitioner_id: int = Field(foreign_key="practitioner.id", index=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    registered_on: date
    commitment_signed_on: date | None = None  # National-Procedure Art. 21
    principal: bool = False  # pharmacy principal (主要负责人)
    multi_site: bool = False
    status: str = Field(default="normal", max_length=16)  # maintained from the engine
    deregistered_on: date | None = None  # National-Procedure Art. 18
    deregistered_reason: str = Field(default="", max_length=200)


class Decision(Recorded, table=True):
    """A case (案件): one administrative penalty or agreement action (RULES §4, I-5)."""

    __tablename__ = "decision"
    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    decision_type: str = Field(max_length=32)  # administrative_penalty | agreement_action
    legal_basis: str = Field(max_length=200)
    document_no: str = Field(max_length=64, unique=True)
    decision_date: date
    amount: float | None = None  # responsible amount (责任金额), CNY
    ruleset: str = Field(max_length=32)


class LedgerEntry(Recorded, table=True):
    """One event of one person's history, as the engine reads it. Append-only.

    ``kind``: score | repair | restore | appeal | shorten. A correction is a new entry whose
    ``supersedes_id`` names the entry it replaces (``void`` entries withdraw one).
    """

    __tablename__ = "ledger_entry"
    __table_args__ = (Index("ix_ledger_person_seq", "practitioner_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    practitioner_id: int = Field(foreign_key="practitioner.id")
    kind: str = Field(max_length=16)
    event_date: date
    decision_id: int | None = Field(default=None, foreign_key="decision.id", index=True)
    payload: str = Field(default="{}", sa_type=Text)
    supersedes_id: int | None = Field(default=None, foreign_key="ledger_entry.id")


class LedgerChain(SQLModel, table=True):
    """The ledger as a hash chain (like the audit log's): one link per entry, in commit
    order. ``hash`` is the SHA-256 of the entry's content and ``prev_hash``
    (portal.services.ledger_chain); a receipt's ``data_version`` names the newest link.
    Append-only; written at commit under ``ledger_head``."""

    __tablename__ = "ledger_chain"
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    entry_id: int = Field(foreign_key="ledger_entry.id", unique=True)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class LedgerHead(SQLModel, table=True):
    """The ledger chain's anchor: how many links, the newest entry and its hash. One row;
    the database lets it move forward only."""

    __tablename__ = "ledger_head"
    __table_args__ = (CheckConstraint("id = 1", name="ledger_head_one_row"),)
    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    count: int = 0
    entry_id: int | None = None
    hash: str = Field(max_length=64)


class StatusCache(SQLModel, table=True):
    """Derived from the ledger for fast look-ups; rebuilt and verified by ``portal ledger``."""

    __tablename__ = "status_cache"
    practitioner_id: int = Field(foreign_key="practitioner.id", primary_key=True)
    ledger_seq: int = 0  # the last ledger entry id included
    timeline: str = Field(default="{}", sa_type=Text)


class Notice(Recorded, table=True):
    """处理通知书 (National-Procedure Annex 3): issued, then delivered (Art. 31, 33)."""

    __tablename__ = "notice"
    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="decision.id", index=True)
    practitioner_id: int = Field(foreign_key="practitioner.id", index=True)
    document_no: str = Field(max_length=64, unique=True)
    issued_on: date
    points: int
    year_points: int
    status: str = Field(max_length=16)
    period_start: date | None = None
    period_end: date | None = None
    reregister_from: date | None = None
    appeal_due: date | None = None
    delivered_on: date | None = None
    delivered_to: str = Field(default="", max_length=200)


class Appeal(Recorded, table=True):
    """申诉 (National-Procedure Art. 41-44; Hunan-Rules Art. 18-19)."""

    __tablename__ = "appeal"
    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="decision.id", index=True)
    practitioner_id: int = Field(foreign_key="practitioner.id", index=True)
    received_on: date
    in_time: bool
    state: str = Field(max_length=16)  # received | escalated | expert_panel | upheld | rejected
    explain_due: date | None = None
    resolve_due: date | None = None
    escalated_on: date | None = None  # to the administrative department (Hunan-Rules Art. 18)
    expert_panel_from: date | None = None
    expert_panel_until: date | None = None
    outcome_points: int | None = None
    decided_on: date | None = None
    ledger_entry_id: int | None = Field(default=None, foreign_key="ledger_entry.id")


class RepairApplication(Recorded, table=True):
    """记分修复: approved by the institution, then by the agency (Hunan-Rules Art. 12)."""

    __tablename__ = "repair_application"
    id: int | None = Field(default=None, primary_key=True)
    practitioner_id: int = Field(foreign_key="practitioner.id", index=True)
    route: str = Field(max_length=32)
    param: str = Field(default="", max_length=32)
    applied_on: date
    state: str = Field(max_length=24)  # applied | institution_approved | approved | refused
    institution_decided_on: date | None = None
    institution_decided_by: str = Field(default="", max_length=64)
    agency_decided_on: date | None = None
    agency_decided_by: str = Field(default="", max_length=64)
    granted: int | None = None
    refusal: str = Field(default="", max_length=200)
    ledger_entry_id: int | None = Field(default=None, foreign_key="ledger_entry.id")


class RestorationApplication(Recorded, table=True):
    """资格恢复 (Hunan-Rules Art. 13-14; National-Procedure Art. 39; RULES I-12)."""

    __tablename__ = "restoration_application"
    id: int | None = Field(default=None, primary_key=True)
    practitioner_id: int = Field(foreign_key="practitioner.id", index=True)
    applied_on: date
    evaluate_due: date | None = None
    state: str = Field(max_length=24)  # applied | institution_approved | approved | refused
    institution_decided_on: date | None = None
    agency_decided_on: date | None = None
    effective: date | None = None
    refusal: str = Field(default="", max_length=200)
    ledger_entry_id: int | None = Field(default=None, foreign_key="ledger_entry.id")


class AuditLog(SQLModel, table=True):
    """Every change: who, when, what and why (``detail``: JSON, with ``before``/``after``
    where a row changed in place). Append-only, and a hash chain: ``hash`` is the SHA-256
    of the entry's content and ``prev_hash`` (portal.services.audit); ``seq`` counts from 1.
    Written only through ``portal.services.registry.audit`` (at commit, under the head)."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    actor: str = Field(max_length=64)
    action: str = Field(max_length=48)
    entity: str = Field(max_length=32)
    entity_id: int | None = None
    reason: str = Field(default="", sa_type=Text)
    detail: str = Field(default="{}", sa_type=Text)
    # NULL only in a row written around the chain: `portal audit verify` names it.
    seq: int | None = None
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)


class AuditHead(SQLModel, table=True):
    """The audit chain's anchor, outside the chain: how many entries it has and the hash of
    the newest, updated in place in the transaction that adds them. Deleting the newest
    entries leaves the head ahead of the chain, which `portal audit verify` reports. One
    row; the database lets it move forward only."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="audit_head_one_row"),)
    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    count: int = 0
    hash: str = Field(max_length=64)


class ImportBatch(SQLModel, table=True):
    """One imported file; the same file twice imports nothing twice."""

    __tablename__ = "import_batch"
    id: int | None = Field(default=None, primary_key=True)
    file_sha256: str = Field(max_length=64, index=True)
    filename: str = Field(max_length=200)
    rows: int
    imported: int
    at: datetime
    actor: str = Field(max_length=64)


def table(model: type[SQLModel]) -> Any:
    """The Core table of a model, for bulk statements."""
    return model.__table__  # type: ignore[attr-defined]


class WebhookSubscription(Recorded, table=True):
    """A registration platform that follows practitioners' statuses."""

    __tablename__ = "webhook_subscription"
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=100)
    url: str = Field(max_length=500)
    secret: str = Field(max_length=200)
    active: bool = True


class WebhookFollow(SQLModel, table=True):
    """Which practitioners a subscription follows."""

    __tablename__ = "webhook_follow"
    subscription_id: int = Field(foreign_key="webhook_subscription.id", primary_key=True)
    national_code: str = Field(max_length=16, primary_key=True, index=True)


class WebhookOutbox(SQLModel, table=True):
    """A message to deliver, written in the same transaction as the change (never lost)."""

    __tablename__ = "webhook_outbox"
    __table_args__ = (Index("ix_outbox_due", "delivered_at", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="webhook_subscription.id", index=True)
    payload: str = Field(sa_type=Text)
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    delivered_at: datetime | None = None
    last_error: str = Field(default="", max_length=500)


class ReceiptKey(SQLModel, table=True):
    """A key that signs check receipts (Ed25519, RFC 8037). The private half is sealed
    (AES-GCM under PORTAL_SECRET, context ``receipt_key:<kid>``); the public half is
    published in the JWKS. ``valid_to`` is set when the key is retired (``portal keys
    rotate``); retired keys stay listed so old receipts still verify."""

    __tablename__ = "receipt_key"
    id: int | None = Field(default=None, primary_key=True)
    kid: str = Field(max_length=40, unique=True)
    public_x: str = Field(max_length=64)
    private_sealed: str = Field(sa_type=Text)
    valid_from: datetime
    valid_to: datetime | None = None
    created_by: str = Field(max_length=64)


class Receipt(SQLModel, table=True):
    """A signed check receipt as issued (spec/DESIGN.md "Receipts"). Append-only: a receipt
    never changes; a later correction shows on its page beside it."""

    __tablename__ = "receipt"
    id: str = Field(primary_key=True, max_length=32)
    code: str = Field(max_length=16, index=True)
    on: date
    purpose: str = Field(default="", max_length=200)
    kid: str = Field(max_length=40)
    jws: str = Field(sa_type=Text)
    issued_at: datetime


class DisclosureEvent(SQLModel, table=True):
    """One public change of a practitioner's status: the ``/feeds/disclosures.*`` items
    (spec/DESIGN.md "Feeds"). Append-only: a correction is a new item that ``replaces``
    the one it corrects. ``type``: suspended | terminated | cancelled | restored |
    shortened | corrected | withdrawn; ``status`` the public status from ``effective_on``
    on; ``published_on`` the day it became public (the notice's issue date, the day of the
    restoration, shortening, correction or appeal). ``period_key`` names the period it is
    about (the case that made it); ``view`` is the person's public periods after this change
    (JSON), what the next change is compared with (portal.services.disclosure_feed)."""

    __tablename__ = "disclosure_event"
    id: int | None = Field(default=None, primary_key=True)
    type: str = Field(max_length=12)
    practitioner_id: int = Field(foreign_key="practitioner.id", index=True)
    code: str = Field(max_length=32, index=True)
    name: str = Field(max_length=200)
    status: str = Field(max_length=12)
    published_on: date = Field(index=True)
    effective_on: date
    period_start: date | None = None
    period_end: date | None = None
    reregister_from: date | None = None
    document_no: str = Field(default="", max_length=64)
    replaces_id: int | None = Field(default=None, foreign_key="disclosure_event.id")
    period_key: str = Field(default="", max_length=64)
    view: str = Field(default="[]", sa_type=Text)
    recorded_at: datetime


class UserAccount(SQLModel, table=True):
    """An officer's or institution administrator's account: one post, one set of rights
    (National-Procedure Art. 56; Hainan-Rules Art. 32, 34). Roles: portal.services.roles."""

    __tablename__ = "user_account"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(default="", max_length=64)
    password_hash: str = Field(default="", max_length=200)  # argon2id; empty until approved
    role: str = Field(max_length=32)
    region: str = Field(default="", max_length=6)  # 2, 4 or 6 digits, and everything below
    institution_code: str = Field(default="", max_length=32)
    state: str = Field(default="active", max_length=16)  # requested | active | deactivated
    must_change_password: bool = False
    created_at: datetime
    created_by: str = Field(max_length=64)
    approved_by: str = Field(default="", max_length=64)
    deactivated_at: datetime | None = None


class AdminSession(SQLModel, table=True):
    """A login, kept in the database so that every worker sees it and ending it is at once.
    Only a hash of the cookie's token is stored."""

    __tablename__ = "admin_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None = None
    client: str = Field(default="", max_length=64)


class LoginAttempt(SQLModel, table=True):
    """Every login attempt, for lockout per account and per client (and for the auditor)."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_user_at", "username", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64)
    client: str = Field(max_length=64, index=True)
    at: datetime
    ok: bool


class FormSubmission(SQLModel, table=True):
    """One row per submitted form token: a double submission records nothing twice."""

    __tablename__ = "form_submission"
    token: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id")
    at: datetime
    outcome: str = Field(default="", max_length=300)  # where the first submission led


class Job(SQLModel, table=True):
    """Long work started from the admin (an import, a credit run): its progress is here, so
    that any worker can answer the page that polls it."""

    __tablename__ = "job"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)  # import | credit_evaluate | ...
    state: str = Field(default="running", max_length=16)  # running | done | failed
    total: int | None = None
    done: int = 0
    summary: str = Field(default="", sa_type=Text)  # the counts at the end, or the error
    actor: str = Field(max_length=64)
    started_at: datetime
    finished_at: datetime | None = None


class QueryLog(SQLModel, table=True):
    """Every look at a person's non-public data: who, when, what, why (Hunan-Credit Art. 23:
    "查询记录…长期保存"). Append-only."""

    __tablename__ = "query_log"
    __table_args__ = (Index("ix_query_log_subject", "subject"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    actor: str = Field(max_length=64, index=True)
    subject: str = Field(max_length=32)  # the national code or credit code looked at
    what: str = Field(max_length=64)  # e.g. private_data, full_history, attachment
    purpose: str = Field(sa_type=Text)


# --- the annual credit evaluation (Hunan-Credit Art. 18-22, 31-32; RULES §8) -----------------


class CreditRun(SQLModel, table=True):
    """One evaluation of year ``year`` for the subjects of ``region`` (2, 4 or 6 digits, and
    everything below it; Hunan-Credit Art. 21: by territory). A workflow row: its state moves
    previewed → committed → published in place, every change in the audit log. ``counts``
    (JSON): per grade, kind, city, held and excluded. ``ruleset`` and ``catalogue`` name the
    rules and the indicator catalogue version (Art. 18) it was evaluated under."""

    __tablename__ = "credit_run"
    __table_args__ = (Index("ix_credit_run_year_state", "year", "state"),)
    id: int | None = Field(default=None, primary_key=True)
    year: int
    region: str = Field(max_length=6)
    state: str = Field(max_length=16)  # previewed | committed | published
    ruleset: str = Field(max_length=32)
    catalogue: str = Field(max_length=32)
    counts: str = Field(default="{}", sa_type=Text)
    started_by: str = Field(max_length=64)
    started_at: datetime
    committed_by: str = Field(default="", max_length=64)
    committed_at: datetime | None = None
    published_by: str = Field(default="", max_length=64)
    published_at: datetime | None = None


class CreditResult(SQLModel, table=True):
    """One subject's result for a year. Append-only: a changed fact gives a new row whose
    ``supersedes_id`` names the row it replaces (Hunan-Credit Art. 19: results change
    dynamically and every change is archived); the current result is the row nobody
    supersedes. ``subject_kind``: practitioner | designated_hospital | designated_pharmacy;
    ``subject_key``: the national code or the institution code. ``state``: graded |
    held_for_consultation (待征求意见, Art. 21) | excluded (Art. 20)."""

    __tablename__ = "credit_result"
    __table_args__ = (
        Index("ix_credit_result_subject", "year", "subject_kind", "subject_key"),
        Index("ix_credit_result_run", "run_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="credit_run.id")
    year: int
    subject_kind: str = Field(max_length=24)
    subject_key: str = Field(max_length=32)
    region: str = Field(max_length=6)
    state: str = Field(max_length=24)
    score: float | None = None
    grade: str | None = Field(default=None, max_length=2)
    excluded: bool = False
    exclusion_reason: str = Field(default="", max_length=32)
    incentives: bool = False
    measures: str = Field(default="[]", sa_type=Text)
    explain: str = Field(default="[]", sa_type=Text)
    supersedes_id: int | None = Field(default=None, foreign_key="credit_result.id")
    recorded_at: datetime


class CreditConsultation(Recorded, table=True):
    """The health commission's opinion on a medical institution before it is graded
    (Hunan-Credit Art. 21: 征求卫生健康部门意见). Append-only: a later opinion is a new row."""

    __tablename__ = "credit_consultation"
    __table_args__ = (Index("ix_credit_consultation_year_code", "year", "institution_code"),)
    id: int | None = Field(default=None, primary_key=True)
    year: int
    institution_code: str = Field(max_length=32)
    opinion: str = Field(sa_type=Text)


class CreditFact(Recorded, table=True):
    """A bonus indicator an officer records for a subject's year (Hunan-Credit Art. 14, 18:
    e.g. ``commendation``, ``assists_supervision`` of the catalogue). Append-only."""

    __tablename__ = "credit_fact"
    __table_args__ = (Index("ix_credit_fact_subject", "year", "subject_key"),)
    id: int | None = Field(default=None, primary_key=True)
    year: int
    subject_kind: str = Field(max_length=24)
    subject_key: str = Field(max_length=32)
    indicator: str = Field(max_length=32)


# The credit-management tables live in their own module; importing it here puts them in the
# one metadata (migrations, create_all) whichever module is imported first.
import portal.credit_models  # noqa: E402, F401
