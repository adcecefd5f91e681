"""Signed check receipts: the signing keys (private halves sealed) and the receipts as
issued (append-only: a receipt never changes).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from portal.db_triggers import append_only, drop_append_only

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _s(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "receipt_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kid", _s(40), nullable=False),
        sa.Column("public_x", _s(64), nullable=False),
        sa.Column("private_sealed", sa.Text(), nullable=False),
        sa.Column("valid_from", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("valid_to", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_by", _s(64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kid"),
    )
    op.create_table(
        "receipt",
        sa.Column("id", _s(32), nullable=False),
        sa.Column("code", _s(16), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("purpose", _s(200), nullable=False),
        sa.Column("kid", _s(40), nullable=False),
        sa.Column("jws", sa.Text(), nullable=False),
        sa.Column("issued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_receipt_code", "receipt", ["code"])
    append_only("receipt")


def downgrade() -> None:
    drop_append_only("receipt")
    op.drop_index("ix_receipt_code", table_name="receipt")
    op.drop_table("receipt")
    op.drop_table("receipt_key")
