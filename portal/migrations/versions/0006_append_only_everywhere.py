"""Append-only for real: ledger_entry, decision and audit_log refuse every rewrite.

0003 refused UPDATE and DELETE on the ledger. On SQLite, ``INSERT OR REPLACE`` and
``REPLACE INTO`` still rewrote an entry: REPLACE deletes the old row without firing DELETE
triggers (unless ``PRAGMA recursive_triggers``, which is per connection). A BEFORE INSERT
trigger that refuses a row whose key is taken stops them on every connection
(../shared/ECOSYSTEM.md, "SQLite append-only"); ``INSERT ... ON CONFLICT DO UPDATE`` is
stopped by it too, and by the UPDATE trigger. On PostgreSQL, ``ON CONFLICT DO UPDATE``
fires the row-level UPDATE trigger; TRUNCATE fires no row trigger, so each table also gets
a statement-level BEFORE TRUNCATE trigger.

The query log and hash-chain tables of spec/DESIGN.md ("Append-only tables") do not exist
yet; the migration that creates them adds their triggers.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LEDGER = "ledger_entry is append-only: record a superseding entry instead"
MESSAGES = {
    "ledger_entry": LEDGER,
    "decision": "decision is append-only: record a superseding decision instead",
    "audit_log": "audit_log is append-only: add an entry instead",
}
# Every key that REPLACE could replace on: the primary key and the unique columns.
KEYS = {
    "ledger_entry": "id = NEW.id",
    "decision": "id = NEW.id OR document_no = NEW.document_no",
    "audit_log": "id = NEW.id",
}
NEW_ROW_AND_DELETE = ("decision", "audit_log")  # ledger_entry has its triggers from 0003


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION append_only_refused() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END;
            $$ LANGUAGE plpgsql
            """
        )
        for name in NEW_ROW_AND_DELETE:
            op.execute(
                f"CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE ON {name} "
                f"FOR EACH ROW EXECUTE FUNCTION append_only_refused('{MESSAGES[name]}')"
            )
        for name, message in MESSAGES.items():
            op.execute(
                f"CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION append_only_refused('{message}')"
            )
        return
    for name in NEW_ROW_AND_DELETE:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {name}_no_{action.lower()} BEFORE {action} ON {name} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGES[name]}'); END"
            )
    for name, message in MESSAGES.items():
        op.execute(
            f"CREATE TRIGGER {name}_no_replace BEFORE INSERT ON {name} "
            f"WHEN EXISTS (SELECT 1 FROM {name} WHERE {KEYS[name]}) "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in MESSAGES:
            op.execute(f"DROP TRIGGER {name}_no_truncate ON {name}")
        for name in NEW_ROW_AND_DELETE:
            op.execute(f"DROP TRIGGER {name}_append_only ON {name}")
        op.execute("DROP FUNCTION append_only_refused()")
        return
    for name in MESSAGES:
        op.execute(f"DROP TRIGGER {name}_no_replace")
    for name in NEW_ROW_AND_DELETE:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER {name}_no_{action}")
