"""Triggers that make a table append-only, or freeze its finished rows, on SQLite and
PostgreSQL (spec/DESIGN.md "Append-only tables"): for migrations from 0010 on.

SQLite has no TRUNCATE and turns ``INSERT OR REPLACE`` / ``REPLACE INTO`` / an UPSERT into a
delete-and-insert or an update: a BEFORE INSERT trigger refuses a row whose id exists, and
the UPDATE trigger refuses the UPSERT's update."""

from __future__ import annotations

from alembic import op


def _postgresql() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _refusal_function() -> None:
    op.execute(
        "CREATE OR REPLACE FUNCTION append_only_refused() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END; $$ LANGUAGE plpgsql"
    )


def append_only(name: str) -> None:
    """Refuse UPDATE, DELETE, REPLACE/UPSERT and TRUNCATE on ``name``."""
    message = f"{name} is append-only: add a row instead"
    if _postgresql():
        _refusal_function()
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


def drop_append_only(name: str) -> None:
    if _postgresql():
        op.execute(f"DROP TRIGGER IF EXISTS {name}_append_only ON {name}")
        op.execute(f"DROP TRIGGER IF EXISTS {name}_no_truncate ON {name}")
        return
    for action in ("update", "delete", "replace"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}_no_{action}")


def frozen_when(name: str, condition: str) -> None:
    """Refuse UPDATE and DELETE of the rows of ``name`` for which ``condition`` (SQL over
    ``OLD``) holds, e.g. a published catalogue version."""
    message = f"{name}: this row is final and cannot change"
    if _postgresql():
        _refusal_function()
        op.execute(
            f"CREATE TRIGGER {name}_frozen BEFORE UPDATE OR DELETE ON {name} "
            f"FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION append_only_refused('{message}')"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {name}_frozen_{action.lower()} BEFORE {action} ON {name} "
            f"WHEN {condition} BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def drop_frozen(name: str) -> None:
    if _postgresql():
        op.execute(f"DROP TRIGGER IF EXISTS {name}_frozen ON {name}")
        return
    for action in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}_frozen_{action}")
