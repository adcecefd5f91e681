"""The points ledger as a hash chain (spec/DESIGN.md: a receipt's ``data_version`` is the
id and hash of the latest ledger entry; ``portal ledger verify`` checks the chain).

- **Hash.** Link n carries ``seq`` = n, ``prev_hash`` = the hash of link n-1 (64 zeros for
  the first) and ``hash`` = SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8)
  of the entry's columns (``id, practitioner_id, kind, event_date, decision_id, payload,
  supersedes_id, recorded_by, recorded_at, reason``; dates ISO, ``recorded_at`` as UTC
  ``YYYY-MM-DDTHH:MM:SS.ffffffZ``) with ``seq`` and ``prev_hash``.
- **Order.** Links follow commit order, not id order (two writers may commit out of id
  order): a session's new entries are chained when its transaction commits, under a lock
  on ``ledger_head``, before the audit head (portal.services.at_commit). Bulk writers on a
  Connection call :func:`append` themselves (the demo loader).
- **Append-only.** ``ledger_chain`` refuses UPDATE/DELETE/REPLACE/TRUNCATE; ``ledger_head``
  moves forward only (migration 0011). Rewriting an entry's content, deleting the newest
  entries or writing an entry around the chain is reported by :func:`verify`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from portal.models import LedgerChain, LedgerEntry, LedgerHead, table
from portal.services import at_commit
from portal.services.audit import GENESIS, instant

CHAIN, HEAD, ENTRIES = table(LedgerChain), table(LedgerHead), table(LedgerEntry)
COLUMNS = ("id", "practitioner_id", "kind", "event_date", "decision_id", "payload",
           "supersedes_id", "recorded_by", "recorded_at", "reason")  # fmt: skip
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return instant(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def link_hash(entry: dict[str, Any], seq: int, prev_hash: str) -> str:
    """The SHA-256 (hex) of an entry's columns, its place in the chain and the link before."""
    content = {name: _value(entry[name]) for name in COLUMNS}
    content.update(seq=seq, prev_hash=prev_hash)
    return hashlib.sha256(_CANONICAL.encode(content).encode("utf-8", "surrogatepass")).hexdigest()


def entry_row(entry: LedgerEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in COLUMNS}


def queue(session: Any, entry: LedgerEntry) -> None:
    """Chain ``entry`` (flushed: it has its id) when the session's transaction commits."""
    at_commit.queue(session, "ledger", entry_row(entry))


def append(conn: Connection, entries: Iterable[dict[str, Any]]) -> int:
    """Chain ``entries`` (dicts of :data:`COLUMNS`, already inserted in this transaction)
    under the head lock, in the order given; the new count."""
    found = conn.execute(
        select(HEAD.c.count, HEAD.c.hash).where(HEAD.c.id == 1).with_for_update()
    ).one_or_none()
    if found is None:
        raise RuntimeError("ledger_head is missing: run `portal db upgrade`")
    count, prev = int(found[0]), str(found[1])
    links, last_entry = [], None
    for entry in entries:
        count += 1
        digest = link_hash(entry, count, prev)
        links.append({"seq": count, "entry_id": entry["id"], "prev_hash": prev, "hash": digest})
        prev, last_entry = digest, entry["id"]
    if links:
        conn.execute(insert(CHAIN), links)
        conn.execute(
            update(HEAD).where(HEAD.c.id == 1).values(count=count, entry_id=last_entry, hash=prev)
        )
    return count


at_commit.writer("ledger", 10, append)  # before the audit head (100)


@dataclass(frozen=True)
class DataVersion:
    """The newest link: what a receipt names as the data it was answered from."""

    entry: int | None
    hash: str


def data_version(conn: Connection) -> DataVersion:
    row = conn.execute(select(HEAD.c.entry_id, HEAD.c.hash).where(HEAD.c.id == 1)).one_or_none()
    return DataVersion(None, GENESIS) if row is None else DataVersion(row[0], str(row[1]))


@dataclass
class ChainReport:
    count: int = 0
    entries: int = 0
    head_hash: str | None = None
    broken: str | None = None  # the first problem, in words
    unchained: list[int] | None = None  # entries written around the chain (first few)

    @property
    def ok(self) -> bool:
        return self.broken is None and not self.unchained


def verify(engine: Engine, progress: Callable[[int], None] | None = None) -> ChainReport:
    """Walk the chain in seq order, recomputing every link from its entry; then the head;
    then entries no link names. The first problem is reported, in words."""
    report = ChainReport()
    columns = [ENTRIES.c[name] for name in COLUMNS]
    query = (
        select(CHAIN.c.seq, CHAIN.c.prev_hash, CHAIN.c.hash, *columns)
        .select_from(CHAIN.outerjoin(ENTRIES, ENTRIES.c.id == CHAIN.c.entry_id))
        .order_by(CHAIN.c.seq)
    )
    prev, expected, last_entry = GENESIS, 1, None
    with engine.connect() as conn:
        for row in conn.execute(query, execution_options={"yield_per": 5000}):
            seq, link_prev, link = row[0], row[1], row[2]
            entry = dict(zip(COLUMNS, row[3:], strict=True))
            if seq != expected:
                report.broken = f"link {expected} is missing (next is {seq})"
                break
            if entry["id"] is None:
                report.broken = f"link {seq}: its ledger entry is gone"
                break
            if link_prev != prev or link_hash(entry, seq, prev) != link:
                report.broken = f"ledger entry #{entry['id']} (link {seq}) was changed"
                break
            prev, expected, last_entry = link, expected + 1, entry["id"]
            report.count = seq
            if progress is not None and seq % 5000 == 0:
                progress(5000)
        head = conn.execute(select(HEAD.c.count, HEAD.c.entry_id, HEAD.c.hash)).one_or_none()
        report.head_hash = prev
        if report.broken is None:
            if head is None:
                report.broken = "ledger_head is missing"
            elif (int(head[0]), head[1], str(head[2])) != (report.count, last_entry, prev):
                report.broken = (
                    f"the head says {int(head[0])} links ending at entry #{head[1]}, "
                    f"the chain has {report.count} ending at #{last_entry}: newest links removed"
                )
        report.entries = int(conn.execute(select(func.count()).select_from(ENTRIES)).scalar_one())
        if report.entries != report.count or report.broken is not None:
            linked = select(CHAIN.c.entry_id)
            report.unchained = list(
                conn.execute(
                    select(ENTRIES.c.id)
                    .where(ENTRIES.c.id.not_in(linked))
                    .order_by(ENTRIES.c.id)
                    .limit(20)
                ).scalars()
            )
    return report
