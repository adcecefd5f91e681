"""The points ledger becomes a hash chain: ``ledger_chain`` (one link per entry, append-only)
and ``ledger_head`` (forward only), as the audit log is (0008). The entries already there
are chained in id order (portal.services.ledger_chain); the entries themselves are not
touched.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from portal.db_triggers import append_only, drop_append_only, drop_head_forward_only
from portal.db_triggers import head_forward_only
from portal.services.audit import GENESIS
from portal.services.ledger_chain import COLUMNS, link_hash

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_TYPES: dict[str, sa.types.TypeEngine[object]] = {
    "event_date": sa.Date(),
    "recorded_at": sqlmodel.sql.sqltypes.UTCDateTime(),
    **{name: sa.Integer() for name in ("id", "practitioner_id", "decision_id", "supersedes_id")},
}
_entries = sa.table(
    "ledger_entry",
    *(sa.column(name, _TYPES.get(name, sa.String())) for name in COLUMNS),
)


def _s(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "ledger_chain",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("prev_hash", _s(64), nullable=False),
        sa.Column("hash", _s(64), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["ledger_entry.id"]),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("entry_id"),
    )
    op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("hash", _s(64), nullable=False),
        sa.CheckConstraint("id = 1", name="ledger_head_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    bind = op.get_bind()
    chain = sa.table(
        "ledger_chain", sa.column("seq"), sa.column("entry_id"), sa.column("prev_hash"),
        sa.column("hash"),
    )  # fmt: skip
    count, prev, last, batch = 0, GENESIS, None, []
    rows = bind.execute(
        sa.select(_entries).order_by(_entries.c.id), execution_options={"yield_per": 5000}
    )
    for row in rows:
        entry = dict(row._mapping)
        count += 1
        digest = link_hash(entry, count, prev)
        batch.append({"seq": count, "entry_id": entry["id"], "prev_hash": prev, "hash": digest})
        prev, last = digest, entry["id"]
        if len(batch) >= 5000:
            bind.execute(chain.insert(), batch)
            batch = []
    if batch:
        bind.execute(chain.insert(), batch)
    bind.execute(
        sa.text("INSERT INTO ledger_head (id, count, entry_id, hash) VALUES (1, :c, :e, :h)"),
        {"c": count, "e": last, "h": prev},
    )
    append_only("ledger_chain", key="seq")
    head_forward_only("ledger_head")


def downgrade() -> None:
    drop_head_forward_only("ledger_head")
    drop_append_only("ledger_chain")
    op.drop_table("ledger_head")
    op.drop_table("ledger_chain")
