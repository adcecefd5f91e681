"""The audit log becomes a hash chain with its head outside it; the query log is append-only.

``audit_log`` gains ``seq``, ``prev_hash`` and ``hash`` (portal.services.audit), and the
rows already there are chained in id order; ``audit_head`` holds the count and the newest
hash. Chaining the old rows rewrites them, so the append-only triggers of 0006 are dropped
for that moment and created again. The head moves forward only: no DELETE, no TRUNCATE, no
second row (REPLACE included), no UPDATE that does not raise the count. ``query_log``
refuses UPDATE, DELETE and REPLACE (SQLite) or TRUNCATE (PostgreSQL), as the other
append-only tables do (spec/DESIGN.md "Append-only tables").

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from portal.services.audit import GENESIS, entry_hash

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

AUDIT = "audit_log is append-only: add an entry instead"
QUERY = "query_log is append-only: add an entry instead"
HEAD = "audit_head moves forward only: it anchors the audit chain"

_log = sa.table(
    "audit_log",
    sa.column("id", sa.Integer()),
    sa.column("at", sqlmodel.sql.sqltypes.UTCDateTime()),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("entity", sa.String()),
    sa.column("entity_id", sa.Integer()),
    sa.column("reason", sa.Text()),
    sa.column("detail", sa.Text()),
    sa.column("seq", sa.Integer()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _drop_log_triggers() -> None:
    """0006's triggers on audit_log (IF EXISTS: a database may not have had them)."""
    if _postgresql():
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        return
    for name in ("no_update", "no_delete", "no_replace"):
        op.execute(f"DROP TRIGGER IF EXISTS audit_log_{name}")


def _append_only(name: str, message: str) -> None:
    """0006's triggers, by 0006's names: UPDATE, DELETE, TRUNCATE / REPLACE refused."""
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
    # INSERT OR REPLACE deletes the old row without firing DELETE triggers (ECOSYSTEM.md).
    op.execute(
        f"CREATE TRIGGER {name}_no_replace BEFORE INSERT ON {name} "
        f"WHEN EXISTS (SELECT 1 FROM {name} WHERE id = NEW.id) "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )


def _drop_append_only(name: str) -> None:
    if _postgresql():
        op.execute(f"DROP TRIGGER IF EXISTS {name}_append_only ON {name}")
        op.execute(f"DROP TRIGGER IF EXISTS {name}_no_truncate ON {name}")
        return
    for action in ("update", "delete", "replace"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}_no_{action}")


def _chain_existing_rows() -> tuple[int, str]:
    bind = op.get_bind()
    count, prev = 0, GENESIS
    batch: list[dict[str, object]] = []
    rows = bind.execute(sa.select(_log).order_by(_log.c.id)).all()
    for row in rows:
        count += 1
        digest = entry_hash(
            seq=count, at=row.at, actor=row.actor, action=row.action, entity=row.entity,
            entity_id=row.entity_id, reason=row.reason, detail=row.detail, prev_hash=prev,
        )  # fmt: skip
        batch.append({"row_id": row.id, "seq": count, "prev_hash": prev, "hash": digest})
        prev = digest
    if batch:
        bind.execute(
            _log.update()
            .where(_log.c.id == sa.bindparam("row_id"))
            .values(
                seq=sa.bindparam("seq"),
                prev_hash=sa.bindparam("prev_hash"),
                hash=sa.bindparam("hash"),
            ),
            batch,
        )
    return count, prev


def _head_guard() -> None:
    if _postgresql():
        op.execute(
            f"""
            CREATE FUNCTION audit_head_forward_only() RETURNS trigger AS $$
            BEGIN
              IF TG_OP = 'DELETE' OR NEW.id <> OLD.id OR NEW.count <= OLD.count THEN
                RAISE EXCEPTION '{HEAD}';
              END IF;
              RETURN NEW;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_head "
            "FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head "
            f"FOR EACH STATEMENT EXECUTE FUNCTION append_only_refused('{HEAD}')"
        )
        return
    op.execute(
        "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head "
        "WHEN NEW.id <> OLD.id OR NEW.count <= OLD.count "
        f"BEGIN SELECT RAISE(ABORT, '{HEAD}'); END"
    )
    op.execute(
        f"CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
        f"BEGIN SELECT RAISE(ABORT, '{HEAD}'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_head_no_replace BEFORE INSERT ON audit_head "
        "WHEN EXISTS (SELECT 1 FROM audit_head) "
        f"BEGIN SELECT RAISE(ABORT, '{HEAD}'); END"
    )


def upgrade() -> None:
    _drop_log_triggers()
    op.add_column("audit_log", sa.Column("seq", sa.Integer(), nullable=True))
    op.add_column(
        "audit_log",
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )
    op.add_column(
        "audit_log",
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("id = 1", name="audit_head_one_row"),
    )
    count, last = _chain_existing_rows()
    op.get_bind().execute(
        sa.text("INSERT INTO audit_head (id, count, hash) VALUES (1, :count, :hash)"),
        {"count": count, "hash": last},
    )
    _append_only("audit_log", AUDIT)
    _head_guard()
    _append_only("query_log", QUERY)


def downgrade() -> None:
    """Back to 0007: no chain, no head, no query-log triggers; audit_log as 0006 left it."""
    _drop_append_only("query_log")
    _drop_log_triggers()
    if _postgresql():
        op.execute("DROP TRIGGER IF EXISTS audit_head_forward_only ON audit_head")
        op.execute("DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_head")
        op.execute("DROP FUNCTION IF EXISTS audit_head_forward_only()")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
    _append_only("audit_log", AUDIT)
