"""Credit management: subjects, archives (credit items), commitments, the indicator
catalogue, objections, credit repair with attachments, blacklist listings and their public
events, notices of changed results (Hunan-Credit Art. 3, 9-16, 18, 22, 24-27, 33-35).

Append-only by the database (portal.db_triggers): credit_item, the commitment tables,
credit_attachment, blacklist_event, credit_change_notice. A published catalogue version is
frozen (UPDATE/DELETE refused once ``state = 'published'``).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from portal.db_triggers import append_only, drop_append_only, drop_frozen, frozen_when

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

APPEND_ONLY = (
    "credit_item",
    "credit_commitment_template",
    "credit_commitment",
    "credit_commitment_event",
    "credit_attachment",
    "blacklist_event",
    "credit_change_notice",
)


def upgrade() -> None:
    op.create_table(
        "credit_catalogue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("published_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("published_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "subject_kind", "version"),
    )
    op.create_table(
        "credit_commitment_template",
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "credit_item",
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("subject_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("polarity", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("source_unit", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("indicator", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["credit_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("origin"),
    )
    with op.batch_alter_table("credit_item", schema=None) as batch_op:
        batch_op.create_index(
            "ix_credit_item_subject", ["subject_kind", "subject_key"], unique=False
        )

    op.create_table(
        "credit_subject",
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("subject_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("document_type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("document_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("document_sealed", sa.Text(), nullable=True),
        sa.Column(
            "legal_representative", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject_kind", "subject_key"),
    )
    with op.batch_alter_table("credit_subject", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_subject_document_digest"), ["document_digest"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_credit_subject_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_subject_region"), ["region"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_credit_subject_subject_key"), ["subject_key"], unique=False
        )

    op.create_table(
        "blacklist_listing",
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("subject_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("related_listing_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("authority", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("proposed_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("notice_no", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("noticed_on", sa.Date(), nullable=True),
        sa.Column("objection_due_on", sa.Date(), nullable=True),
        sa.Column("objection", sa.Text(), nullable=False),
        sa.Column("objection_on", sa.Date(), nullable=True),
        sa.Column("objection_answer", sa.Text(), nullable=False),
        sa.Column("document_no", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("listed_on", sa.Date(), nullable=True),
        sa.Column("publish_until", sa.Date(), nullable=True),
        sa.Column("bar_until", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["credit_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["related_listing_id"],
            ["blacklist_listing.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("origin"),
    )
    with op.batch_alter_table("blacklist_listing", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blacklist_listing_region"), ["region"], unique=False)
        batch_op.create_index(batch_op.f("ix_blacklist_listing_state"), ["state"], unique=False)
        batch_op.create_index(
            "ix_blacklist_listing_subject", ["subject_kind", "subject_key"], unique=False
        )

    op.create_table(
        "credit_commitment",
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("subject_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("signed_text", sa.Text(), nullable=False),
        sa.Column("signed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["credit_commitment_template.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("credit_commitment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_credit_commitment_subject", ["subject_kind", "subject_key"], unique=False
        )

    op.create_table(
        "credit_objection",
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("subject_kind", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("subject_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("ground", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("applicant", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("other_unit", sa.Boolean(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("document_no", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("correction_item_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["correction_item_id"],
            ["credit_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["credit_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("credit_objection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_objection_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_objection_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_credit_objection_subject_key"), ["subject_key"], unique=False
        )

    op.create_table(
        "blacklist_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("subject_kind", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("document_no", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["blacklist_listing.id"],
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["blacklist_event.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("blacklist_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_blacklist_event_listing_id"), ["listing_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_blacklist_event_published_on"), ["published_on"], unique=False
        )

    op.create_table(
        "credit_change_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("subject_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("previous_result_id", sa.Integer(), nullable=True),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["previous_result_id"],
            ["credit_result.id"],
        ),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["credit_result.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("credit_change_notice", schema=None) as batch_op:
        batch_op.create_index(
            "ix_credit_change_notice_subject", ["subject_kind", "subject_key"], unique=False
        )

    op.create_table(
        "credit_commitment_event",
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["credit_commitment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["credit_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("credit_commitment_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_commitment_event_commitment_id"), ["commitment_id"], unique=False
        )

    op.create_table(
        "credit_repair",
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("listing_id", sa.Integer(), nullable=True),
        sa.Column("subject_kind", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("subject_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("applicant", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("correction", sa.Text(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("decision_reasons", sa.Text(), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("document_no", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["credit_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["blacklist_listing.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("credit_repair", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_repair_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_repair_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_credit_repair_subject_key"), ["subject_key"], unique=False
        )

    op.create_table(
        "credit_attachment",
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repair_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content_sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repair_id"],
            ["credit_repair.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("credit_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_attachment_repair_id"), ["repair_id"], unique=False
        )

    for name in APPEND_ONLY:
        append_only(name)
    frozen_when("credit_catalogue", "OLD.state = 'published'")


def downgrade() -> None:
    drop_frozen("credit_catalogue")
    for name in APPEND_ONLY:
        drop_append_only(name)
    with op.batch_alter_table("credit_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_attachment_repair_id"))

    op.drop_table("credit_attachment")
    with op.batch_alter_table("credit_repair", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_repair_subject_key"))
        batch_op.drop_index(batch_op.f("ix_credit_repair_state"))
        batch_op.drop_index(batch_op.f("ix_credit_repair_item_id"))

    op.drop_table("credit_repair")
    with op.batch_alter_table("credit_commitment_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_commitment_event_commitment_id"))

    op.drop_table("credit_commitment_event")
    with op.batch_alter_table("credit_change_notice", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_change_notice_subject")

    op.drop_table("credit_change_notice")
    with op.batch_alter_table("blacklist_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blacklist_event_published_on"))
        batch_op.drop_index(batch_op.f("ix_blacklist_event_listing_id"))

    op.drop_table("blacklist_event")
    with op.batch_alter_table("credit_objection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_objection_subject_key"))
        batch_op.drop_index(batch_op.f("ix_credit_objection_state"))
        batch_op.drop_index(batch_op.f("ix_credit_objection_item_id"))

    op.drop_table("credit_objection")
    with op.batch_alter_table("credit_commitment", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_commitment_subject")

    op.drop_table("credit_commitment")
    with op.batch_alter_table("blacklist_listing", schema=None) as batch_op:
        batch_op.drop_index("ix_blacklist_listing_subject")
        batch_op.drop_index(batch_op.f("ix_blacklist_listing_state"))
        batch_op.drop_index(batch_op.f("ix_blacklist_listing_region"))

    op.drop_table("blacklist_listing")
    with op.batch_alter_table("credit_subject", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_subject_subject_key"))
        batch_op.drop_index(batch_op.f("ix_credit_subject_region"))
        batch_op.drop_index(batch_op.f("ix_credit_subject_name"))
        batch_op.drop_index(batch_op.f("ix_credit_subject_document_digest"))

    op.drop_table("credit_subject")
    with op.batch_alter_table("credit_item", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_item_subject")

    op.drop_table("credit_item")
    op.drop_table("credit_commitment_template")
    op.drop_table("credit_catalogue")
