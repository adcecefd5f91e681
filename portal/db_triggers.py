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


def append_only(name: str, key: str = "id") -> None:
    """Refuse UPDATE, DELETE, REPLACE/UPSERT and TRUNCATE on ``name`` (primary key ``key``)."""
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
        f"WHEN EXISTS (SELECT 1 FROM {name} WHERE {key} = NEW.{key}) "
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


def head_forward_only(name: str) -> None:
    """A one-row head table whose ``count`` only grows: no DELETE, no TRUNCATE, no second
    row (REPLACE included), no UPDATE that does not raise the count."""
    message = f"{name} moves forward only: it anchors a hash chain"
    if _postgresql():
        _refusal_function()
        op.execute(
            f"CREATE FUNCTION {name}_forward_only() RETURNS trigger AS $$ "
            f"BEGIN IF TG_OP = 'DELETE' OR NEW.id <> OLD.id OR NEW.count <= OLD.count THEN "
            f"RAISE EXCEPTION '{message}'; END IF; RETURN NEW; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE TRIGGER {name}_forward_only BEFORE UPDATE OR DELETE ON {name} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}_forward_only()"
        )
        op.execute(
            f"CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION append_only_refused('{message}')"
        )
        return
    op.execute(
        f"CREATE TRIGGER {name}_forward_only BEFORE UPDATE ON {name} "
        f"WHEN NEW.id <> OLD.id OR NEW.count <= OLD.count "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )
    op.execute(
        f"CREATE TRIGGER {name}_no_delete BEFORE DELETE ON {name} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )
    op.execute(
        f"CREATE TRIGGER {name}_no_replace BEFORE INSERT ON {name} "
        f"WHEN EXISTS (SELECT 1 FROM {name}) BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )


def drop_head_forward_only(name: str) -> None:
    if _postgresql():
        op.execute(f"DROP TRIGGER IF EXISTS {name}_forward_only ON {name}")
        op.execute(f"DROP TRIGGER IF EXISTS {name}_no_truncate ON {name}")
        op.execute(f"DROP FUNCTION IF EXISTS {name}_forward_only()")
        return
    for suffix in ("forward_only", "no_delete", "no_replace"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}_{suffix}")
