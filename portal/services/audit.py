"""The audit log as a hash chain, and the two logs the auditor reads.

Every change is an audit entry: who, when, what, why, and before/after where a row changed
in place (spec/DESIGN.md "Admin"). The log is tamper-evident:

- **Hash.** Entry n carries ``seq`` = n, ``prev_hash`` = the hash of entry n-1 (64 zeros
  for the first) and ``hash`` = SHA-256 of the canonical JSON (sorted keys, no spaces,
  UTF-8) of ``seq, at, actor, action, entity, entity_id, reason, detail, prev_hash``, with
  ``at`` as UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` and ``detail`` the stored JSON text.
- **Head.** ``audit_head`` (one row, outside the chain) holds the count and the newest
  hash, updated in the transaction that adds entries: deleting the newest entries leaves
  the head ahead of the chain, which ``verify`` reports.
- **Order and locking.** ``record`` only queues the entry (portal.services.at_commit); the
  entries are chained and inserted when the transaction commits (``before_commit``), after
  its last flush, under a lock on the head row (``SELECT … FOR UPDATE`` on PostgreSQL;
  SQLite has one writer at a time). The head is therefore the last lock any transaction
  takes, and a transaction holding it waits for nothing else: it cannot deadlock with the
  person and application row locks the services take earlier. Entries of a savepoint that is
  rolled back, or of a transaction that is, are dropped with it.
- **Append-only.** The database refuses UPDATE, DELETE, REPLACE/UPSERT and TRUNCATE on
  ``audit_log`` and ``query_log``; the head moves forward only (migration 0008).

``portal audit verify`` walks the chain in id order and names the first broken entry.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session as ModelSession
from sqlmodel import SQLModel, col
from sqlmodel import select as model_select

from portal.clock import CHINA
from portal.models import AuditHead, AuditLog, QueryLog, table
from portal.services import at_commit

GENESIS = "0" * 64
log = logging.getLogger(__name__)
_PENDING = "portal.audit.pending"
# Columns never copied into before/after: secrets, password and token hashes, sealed data.
_HIDDEN = ("_hash", "digest", "_sealed", "secret", "token")


_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def instant(at: datetime) -> str:
    """One spelling of a moment, whatever the database hands back (SQLite: naive UTC)."""
    utc = at.replace(tzinfo=UTC) if at.utcoffset() is None else at.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None,
    reason: str,
    detail: str,
    prev_hash: str,
) -> str:
    """The SHA-256 (hex) of an entry's content and its predecessor's hash."""
    content = {
        "seq": seq,
        "at": instant(at),
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "reason": reason,
        "detail": detail,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(_CANONICAL.encode(content).encode("utf-8", "surrogatepass")).hexdigest()


# --- writing --------------------------------------------------------------------------------


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None,
    reason: str,
    detail: str,
) -> None:
    """Add an entry to the audit log when ``session``'s transaction commits.

    Callers use ``portal.services.registry.audit``. Until the commit the entry is not in
    the table (a query in the same transaction does not see it)."""
    if at.utcoffset() is None:
        raise ValueError("audit entries need an aware time (datetime.now(UTC))")
    row = {"at": at, "actor": actor, "action": action, "entity": entity,
           "entity_id": entity_id, "reason": reason, "detail": detail}  # fmt: skip
    at_commit.queue(session, "audit", row)


def append(conn: Connection, rows: Iterable[dict[str, Any]]) -> int:
    """Chain and insert ``rows`` (``at, actor, action, entity, entity_id, reason, detail``)
    in ``conn``'s transaction, under the head lock; the new count. For writers that work
    on a Connection (bulk loads); a Session's entries come here at its commit."""
    head = table(AuditHead)
    found = conn.execute(
        select(head.c.count, head.c.hash).where(head.c.id == 1).with_for_update()
    ).one_or_none()
    if found is None:
        raise RuntimeError("audit_head is missing: run `portal db upgrade`")
    count, prev = int(found[0]), str(found[1])
    chained = []
    for row in rows:
        count += 1
        digest = entry_hash(seq=count, prev_hash=prev, **row)
        chained.append({**row, "seq": count, "prev_hash": prev, "hash": digest})
        prev = digest
    if chained:  # in list order, so ids follow seq
        conn.execute(insert(table(AuditLog)), chained)
        conn.execute(update(head).where(head.c.id == 1).values(count=count, hash=prev))
    return count


