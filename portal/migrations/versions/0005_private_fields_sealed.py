"""Private fields sealed at rest: ID numbers, birth dates and phones (AES-GCM).

Existing rows never held a whole ID number: their clear birth dates are sealed, the stored
mask and the clear column are dropped, the keyed hash stays (exact search), and their ID
numbers are marked to be re-entered (the next import or edit stores them sealed).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from portal.crypto import seal, secret_check

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    for column in ("id_number_sealed", "birth_date_sealed", "phone_sealed"):
        op.add_column("practitioner", sa.Column(column, sa.Text(), nullable=True))
    op.add_column(
        "practitioner",
        sa.Column("id_reentry", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, national_code, birth_date FROM practitioner")).all()
    if rows:
        secret = context.config.attributes.get("secret")
        if not secret:
            raise RuntimeError(
                "migration 0005 seals existing birth dates: set PORTAL_SECRET (or "
                "PORTAL_SECRET_FILE) to the secret this database's ID-number hashes were made with"
            )
        update = sa.text(
            "UPDATE practitioner SET birth_date_sealed = :sealed, id_reentry = :yes WHERE id = :id"
        )
        batch = []
        for pid, code, born in rows:
            text = born if isinstance(born, str) else born.isoformat()
            batch.append(
                {"id": pid, "yes": True,
                 "sealed": seal(secret, text[:10], f"practitioner.birth_date:{code}")}
            )  # fmt: skip
            if len(batch) >= 5000:
                bind.execute(update, batch)
                batch = []
        if batch:
            bind.execute(update, batch)
        bind.execute(
            sa.text("INSERT INTO portal_meta (key, value) VALUES ('secret_check', :v)"),
            {"v": secret_check(secret)},
        )
    op.drop_column("practitioner", "id_masked")
    op.drop_column("practitioner", "birth_date")


def downgrade() -> None:
    # The clear columns are not brought back with data: that would undo the point.
    op.add_column("practitioner", sa.Column("birth_date", sa.Date(), nullable=True))
    op.add_column("practitioner", sa.Column("id_masked", sa.String(18), nullable=True))
    for column in ("id_reentry", "phone_sealed", "birth_date_sealed", "id_number_sealed"):
        op.drop_column("practitioner", column)
    op.drop_table("portal_meta")
