"""Rows written when a session's transaction commits: the hash chains (the ledger's, then
the audit log's) are extended at commit, after the transaction's last flush, each under a
lock on its head row, in a fixed order (``order``: lower first) so two transactions can
never wait for each other's heads.

A service queues a row with :func:`queue` while it works; until the commit the row is not
in its table. Rows queued inside a savepoint that is rolled back, or a transaction that is,
are dropped with it; a savepoint's release keeps them for the outer commit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)
_PENDING = "portal.at_commit.pending"
Writer = Callable[[Connection, list[dict[str, Any]]], Any]
_WRITERS: list[tuple[int, str, Writer]] = []


@dataclass
class _Pending:
    name: str
    row: dict[str, Any]
    transaction: SessionTransaction  # innermost at the time: a savepoint's rollback drops it


def writer(name: str, order: int, write: Writer) -> None:
    """Register ``write(conn, rows)`` for the rows queued under ``name``."""
    _WRITERS.append((order, name, write))
    _WRITERS.sort(key=lambda w: w[0])


def queue(session: Session, name: str, row: dict[str, Any]) -> None:
    """Write ``row`` with ``name``'s writer when ``session``'s transaction commits."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:
        transaction = session.begin()
    session.info.setdefault(_PENDING, []).append(_Pending(name, row, transaction))


def _write_pending(session: Session) -> None:
    pending: list[_Pending] | None = session.info.get(_PENDING)
    if not pending or session.in_nested_transaction():
        return  # a savepoint's release: its rows go in with the outer commit
    session.flush()  # everything else first: the heads are the last locks taken
    rows = list(pending)
    pending.clear()
    for _order, name, write in _WRITERS:
        mine = [p.row for p in rows if p.name == name]
        if mine:
            write(session.connection(), mine)


def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    pending: list[_Pending] | None = session.info.get(_PENDING)
    if pending:
        pending[:] = [p for p in pending if not _within(p.transaction, previous_transaction)]


def _within(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


def _unwritten_after_commit(session: Session) -> None:
    """Only reachable by committing the outer transaction while a savepoint is still open
    (``before_commit`` then looks like a savepoint's): say so loudly."""
    if session.info.get(_PENDING) and not session.in_nested_transaction():
        log.error("rows not written at commit: the transaction was committed with a "
                  "savepoint open; commit or roll back savepoints first")  # fmt: skip


def _forget_at_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed (written above) or not: nothing stays
        session.info.pop(_PENDING, None)


event.listen(Session, "before_commit", _write_pending)
event.listen(Session, "after_commit", _unwritten_after_commit)
event.listen(Session, "after_soft_rollback", _drop_rolled_back)
event.listen(Session, "after_transaction_end", _forget_at_end)