# The audit head is the last lock a transaction takes (portal.services.at_commit).
at_commit.writer("audit", 100, append)


_MODELS: dict[str, type[Any]] = {}


def changes(session: Session, entity: str, entity_id: int | None) -> tuple[dict[str, Any], ...]:
    """``(before, after)`` of the columns of ``entity`` #``entity_id`` changed in this
    session and not yet flushed (a workflow row changed in place), or ``()``."""
    if entity_id is None:
        return ()
    if not _MODELS:
        for mapper in SQLModel._sa_registry.mappers:
            _MODELS[str(getattr(mapper.local_table, "name", ""))] = mapper.class_
    model = _MODELS.get(entity)
    if model is None:
        return ()
    found = session.identity_map.get(identity_key(model, entity_id))
    if found is None:
        return ()
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for attr in inspect(found).attrs:
        if attr.key.endswith(_HIDDEN):
            continue
        history = attr.history  # emits no load
        if history.added and history.deleted:
            before[attr.key], after[attr.key] = _shown(history.deleted[0]), _shown(history.added[0])
    return (before, after) if after else ()


def _shown(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 500:
        return value[:500] + "…"
    return value


# --- verifying ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Broken:
    """The first broken link: the entry (None when the newest are missing) and why."""

    entry_id: int | None
    seq: int | None
    reason: str


@dataclass
class ChainReport:
    count: int = 0  # entries walked
    head_count: int | None = None
    head_hash: str | None = None
    broken: Broken | None = None
    last_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None


def size(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table(AuditLog))).scalar_one())


_WALKED = ("id", "seq", "prev_hash", "hash", "at", "actor", "action", "entity", "entity_id",
           "reason", "detail")  # fmt: skip


def verify(engine: Engine, progress: Callable[[int], None] | None = None) -> ChainReport:
    """Walk the chain in id order: each entry's seq follows, its prev_hash is the hash of
    the entry before, its hash matches its content; then the head agrees with the newest.
    Stops at the first broken link. One snapshot (a writer meanwhile changes nothing)."""
    report = ChainReport()
    log, head = table(AuditLog), table(AuditHead)
    bind = engine
    if engine.dialect.name == "postgresql":
        bind = engine.execution_options(isolation_level="REPEATABLE READ")
    with bind.connect() as conn, conn.begin():
        anchor = conn.execute(select(head.c.count, head.c.hash).where(head.c.id == 1)).first()
        if anchor is not None:
            report.head_count, report.head_hash = int(anchor[0]), str(anchor[1])
        limit = report.head_count if report.head_count is not None else -1
        rows = conn.execution_options(stream_results=True, yield_per=5000).execute(
            select(*(log.c[name] for name in _WALKED)).order_by(log.c.id)
        )
        prev, prev_id, count = GENESIS, None, 0
        for row in rows:
            row_id, seq, prev_hash, digest, *content = row
            count += 1
            sound = seq == count and prev_hash == prev and seq != limit + 1
            if not sound or digest != entry_hash(seq=seq, prev_hash=prev, **_content(content)):
                report.count = count - 1
                report.broken = _diagnose(row, count, prev, prev_id, report.head_count)
                return report
            prev, prev_id = digest, row_id
            if progress is not None and count % 1000 == 0:
                progress(1000)
        if progress is not None:
            progress(count % 1000)
    report.count, report.last_id = count, prev_id
    report.broken = _check_head(report, prev, prev_id)
    return report


def _content(values: list[Any]) -> dict[str, Any]:
    at, actor, action, entity, entity_id, reason, detail = values
    return {"at": at, "actor": actor, "action": action, "entity": entity,
            "entity_id": entity_id, "reason": reason, "detail": detail}  # fmt: skip


