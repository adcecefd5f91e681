"""The annual credit evaluation: runs, results, health-commission consultations, bonus facts.

``credit_run`` is a workflow row (its state moves in place, audited). ``credit_result``,
``credit_consultation`` and ``credit_fact`` are append-only: UPDATE, DELETE and REPLACE
(SQLite) or TRUNCATE (PostgreSQL) are refused, as 0006/0008 do (spec/DESIGN.md
"Append-only tables"); a changed result is a new row superseding the old one
(Hunan-Credit Art. 19: every change archived).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

APPEND_ONLY = ("credit_result", "credit_consultation", "credit_fact")


def _s(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _append_only(name: str) -> None:
    message = f"{name} is append-only: add a row instead"
    if _postgresql():
        op.execute(
            "CREATE OR REPLACE FUNCTION append_only_refused() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE ON {name} "
            f"FOR EACH ROW EXECUTE FUNCTION append_only_refused('{message}')"
        )
        op.execute(
            f"CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION append_only_refused('{message}')"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {name}_no_{action.lower()} BEFORE {action} ON {name} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
    op.execute(
        f"CREATE TRIGGER {name}_no_replace BEFORE INSERT ON {name} "
        f"WHEN EXISTS (SELECT 1 FROM {name} WHERE id = NEW.id) "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )


def _recorded() -> list[sa.Column[object]]:
    return [
        sa.Column("recorded_by", _s(64), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "credit_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("region", _s(6), nullable=False),
        sa.Column("state", _s(16), nullable=False),
        sa.Column("ruleset", _s(32), nullable=False),
        sa.Column("catalogue", _s(32), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("started_by", _s(64), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("committed_by", _s(64), nullable=False),
        sa.Column("committed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("published_by", _s(64), nullable=False),
        sa.Column("published_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_credit_run_year_state", "credit_run", ["year", "state"])
    op.create_table(
        "credit_result",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("credit_run.id"), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("subject_kind", _s(24), nullable=False),
        sa.Column("subject_key", _s(32), nullable=False),
        sa.Column("region", _s(6), nullable=False),
        sa.Column("state", _s(24), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("grade", _s(2), nullable=True),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.Column("exclusion_reason", _s(32), nullable=False),
        sa.Column("incentives", sa.Boolean(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("explain", sa.Text(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), sa.ForeignKey("credit_result.id"), nullable=True),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index(
        "ix_credit_result_subject", "credit_result", ["year", "subject_kind", "subject_key"]
    )
    op.create_index("ix_credit_result_run", "credit_result", ["run_id"])
    op.create_table(
        "credit_consultation",
        *_recorded(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("institution_code", _s(32), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_credit_consultation_year_code", "credit_consultation", ["year", "institution_code"]
    )
    op.create_table(
        "credit_fact",
        *_recorded(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("subject_kind", _s(24), nullable=False),
        sa.Column("subject_key", _s(32), nullable=False),
        sa.Column("indicator", _s(32), nullable=False),
    )
    op.create_index("ix_credit_fact_subject", "credit_fact", ["year", "subject_key"])
    for name in APPEND_ONLY:
        _append_only(name)


def downgrade() -> None:
    for name in APPEND_ONLY:
        if _postgresql():
            op.execute(f"DROP TRIGGER IF EXISTS {name}_append_only ON {name}")
            op.execute(f"DROP TRIGGER IF EXISTS {name}_no_truncate ON {name}")
        else:
            for action in ("update", "delete", "replace"):
                op.execute(f"DROP TRIGGER IF EXISTS {name}_no_{action}")
    for name in ("credit_fact", "credit_consultation", "credit_result", "credit_run"):
        op.drop_table(name)
