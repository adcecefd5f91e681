"""The disclosures feed's items: every public change of a practitioner's status
(append-only; a correction is a new item that replaces the old one).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from portal.db_triggers import append_only, drop_append_only

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _s(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "disclosure_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", _s(12), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("code", _s(32), nullable=False),
        sa.Column("name", _s(200), nullable=False),
        sa.Column("status", _s(12), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("reregister_from", sa.Date(), nullable=True),
        sa.Column("document_no", _s(64), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("period_key", _s(64), nullable=False),
        sa.Column("view", sa.Text(), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["practitioner_id"], ["practitioner.id"]),
        sa.ForeignKeyConstraint(["replaces_id"], ["disclosure_event.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_disclosure_event_practitioner_id", "disclosure_event", ["practitioner_id"])
    op.create_index("ix_disclosure_event_code", "disclosure_event", ["code"])
    op.create_index("ix_disclosure_event_published_on", "disclosure_event", ["published_on"])
    append_only("disclosure_event")


def downgrade() -> None:
    drop_append_only("disclosure_event")
    op.drop_index("ix_disclosure_event_published_on", table_name="disclosure_event")
    op.drop_index("ix_disclosure_event_code", table_name="disclosure_event")
    op.drop_index("ix_disclosure_event_practitioner_id", table_name="disclosure_event")
    op.drop_table("disclosure_event")