def _diagnose(row: Any, seq: int, prev: str, prev_id: int | None, head_count: int | None) -> Broken:
    """Why the entry after ``prev_id`` (due to have ``seq``) breaks the chain."""
    after = f"entry #{prev_id}" if prev_id is not None else "the start of the chain"
    if row.seq is None or row.hash is None or row.prev_hash is None:
        return Broken(row.id, row.seq, "not chained (no seq or hash): written around audit()")
    if row.seq > seq:
        return Broken(
            row.id, row.seq,
            f"seq {row.seq} where {seq} was due: {row.seq - seq} entries missing after {after}",
        )  # fmt: skip
    if row.seq < seq:
        return Broken(row.id, row.seq, f"seq {row.seq} where {seq} was due: a repeated entry")
    if row.prev_hash != prev:
        return Broken(
            row.id, row.seq, f"prev_hash is not the hash of {after} (rewritten or removed)"
        )
    well_made = entry_hash(seq=row.seq, prev_hash=prev, **_content(list(row)[4:])) == row.hash
    if well_made and head_count is not None and row.seq > head_count:
        return Broken(
            row.id, row.seq, f"beyond the head, which anchors {head_count} entries (inserted)"
        )
    return Broken(row.id, row.seq, "content does not match its hash (changed after writing)")


def _check_head(report: ChainReport, prev: str, prev_id: int | None) -> Broken | None:
    if report.head_count is None:
        return Broken(None, None, "the head row (audit_head) is missing")
    if report.head_count > report.count:
        last = f"entry #{prev_id}" if prev_id is not None else "the start"
        return Broken(
            None, report.count + 1,
            f"the head anchors {report.head_count} entries, the chain has {report.count}: "
            f"the newest {report.head_count - report.count} after {last} are missing",
        )  # fmt: skip
    if report.head_hash != prev:
        return Broken(prev_id, report.count, "the newest entry's hash is not the head's hash")
    return None


def head(session: Session) -> AuditHead | None:
    return session.get(AuditHead, 1)


# --- searching (the auditor's pages) ----------------------------------------------------------


@dataclass(frozen=True)
class Found:
    rows: list[Any]
    total: int


@dataclass(frozen=True)
class Period:
    """Days in China, both inclusive; either may be open."""

    since: date | None = None
    until: date | None = None

    def where(self, column: Any) -> list[Any]:
        clauses = []
        if self.since is not None:
            clauses.append(column >= datetime.combine(self.since, time(), CHINA))
        if self.until is not None:
            end = datetime.combine(self.until + timedelta(days=1), time(), CHINA)
            clauses.append(column < end)
        return clauses


@dataclass(frozen=True)
class AuditSearch:
    actor: str = ""
    entity: str = ""
    entity_id: int | None = None
    action: str = ""  # an action or its beginning: ``ledger_`` finds every ledger entry
    text: str = ""  # in the reason or the detail (a national code, a document number)
    period: Period = field(default_factory=Period)


def audit_entries(session: ModelSession, search: AuditSearch, page: int, per_page: int) -> Found:
    """Newest first."""
    clauses = search.period.where(col(AuditLog.at))
    if search.actor:
        clauses.append(col(AuditLog.actor) == search.actor)
    if search.entity:
        clauses.append(col(AuditLog.entity) == search.entity)
    if search.entity_id is not None:
        clauses.append(col(AuditLog.entity_id) == search.entity_id)
    if search.action:
        clauses.append(col(AuditLog.action).startswith(search.action, autoescape=True))
    if search.text:
        clauses.append(
            col(AuditLog.detail).contains(search.text, autoescape=True)
            | col(AuditLog.reason).contains(search.text, autoescape=True)
        )
    return _page(session, AuditLog, clauses, page, per_page)


@dataclass(frozen=True)
class QuerySearch:
    actor: str = ""
    subject: str = ""  # the national code or credit code looked at
    what: str = ""  # portal.services.querylog.WHAT_ZH
    period: Period = field(default_factory=Period)


def query_entries(session: ModelSession, search: QuerySearch, page: int, per_page: int) -> Found:
    """Newest first."""
    clauses = search.period.where(col(QueryLog.at))
    if search.actor:
        clauses.append(col(QueryLog.actor) == search.actor)
    if search.subject:
        clauses.append(col(QueryLog.subject) == search.subject)
    if search.what:
        clauses.append(col(QueryLog.what) == search.what)
    return _page(session, QueryLog, clauses, page, per_page)


def _page(session: ModelSession, model: Any, clauses: list[Any], page: int, per_page: int) -> Found:
    counted = model_select(func.count()).select_from(model)
    listed = model_select(model).order_by(col(model.id).desc())
    for clause in clauses:
        counted, listed = counted.where(clause), listed.where(clause)
    total = int(session.exec(counted).one())
    rows = list(session.exec(listed.offset((page - 1) * per_page).limit(per_page)))
    return Found(rows, total)
