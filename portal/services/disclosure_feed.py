"""The disclosures feed (``/feeds/disclosures.*``): every public change of a practitioner's
status as an item, written in the same transaction as the change (spec/DESIGN.md "Feeds").

Publication: a suspension, termination or cancellation is public from the day its 处理通知书
is issued (Hunan-Rules Art. 9(2)-(4); National-Procedure Art. 31); a case alone is not. A
person's *public periods* are the periods of their timeline that a notice has published
(``public_periods``). Each change (a notice, an approved restoration, a shortening, a
ledger correction, an upheld appeal) compares the public periods the feed last announced
with those after the change (``diff``) and writes the items that say what changed:
``suspended`` / ``terminated`` / ``cancelled``, ``restored``, ``shortened``, ``corrected``
(replacing the item it corrects) and ``withdrawn``.

Replaying the feed means, per code, the latest item (by id) with ``effective`` ≤ the day:
its ``status`` is the public status that day. To keep that true for every day from the
change on, the items of one change are written in the order of their ``effective`` day,
each with the status of that day, and the change also re-states each later day on which
the public status changes (a period starting, a restoration) or on which an earlier item
took effect (``_schedule``). A period that has ended stays in force until a restoration
is approved (RULES §5.3 I-8), as in the engine (``scoring.engine.shown_period``).
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlmodel import Session, col

from portal.models import DisclosureEvent, LedgerEntry, Notice, Practitioner, table
from scoring.engine import Timeline, shown_period
from scoring.model import STATUS_OF_KIND, Period

EVENTS = table(DisclosureEvent)
NOTICES = table(Notice)
LEDGER = table(LedgerEntry)
STATUS_TYPES = ("suspended", "terminated", "cancelled")
TYPES = (*STATUS_TYPES, "restored", "shortened", "corrected", "withdrawn")
TYPE_ZH = {"suspended": "暂停医保支付资格", "terminated": "终止医保支付资格",
           "cancelled": "注销医保支付资格", "restored": "恢复医保支付资格",
           "shortened": "缩减期限", "corrected": "更正", "withdrawn": "撤销"}  # fmt: skip
CAUSES = ("notice", "restoration", "shortening", "correction", "appeal", "agreement")


@dataclass(frozen=True)
class PublicPeriod:
    """A published period as the public sees it; ``key`` is the case that published it."""

    key: str
    kind: str
    start: date
    end: date | None
    reregister_from: date | None
    restored_on: date | None
    document_no: str

    @property
    def status(self) -> str:
        return STATUS_OF_KIND[self.kind]  # type: ignore[index]

    def dates(self) -> tuple[Any, ...]:
        return (self.kind, self.start, self.end, self.reregister_from)

    def to_json(self) -> dict[str, Any]:
        def iso(d: date | None) -> str | None:
            return d.isoformat() if d else None

        return {
            "key": self.key, "kind": self.kind, "start": self.start.isoformat(),
            "end": iso(self.end), "reregister_from": iso(self.reregister_from),
            "restored_on": iso(self.restored_on), "document_no": self.document_no,
        }  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PublicPeriod:
        def day(v: str | None) -> date | None:
            return date.fromisoformat(v) if v else None

        return cls(
            d["key"], d["kind"], date.fromisoformat(d["start"]), day(d["end"]),
            day(d["reregister_from"]), day(d["restored_on"]), d["document_no"],
        )  # fmt: skip


def public_periods(
    periods: tuple[Period, ...] | list[Period],
    published: dict[str, str],
    names: dict[str, str] | None = None,
) -> list[tuple[PublicPeriod, Period]]:
    """The periods a notice has published (``published``: case id → the notice's document
    number; an agreement action's linked entry → its document number), each with its key:
    the first published source among its sources (``names`` gives a linked entry's stable
    name). A case that no notice has published yet makes nothing public (Hunan-Rules Art. 9)."""
    result: list[tuple[PublicPeriod, Period]] = []
    keys: set[str] = set()
    for p in periods:
        cases = [s for s in p.sources if s in published]
        if not cases:
            continue
        key = (names or {}).get(cases[0], cases[0])
        while key in keys:  # one case, two periods (rare): still two keys
            key += "+"
        keys.add(key)
        pp = PublicPeriod(
            key, p.kind, p.start, p.end, p.reregister_from, p.restored_on, published[cases[-1]]
        )
        result.append((pp, p))
    return result


def status_on(periods: list[Period], day: date) -> tuple[str, Period | None]:
    """The public status on ``day`` and the period it shows (RULES §5.2 step 9, I-8)."""
    shown = shown_period(periods, day) if periods else None
    return (STATUS_OF_KIND[shown.kind] if shown else "normal"), shown


@dataclass(frozen=True)
class Change:
    """One typed difference between the announced and the current public periods."""

    type: str
    period: PublicPeriod
    effective: date
    key: str


def diff(
    before: list[PublicPeriod], after: list[PublicPeriod], on: date, cause: str
) -> list[Change]:
    """What changed between two sets of public periods, as feed item types: a new period
    (``suspended``/``terminated``/``cancelled`` from its start), a restoration
    (``restored`` from its day, RULES I-12), a changed period (``shortened`` for a
    shortening, Hainan-Rules Art. 16, or a linked suspension an early reinstatement ends,
    Hunan-Rules Art. 10; the status type for a period a later notice or agreement action
    extended; ``corrected`` otherwise) and a period that is gone (``withdrawn``, from
    ``on``)."""
    old = {p.key: p for p in before}
    new = {p.key: p for p in after}
    changes: list[Change] = []
    for key, p in new.items():
        was = old.get(key)
        if was is None:
            changes.append(Change(p.status, p, p.start, key))
            if p.restored_on is not None:
                changes.append(Change("restored", p, p.restored_on, key))
            continue
        if was.dates() != p.dates():
            kind = {"shortening": "shortened", "notice": p.status}.get(cause, "corrected")
            if cause == "agreement":  # reinstated early: its linked suspension ends sooner
                shorter = p.end is not None and was.end is not None and p.end < was.end
                kind = "shortened" if shorter else p.status
            changes.append(Change(kind, p, p.start if kind == p.status else on, key))
        if was.restored_on != p.restored_on:
            if p.restored_on is not None and was.restored_on is None:
                changes.append(Change("restored", p, p.restored_on, key))
            else:
                changes.append(Change("corrected", p, on, key))
        elif was.dates() == p.dates() and was.document_no != p.document_no:
            changes.append(Change(p.status if cause == "notice" else "corrected", p, on, key))
    for key, p in old.items():
        if key not in new:
            changes.append(Change("withdrawn", p, on, key))
    return changes


def _published(session: Session, person_id: int, until: date | None) -> dict[str, str]:
    query = select(NOTICES.c.decision_id, NOTICES.c.document_no, NOTICES.c.issued_on).where(
        NOTICES.c.practitioner_id == person_id
    )
    return {
        str(decision_id): document_no
        for decision_id, document_no, issued_on in session.execute(query).all()
        if until is None or issued_on <= until
    }


def _linked(
    session: Session, person_id: int, until: date | None
) -> tuple[dict[str, str], dict[str, str]]:
    """The periods of the institution's agreement actions in the person's timeline (RULES
    §5.4): public from the agreement decision's day, which is the linked entry's date. By
    the engine's source (``events[i]``, i in the live entries): the agreement's document
    number, and a stable name (``linked:<id of the first entry>``, kept through a
    correction such as an early reinstatement)."""
    from portal.services import ledger

    entries = ledger.person_entries(session, person_id)
    by_id = {e.id: e for e in entries}
    published: dict[str, str] = {}
    names: dict[str, str] = {}
    for i, entry in enumerate(ledger.live_entries(entries)):
        if entry.kind != "linked" or (until is not None and entry.event_date > until):
            continue
        root = entry
        while root.supersedes_id is not None and root.supersedes_id in by_id:
            root = by_id[root.supersedes_id]
        data = json.loads(entry.payload)
        cause = str(data.get("cause", ""))
        number = data.get("document_no") or cause.rpartition("（")[2].rstrip("）")
        published[f"events[{i}]"] = str(number)
        names[f"events[{i}]"] = f"linked:{root.id}"
    return published, names


def _items(session: Session, person_id: int) -> list[DisclosureEvent]:
    query = (
        select(DisclosureEvent)
        .where(col(DisclosureEvent.practitioner_id) == person_id)
        .order_by(col(DisclosureEvent.id))
    )
    return list(session.execute(query).scalars())


def _replayed(items: list[DisclosureEvent], day: date) -> str:
    """What the feed's items say ``day``'s status is (the latest item in force)."""
    status = "normal"
    for item in items:
        if item.effective_on <= day:
            status = item.status
    return status


def follow(
    session: Session,
    person: Practitioner,
    on: date,
    cause: str,
    timeline: Timeline | None = None,
    known: date | None = None,
) -> list[DisclosureEvent]:
    """Write the feed items of a change to ``person`` made public on ``on`` (the notice's
    issue date, the day of the restoration, shortening, correction or appeal decision), in
    the caller's transaction. ``known``: judge the periods as known that day, with the
    notices issued by then (the back-fill); otherwise as they stand now. Returns the new
    items (none when nothing public changed)."""
    from portal.services import ledger

    assert person.id is not None
    session.flush()
    timeline = timeline or ledger.timeline_of(session, person)
    periods = timeline.periods_on(known) if known else timeline.periods
    linked, names = _linked(session, person.id, known)
    pairs = public_periods(periods, {**_published(session, person.id, known), **linked}, names)
    after = [pp for pp, _ in pairs]
    shown = [p for _, p in pairs]
    old_items = _items(session, person.id)
    before = (
        [PublicPeriod.from_json(d) for d in json.loads(old_items[-1].view)] if old_items else []
    )
    if [p.to_json() for p in before] == [p.to_json() for p in after]:
        return []
    changes = diff(before, after, on, cause)
    last_of = {i.period_key: i.id for i in old_items}
    view = json.dumps([p.to_json() for p in after], ensure_ascii=False)
    now = datetime.now(UTC)
    written: list[DisclosureEvent] = []

    def write(
        type_: str, effective: date, period: PublicPeriod | None, key: str, replaces: bool
    ) -> None:
        status, shows = status_on(shown, effective)
        if period is None and shows is not None:  # a re-statement: the period it shows
            period = next(pp for pp, p in pairs if p is shows)
            key = period.key
        item = DisclosureEvent(
            type=type_,
            practitioner_id=person.id or 0,
            code=person.national_code,
            name=person.name,
            status=status,
            published_on=on,
            effective_on=effective,
            period_start=period.start if period else None,
            period_end=period.end if period else None,
            reregister_from=period.reregister_from if period else None,
            document_no=period.document_no if period else "",
            replaces_id=last_of.get(key) if replaces else None,
            period_key=key,
            view=view,
            recorded_at=now,
        )
        session.add(item)
        session.flush()
        last_of[key] = item.id
        written.append(item)

    main = next((c.type for c in changes if c.type not in STATUS_TYPES), "corrected")
    for kind, day, change in _schedule(changes, after, old_items, on):
        if change is not None:
            corrects = change.type in ("shortened", "corrected", "withdrawn")
            extends = change.type in STATUS_TYPES and change.key in last_of
            write(change.type, day, change.period, change.key, corrects or extends)
            continue
        said = written[-1].status if written and written[-1].effective_on <= day else None
        if kind == "check" and (said or _replayed(old_items, day)) == status_on(shown, day)[0]:
            continue
        status, _shows = status_on(shown, day)
        write(main if status == "normal" else status, day, None, "", False)
    return written


def _schedule(
    changes: list[Change], after: list[PublicPeriod], old: list[DisclosureEvent], on: date
) -> list[tuple[str, date, Change | None]]:
    """The items of one change in ``effective`` order: the typed changes, and a check on
    ``on`` and on every later day the status changes or an earlier item took effect
    (``restate``: always written then, so no earlier item outlives this change)."""
    days: dict[date, str] = {on: "check"}
    for p in after:
        for day in (p.start, p.restored_on):
            if day is not None and day > on:
                days.setdefault(day, "check")
    for item in old:
        if item.effective_on > on:
            days[item.effective_on] = "restate"
    plan: list[tuple[date, int, str, Change | None]] = []
    typed_days = set()
    for n, c in enumerate(changes):
        plan.append((c.effective, n, "typed", c))
        typed_days.add(c.effective)
    for day, kind in days.items():
        if kind == "restate" and day in typed_days:
            kind = "check"  # a typed item already states that day
        plan.append((day, len(changes) + 1, kind, None))
    plan.sort(key=lambda x: (x[0], x[1]))
    return [(kind, day, change) for day, _n, kind, change in plan]


# --- back-fill (existing notices; the demo data) ------------------------------------


def backfill(session: Session) -> int:
    """Write the feed of every practitioner with a notice, as things were known on each
    day (each notice's issue date, then each later ledger event), for data recorded before
    the feed existed. All people's changes are written in the order of their days, so the
    ids follow the publication days and a notice dated later than today holds back
    nothing but what comes after it. Idempotent: people who already have items are left
    alone. Returns the number of items written."""
    from portal.services import ledger

    have = set(session.execute(select(EVENTS.c.practitioner_id).distinct()).scalars())
    notices: dict[int, list[date]] = {}
    for pid, issued_on in session.execute(select(NOTICES.c.practitioner_id, NOTICES.c.issued_on)):
        if pid not in have:
            notices.setdefault(pid, []).append(issued_on)
    linked = select(LEDGER.c.practitioner_id, LEDGER.c.event_date).where(LEDGER.c.kind == "linked")
    agreements: dict[int, set[date]] = {}
    for pid, day in session.execute(linked):
        if pid not in have:
            notices.setdefault(pid, [])
            agreements.setdefault(pid, set()).add(day)
    plan: list[tuple[date, int, str]] = []
    people: dict[int, tuple[Practitioner, Timeline]] = {}
    for pid in sorted(notices):
        person = session.get(Practitioner, pid)
        assert person is not None
        entries = ledger.live_entries(ledger.person_entries(session, pid))
        people[pid] = (person, ledger.replay_entries(person.ruleset, entries))
        days = agreements.get(pid, set())
        first = min([*notices[pid], *days])
        causes: dict[date, str] = {d: "agreement" for d in days}
        causes |= {d: "notice" for d in notices[pid]}
        for e in entries:
            if e.event_date > first and e.event_date not in causes:
                causes[e.event_date] = {"shorten": "shortening", "restore": "restoration"}.get(
                    e.kind, "correction"
                )
        plan += [(day, pid, cause) for day, cause in causes.items()]
    count = 0
    for day, pid, cause in sorted(plan):
        person, timeline = people[pid]
        count += len(follow(session, person, day, cause, timeline, known=day))
    return count


# --- reading (the public site) --------------------------------------------------------


def horizon(conn: Connection, on: date) -> int:
    """The feed stops before the first item published after ``on``: a cursor never passes
    an item that is not public yet."""
    # ``id + 0``: SQLite would otherwise walk the ids from the smallest up, testing each
    # row's day (every item, when none is in the future); this reads the day's index.
    first = conn.execute(
        select(func.min(EVENTS.c.id + 0)).where(EVENTS.c.published_on > on)
    ).scalar()
    return int(first) if first is not None else 2**31 - 1  # the column is a 32-bit integer


def latest(conn: Connection, on: date) -> int:
    """The newest item id the feed shows on ``on`` (the largest valid cursor)."""
    top = conn.execute(select(func.max(EVENTS.c.id)).where(EVENTS.c.id < horizon(conn, on)))
    return int(top.scalar() or 0)


def _item(m: Any) -> dict[str, Any]:
    return {
        "id": m["id"], "type": m["type"], "code": m["code"], "name": m["name"],
        "status": m["status"], "published": m["published_on"], "effective": m["effective_on"],
        "period_start": m["period_start"], "period_end": m["period_end"],
        "reregister_from": m["reregister_from"], "document_no": m["document_no"],
        "replaces": m["replaces_id"],
    }  # fmt: skip


COLUMNS = list(_item({k: None for k in (
    "id", "type", "code", "name", "status", "published_on", "effective_on", "period_start",
    "period_end", "reregister_from", "document_no", "replaces_id")}))  # fmt: skip
EXTRACT_COLUMNS = [
    "code",
    "name",
    "status",
    "period_start",
    "period_end",
    "reregister_from",
    "document_no",
]


def items(conn: Connection, on: date, since: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    """The feed after the ``since`` cursor, in the DESIGN item shape; nothing published
    after ``on`` (and nothing after the first such item)."""
    query = (
        select(EVENTS)
        .where(EVENTS.c.id > since, EVENTS.c.id < horizon(conn, on))
        .order_by(EVENTS.c.id)
        .limit(limit)
    )
    return [_item(r._mapping) for r in conn.execute(query)]


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def extract(conn: Connection, end: date) -> list[dict[str, Any]]:
    """The public state at the end of ``end``'s day (a monthly extract): per code the latest
    item with ``effective`` and ``published`` ≤ ``end``, kept when its status is not
    normal; by code."""
    top = (
        select(func.max(EVENTS.c.id).label("id"))
        .where(EVENTS.c.effective_on <= end, EVENTS.c.published_on <= end)
        .group_by(EVENTS.c.code)
        .subquery()
    )
    query = (
        select(EVENTS)
        .join(top, top.c.id == EVENTS.c.id)
        .where(EVENTS.c.status != "normal")
        .order_by(EVENTS.c.code)
    )
    return [_item(r._mapping) for r in conn.execute(query)]


def changes(conn: Connection, start: date, end: date) -> list[dict[str, Any]]:
    """The items that enter the public state between ``start`` and ``end``: published then,
    or published earlier and taking effect then (so that a month's extract plus the next
    month's changes is the next month's extract), in feed order."""
    two = (EVENTS.c.published_on, EVENTS.c.effective_on)
    entered: Any = func.greatest(*two) if conn.dialect.name == "postgresql" else func.max(*two)
    query = (
        select(EVENTS)
        .where(entered >= start, entered <= end)
        .where(EVENTS.c.published_on <= end)
        .order_by(EVENTS.c.id)
    )
    return [_item(r._mapping) for r in conn.execute(query)]
