"""The database: URL from the operator's words, engines, sessions and migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlmodel import Session

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_URL = "sqlite:///portal.db"


class DatabaseURLError(ValueError):
    pass


def normalise_url(url: str) -> URL:
    """``sqlite:///file.db`` or ``postgresql://user@host:5432/db`` as operators write them.

    The driver is the project's business: PostgreSQL goes through psycopg 3; query options
    such as ``sslmode`` are kept.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a terse message
        raise DatabaseURLError(f"DATABASE_URL is not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return parsed.set(drivername="sqlite")
    raise DatabaseURLError(f"DATABASE_URL must be sqlite:/// or postgresql://, got {backend!r}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun by _sqlite_begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # A province's registry is a few hundred MB: map it and keep hot pages in memory, so
    # a look-up of a doctor not seen for a while costs no read() system calls.
    cursor.execute("PRAGMA mmap_size=1073741824")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # pysqlite would begin lazily and deferred; a writer must take the write lock first, or
    # two writers that both read before writing fail instead of waiting (SQLITE_BUSY).
    conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('sqlite_begin', 'DEFERRED')}")


def make_engine(url: str, schema: str | None = None, reads: bool = False) -> Engine:
    """An engine for the operator's URL; ``schema`` (PostgreSQL) isolates a test run.

    ``reads``: a pool for one-statement reads (the public look-ups), in autocommit, so a
    look-up costs one round trip, not BEGIN, SELECT and ROLLBACK.
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        if not reads:  # without BEGIN, pysqlite (isolation_level None) runs each alone
            event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
    return create_engine(
        parsed,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        connect_args=connect_args,
        isolation_level="AUTOCOMMIT" if reads else None,
    )


def alembic_config(engine: Engine, secret: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    config.attributes["secret"] = secret
    return config


def upgrade(engine: Engine, secret: str | None = None) -> None:
    """Apply every migration (``portal db upgrade``; ``portal serve`` does it on start).

    ``secret``: needed by migrations that seal existing private data (0005)."""
    command.upgrade(alembic_config(engine, secret), "head")


def is_empty(engine: Engine) -> bool:
    return not inspect(engine).has_table("practitioner")


@contextmanager
def session_scope(engine: Engine, write: bool = False) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any error.

    ``write=True`` takes SQLite's write lock at the start (BEGIN IMMEDIATE) so concurrent
    writers queue instead of failing; PostgreSQL writers lock the rows they change.
    """
    bind = engine.execution_options(sqlite_begin="IMMEDIATE") if write else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
