"""What the public may see: search, a practitioner's status, disclosures, the blacklist and
feeds. Read-only, plain queries on a connection.

Privacy (RULES §9; Hunan-Credit Art. 5, 36): nothing here selects an ID number (hash or
mask), a phone number or a birth date; names, codes, institutions, statuses and published
decisions only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, or_, select

from portal.credit_models import BlacklistEvent, BlacklistListing
from portal.models import (
    Decision,
    DisclosureEvent,
    Institution,
    Notice,
    PortalMeta,
    Practitioner,
    Registration,
    table,
)
from portal.services.lookup import (
    Found,
    StatusUnknown,
    cached_status,
    status_by_code,
    statuses_by_id,
)
from scoring.model import STATUS_OF_KIND, StatusOn
from scoring.rulesets import practitioner_ruleset

PEOPLE = table(Practitioner)
REGS = table(Registration)
INST = table(Institution)
NOTICES = table(Notice)
DECISIONS = table(Decision)
FEED_ITEMS = table(DisclosureEvent)
PUBLIC_STATUSES = ("suspended", "terminated", "cancelled")


@dataclass(frozen=True)
class Site:
    code: str
    name: str
    region: str
    kind: str


@dataclass
class PublicPerson:
    code: str
    name: str
    practice_type: str
    title: str
    status: StatusOn
    sites: list[Site]
    points_public: bool
    decisions: list[dict[str, Any]] = field(default_factory=list)
    scope: str = ""
    restored_on: str | None = None  # the latest restoration in force, while status is normal

    def api(self) -> dict[str, Any]:
        sites = [{"code": x.code, "name": x.name} for x in self.sites]
        return status_answer(self.code, self.name, self.status, sites, self.points_public)


def points_are_public(ruleset_id: str, status: StatusOn) -> bool:
    """Points are published with a suspension or termination, and from the ruleset's
    threshold otherwise (Hunan-Rules Art. 9(2)-(4); Anhui-Rules Art. 19(2); Hainan Art. 15)."""
    threshold = practitioner_ruleset(ruleset_id).publish_points_from
    return status.status != "normal" or status.year_points >= threshold


def status_answer(
    code: str, name: str, status: StatusOn, institutions: list[dict[str, str]], points: bool
) -> dict[str, Any]:
    """The status API's shape (spec/DESIGN.md "Public contracts", "Batch").

    Nothing is paid for a person registered at no institution on that day, as at settlement
    (ledger.settlement_check); ``reason`` says why when ``payable`` is false."""
    s = status
    registered = bool(institutions)
    payable = s.payable and registered
    reason = None if payable else (s.status if s.status != "normal" else "not_registered")
    return {
        "code": code,
        "name": name,
        "status": s.status,
        "period_start": s.period_start.isoformat() if s.period_start else None,
        "period_end": s.period_end.isoformat() if s.period_end else None,
        "reregister_from": s.reregister_from.isoformat() if s.reregister_from else None,
        "restoration_pending": s.restoration_pending,
        "payable": payable,
        "emergency_payable": s.emergency_payable and registered,
        "reason": reason,
        "year_points": s.year_points if points else None,
        "as_of": s.on.isoformat(),
        "institutions": institutions,
    }


_SITES = (
    select(REGS.c.practitioner_id, INST.c.code, INST.c.name, INST.c.region, INST.c.kind)
    .select_from(REGS.join(INST, INST.c.id == REGS.c.institution_id))
    .where(REGS.c.practitioner_id.in_(bindparam("ids", expanding=True)))
    .where(REGS.c.registered_on <= bindparam("on", type_=REGS.c.registered_on.type))
    .where(
        or_(
            REGS.c.deregistered_on.is_(None),
            REGS.c.deregistered_on > bindparam("on", type_=REGS.c.registered_on.type),
        )
    )
    .order_by(REGS.c.practitioner_id, INST.c.code)
)


def _sites(conn: Connection, person_ids: list[int], on: date) -> dict[int, list[Site]]:
    sites: dict[int, list[Site]] = {pid: [] for pid in person_ids}
    for pid, code, name, region, kind in conn.execute(_SITES, {"ids": person_ids, "on": on}):
        sites[pid].append(Site(code, name, region, kind))
    return sites


def person(conn: Connection, code: str, on: date, decisions: bool = True) -> PublicPerson | None:
    """A practitioner as the public sees them on ``on`` (``decisions``: with the published
    suspensions and terminations, for the status page)."""
    found = status_by_code(conn, code, on)
    if found is None:
        return None
    return _public(conn, found, _sites(conn, [found.id], on)[found.id], decisions)


def _public(conn: Connection, found: Found, sites: list[Site], decisions: bool) -> PublicPerson:
    points_public = points_are_public(found.ruleset, found.status)
    result = PublicPerson(
        found.national_code,
        found.name,
        found.practice_type,
        found.title,
        found.status,
        sites,
        points_public,
        scope=found.scope,
    )
    if decisions:
        notices = conn.execute(
            select(
                NOTICES.c.issued_on,
                NOTICES.c.points,
                NOTICES.c.status,
                NOTICES.c.period_start,
                NOTICES.c.period_end,
                NOTICES.c.reregister_from,
                DECISIONS.c.document_no,
                DECISIONS.c.decision_date,
                DECISIONS.c.decision_type,
                DECISIONS.c.legal_basis,
            )
            .select_from(NOTICES.join(DECISIONS, DECISIONS.c.id == NOTICES.c.decision_id))
            .where(NOTICES.c.practitioner_id == found.id)
            .where(NOTICES.c.status.in_(PUBLIC_STATUSES))
            .where(NOTICES.c.issued_on <= found.status.on)
            .order_by(DECISIONS.c.decision_date.desc())
        )
        result.decisions = [dict(r._mapping) for r in notices]
        restored = restorations(conn, found.id, found.status.on)
        for d in result.decisions:
            start = d["period_start"]
            d["restored_on"] = restored.get((d["status"], str(start) if start else ""))
        if found.status.status == "normal" and restored:
            result.restored_on = max(restored.values())
    return result


def restorations(conn: Connection, person_id: int, on: date) -> dict[tuple[str, str], str]:
    """The restorations the public has been told of by ``on``: (status, period start) →
    the day payment resumed (RULES I-12), read from the newest disclosure-feed item's view
    of the person's published periods (so a corrected or withdrawn restoration is gone)."""
    view = conn.execute(
        select(FEED_ITEMS.c.view)
        .where(FEED_ITEMS.c.practitioner_id == person_id)
        .where(FEED_ITEMS.c.published_on <= on)
        .order_by(FEED_ITEMS.c.id.desc())
        .limit(1)
    ).scalar()
    found: dict[tuple[str, str], str] = {}
    for period in json.loads(view) if view else []:
        day = period.get("restored_on")
        if day and day <= on.isoformat():
            found[(STATUS_OF_KIND[period["kind"]], period["start"])] = day
    return found


@dataclass
class SearchResult:
    """One page of people found, how many in all, and what the words were taken for:
    ``exact`` a national code typed in full (the doctor's page opens), ``institution`` an
    institution's code or credit code (its page lists everyone)."""

    people: list[PublicPerson]
    total: int
    page: int
    per_page: int
    exact: str | None = None
    institution: str | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search(conn: Connection, q: str, on: date, page: int = 1, per_page: int = 20) -> SearchResult:
    """By national code (exact), institution code or credit code (exact: its people), name
    (prefix), name plus institution (``周华 岳麓``: a name and part of where they work), or
    institution name (contains). Paged: a hospital's name finds all its people, page by
    page; people registered nowhere today are found by name or code only."""
    q = " ".join(q.split())
    empty = SearchResult([], 0, page, per_page)
    if not q:
        return empty
    code = q.upper()
    exact = conn.execute(select(PEOPLE.c.id).where(PEOPLE.c.national_code == code)).scalar()
    if exact is not None:
        return SearchResult(_people(conn, [int(exact)], on), 1, 1, per_page, exact=code)
    place = conn.execute(
        select(INST.c.id, INST.c.code).where(or_(INST.c.code == code, INST.c.credit_code == code))
    ).first()
    here = (
        select(REGS.c.practitioner_id)
        .where(REGS.c.registered_on <= on)
        .where(or_(REGS.c.deregistered_on.is_(None), REGS.c.deregistered_on > on))
    )
    if place is not None:
        ids_query = select(PEOPLE.c.id).where(
            PEOPLE.c.id.in_(here.where(REGS.c.institution_id == place.id))
        )
        found = _paged(conn, ids_query, on, page, per_page)
        found.institution = str(place.code)
        return found
    words = q.split(" ")
    if len(words) >= 2:  # a name, then (part of) where they work
        name, where = words[0], "".join(words[1:])
        places = select(INST.c.id).where(INST.c.name.contains(where, autoescape=True))
        ids_query = (
            select(PEOPLE.c.id)
            .where(and_(PEOPLE.c.name >= name, PEOPLE.c.name < name + "\uffff"))
            .where(PEOPLE.c.id.in_(here.where(REGS.c.institution_id.in_(places))))
        )
        return _paged(conn, ids_query, on, page, per_page)
    by_name = select(PEOPLE.c.id).where(and_(PEOPLE.c.name >= q, PEOPLE.c.name < q + "\uffff"))
    found = _paged(conn, by_name, on, page, per_page)
    if found.total or len(q) < 2:
        return found
    places = select(INST.c.id).where(INST.c.name.contains(q, autoescape=True))
    at_place = select(PEOPLE.c.id).where(
        PEOPLE.c.id.in_(here.where(REGS.c.institution_id.in_(places)))
    )
    return _paged(conn, at_place, on, page, per_page)


def _paged(conn: Connection, ids_query: Any, on: date, page: int, per_page: int) -> SearchResult:
    total = int(conn.execute(select(func.count()).select_from(ids_query.subquery())).scalar_one())
    rows = conn.execute(
        ids_query.add_columns(PEOPLE.c.name)
        .order_by(PEOPLE.c.name, PEOPLE.c.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return SearchResult(_people(conn, [int(r[0]) for r in rows], on), total, page, per_page)


def _people(conn: Connection, ids: list[int], on: date) -> list[PublicPerson]:
    """The people of ``ids``, in that order, with their institutions and statuses."""
    if not ids:
        return []
    found = statuses_by_id(conn, ids, on)  # one statement; unreadable ones (logged) left out
    sites = _sites(conn, ids, on)
    return [_public(conn, found[pid], sites[pid], decisions=False) for pid in ids if pid in found]


@dataclass
class PublicInstitution:
    """An institution's public page: who practises there today, with their statuses."""

    code: str
    name: str
    kind: str
    region: str
    people: list[PublicPerson]
    total: int


def institution(
    conn: Connection, code: str, on: date, page: int = 1, per_page: int = 50
) -> PublicInstitution | None:
    """The practitioners registered at institution ``code`` on ``on``, by name, one page
    (patients choose a doctor there; DESIGN "institutions/{code}"). None: no such code."""
    row = conn.execute(
        select(INST.c.id, INST.c.code, INST.c.name, INST.c.kind, INST.c.region).where(
            INST.c.code == code.strip().upper()
        )
    ).first()
    if row is None:
        return None
    here = (
        select(REGS.c.practitioner_id)
        .where(REGS.c.institution_id == row.id)
        .where(REGS.c.registered_on <= on)
        .where(or_(REGS.c.deregistered_on.is_(None), REGS.c.deregistered_on > on))
    )
    total = int(
        conn.execute(select(func.count()).select_from(here.distinct().subquery())).scalar_one()
    )
    ids = conn.execute(
        select(PEOPLE.c.id)
        .where(PEOPLE.c.id.in_(here))
        .order_by(PEOPLE.c.name, PEOPLE.c.national_code)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).scalars()
    people = _people(conn, [int(i) for i in ids], on)
    return PublicInstitution(row.code, row.name, row.kind, row.region, people, total)


@dataclass(frozen=True)
class Filters:
    region: str = ""
    institution: str = ""  # an institution's code (exact) or part of its name
    status: str = ""
    decided_from: date | None = None  # the decision date of the published notice
    decided_to: date | None = None
    sort: str = ""  # "" (by code) | name | decided (newest first)


def disclosures(
    conn: Connection, filters: Filters, on: date, page: int = 1, per_page: int = 50
) -> tuple[list[dict[str, Any]], int]:
    """Currently suspended and terminated practitioners (Hunan-Rules Art. 9(2)-(4)), one row
    per person and institution, with their period and the published decision behind it
    (document number, decision date, legal basis). Filters: region (province, city or
    county), institution (its code, or part of its name), status, decision dates; sorted by
    code, name or decision date. Returns (rows, total rows); ``people_count`` counts people."""
    base = _disclosure_base(on)
    where = _disclosure_where(filters)
    total = int(conn.execute(select(func.count()).select_from(base).where(*where)).scalar_one())
    order = {
        "name": (PEOPLE.c.name, PEOPLE.c.national_code, INST.c.code),
        "decided": (
            DECISIONS.c.decision_date.desc().nulls_last(),
            PEOPLE.c.national_code,
            INST.c.code,
        ),
    }.get(filters.sort, (PEOPLE.c.national_code, INST.c.code))
    query = (
        select(
            PEOPLE.c.national_code,
            PEOPLE.c.name,
            INST.c.code.label("institution_code"),
            INST.c.name.label("institution"),
            INST.c.region,
            REGS.c.status,
            DECISIONS.c.document_no,
            DECISIONS.c.decision_date,
            DECISIONS.c.legal_basis,
        )
        .select_from(base)
        .where(*where)
        .order_by(*order)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = [dict(r._mapping) for r in conn.execute(query)]
    for row in rows:
        try:
            found = status_by_code(conn, row["national_code"], on)
        except StatusUnknown:  # logged; the row still shows its stored status
            found = None
        status = found.status if found else None
        row["period_start"] = status.period_start if status else None
        row["period_end"] = status.period_end if status else None
        row["reregister_from"] = status.reregister_from if status else None
        row["restoration_pending"] = status.restoration_pending if status else False
        row["year_points"] = status.year_points if status else None
    return rows, total


def _disclosure_base(on: date) -> Any:
    """Registrations with their institution, person and the person's latest published
    notice (issued by ``on``) and its decision."""
    latest = (
        select(NOTICES.c.practitioner_id, func.max(NOTICES.c.id).label("notice_id"))
        .where(NOTICES.c.status.in_(PUBLIC_STATUSES), NOTICES.c.issued_on <= on)
        .group_by(NOTICES.c.practitioner_id)
        .subquery()
    )
    return (
        REGS.join(INST, INST.c.id == REGS.c.institution_id)
        .join(PEOPLE, PEOPLE.c.id == REGS.c.practitioner_id)
        .outerjoin(latest, latest.c.practitioner_id == PEOPLE.c.id)
        .outerjoin(NOTICES, NOTICES.c.id == latest.c.notice_id)
        .outerjoin(DECISIONS, DECISIONS.c.id == NOTICES.c.decision_id)
    )


def _disclosure_where(filters: Filters) -> list[Any]:
    where = [REGS.c.deregistered_on.is_(None), REGS.c.status.in_(PUBLIC_STATUSES)]
    if filters.status:
        where.append(REGS.c.status == filters.status)
    if filters.region:
        where.append(INST.c.region.startswith(filters.region))
    if filters.institution:
        where.append(
            or_(
                INST.c.code == filters.institution.upper(),
                INST.c.name.contains(filters.institution, autoescape=True),
            )
        )
    if filters.decided_from:
        where.append(DECISIONS.c.decision_date >= filters.decided_from)
    if filters.decided_to:
        where.append(DECISIONS.c.decision_date <= filters.decided_to)
    return where


def disclosed_people(conn: Connection, filters: Filters, on: date) -> int:
    """How many people (not registrations) the filters find."""
    base = _disclosure_base(on)
    return int(
        conn.execute(
            select(func.count(func.distinct(REGS.c.practitioner_id)))
            .select_from(base)
            .where(*_disclosure_where(filters))
        ).scalar_one()
    )


LISTINGS = table(BlacklistListing)
EVENTS = table(BlacklistEvent)
RECENTLY_ENDED_DAYS = 30  # how long /blacklist shows "YYYY年MM月DD日修复" or 移出 (a choice)


def _latest_events(conn: Connection, on: date) -> Any:
    """Each code's latest public blacklist event in force on ``on`` (the feed's replay)."""
    horizon = _feed_horizon(conn, on)
    return (
        select(func.max(EVENTS.c.id).label("id"))
        .where(EVENTS.c.id < horizon, EVENTS.c.effective_on <= on)
        .group_by(EVENTS.c.code)
        .subquery()
    )


def blacklist(
    conn: Connection,
    on: date,
    limit: int = 500,
    offset: int = 0,
    kind: str = "",
    region: str = "",
    name: str = "",
) -> list[dict[str, Any]]:
    """The blacklist on ``on`` (Hunan-Credit Art. 33-35; Hunan-Rules Art. 17), by
    construction the replay of ``/feeds/blacklist.json`` (DESIGN "Feeds"): per code, the
    latest public event with ``effective`` ≤ ``on``, kept when its status is ``listed``
    and its period (认定之日 ≤ ``on`` < ``period_end``, 3 years, RULES I-19) holds. Newest
    listing first, with the listing authority."""
    latest = _latest_events(conn, on)
    query = (
        select(
            EVENTS.c.listing_id.label("id"),
            EVENTS.c.subject_kind,
            EVENTS.c.code,
            EVENTS.c.name,
            EVENTS.c.document_no,
            EVENTS.c.period_start.label("listed_on"),
            EVENTS.c.period_end.label("publish_until"),
            LISTINGS.c.role,
            LISTINGS.c.authority,
            LISTINGS.c.bar_until,
        )
        .join(latest, latest.c.id == EVENTS.c.id)
        .join(LISTINGS, LISTINGS.c.id == EVENTS.c.listing_id)
        .where(*_listed_where(on, kind, region, name))
        .order_by(EVENTS.c.period_start.desc(), EVENTS.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = [dict(r._mapping) for r in conn.execute(query)]
    objected = objected_listings(conn, [r["id"] for r in rows])
    for row in rows:
        row["under_objection"] = row["id"] in objected
    return rows


def _listed_where(on: date, kind: str, region: str, name: str) -> list[Any]:
    where = [EVENTS.c.status == "listed", EVENTS.c.period_start <= on, EVENTS.c.period_end > on]
    if kind:
        where.append(EVENTS.c.subject_kind == kind)
    if region:
        where.append(LISTINGS.c.region.startswith(region))
    if name:
        where.append(EVENTS.c.name.contains(name, autoescape=True))
    return where


def blacklist_total(
    conn: Connection, on: date, kind: str = "", region: str = "", name: str = ""
) -> int:
    """How many subjects :func:`blacklist` lists with these filters."""
    latest = _latest_events(conn, on)
    query = (
        select(func.count())
        .select_from(
            EVENTS.join(latest, latest.c.id == EVENTS.c.id).join(
                LISTINGS, LISTINGS.c.id == EVENTS.c.listing_id
            )
        )
        .where(*_listed_where(on, kind, region, name))
    )
    return int(conn.execute(query).scalar_one())


def objected_listings(conn: Connection, listing_ids: list[int]) -> set[int]:
    """The listings shown 异议处理中 while an objection on them is open (Hunan-Credit
    Art. 24: 异议申请处理期间，应当对异议信息进行标注; ``blacklist.under_objection``)."""
    from sqlmodel import Session

    from portal.services.blacklist import under_objection

    if not listing_ids:
        return set()
    with Session(bind=conn) as session:
        return under_objection(session, listing_ids)


def blacklist_recently_ended(conn: Connection, on: date) -> list[dict[str, Any]]:
    """Listings whose publication ended in the last 30 days: repaired ones carry the mark
    "YYYY年MM月DD日修复" (Hunan-Credit Art. 27), the others "公示期满移出"; after that they
    are gone from the page (their events stay in the feed)."""
    query = (
        select(
            EVENTS.c.code,
            EVENTS.c.name,
            EVENTS.c.type,
            EVENTS.c.effective_on,
            EVENTS.c.document_no,
            LISTINGS.c.authority,
        )
        .join(LISTINGS, LISTINGS.c.id == EVENTS.c.listing_id)
        .where(EVENTS.c.type.in_(("repaired", "removed")))
        .where(LISTINGS.c.state == EVENTS.c.type)
        .where(EVENTS.c.published_on <= on)
        .where(EVENTS.c.effective_on <= on)
        .where(EVENTS.c.effective_on > on - timedelta(days=RECENTLY_ENDED_DAYS))
        .order_by(EVENTS.c.effective_on.desc(), EVENTS.c.id.desc())
    )
    rows = []
    for r in conn.execute(query):
        row = dict(r._mapping)
        day = row["effective_on"]
        row["mark"] = (
            f"{day.year}年{day.month:02d}月{day.day:02d}日修复"
            if row["type"] == "repaired"
            else "公示期满移出"
        )
        rows.append(row)
    return rows


def _feed_horizon(conn: Connection, on: date) -> int:
    """The feed stops before the first event published after ``on``: a cursor never passes
    an event that is not public yet (ids grow; publication days almost always do)."""
    first = conn.execute(  # id + 0: read by the day's index (disclosure_feed.horizon)
        select(func.min(EVENTS.c.id + 0)).where(EVENTS.c.published_on > on)
    ).scalar()
    return int(first) if first is not None else 2**31 - 1  # ids are INTEGER on PostgreSQL


def blacklist_latest(conn: Connection, on: date) -> int:
    """The newest event id the feed shows on ``on`` (the largest valid cursor)."""
    horizon = _feed_horizon(conn, on)
    latest = conn.execute(select(func.max(EVENTS.c.id)).where(EVENTS.c.id < horizon)).scalar()
    return int(latest or 0)


def blacklist_events(
    conn: Connection, on: date, since: int = 0, limit: int = 200
) -> list[dict[str, Any]]:
    """The blacklist feed: every public change (listed, repaired, removed, corrected,
    withdrawn) after the ``since`` cursor, in the DESIGN item shape, with the listing
    authority and ``under_objection`` (true while an objection on the listing is open at
    the time of reading, Hunan-Credit Art. 24); nothing published after ``on``."""
    horizon = _feed_horizon(conn, on)
    query = (
        select(EVENTS, LISTINGS.c.authority)
        .join(LISTINGS, LISTINGS.c.id == EVENTS.c.listing_id)
        .where(EVENTS.c.id > since, EVENTS.c.id < horizon)
        .order_by(EVENTS.c.id)
        .limit(limit)
    )
    items = []
    for r in conn.execute(query):
        m = r._mapping
        items.append({
            "id": m["id"], "type": m["type"], "code": m["code"], "name": m["name"],
            "status": m["status"], "published": m["published_on"],
            "effective": m["effective_on"], "period_start": m["period_start"],
            "period_end": m["period_end"], "reregister_from": None,
            "document_no": m["document_no"], "replaces": m["replaces_id"],
            "subject_kind": m["subject_kind"], "authority": m["authority"],
            "listing_id": m["listing_id"],
        })  # fmt: skip
    objected = objected_listings(conn, [i["listing_id"] for i in items])
    for item in items:
        item["under_objection"] = item.pop("listing_id") in objected
    return items


# The fast reads (status API, batch, badge) detect a damaged cache row only as cheaply as
# they can: when it does not decode (lookup.cached_status rebuilds it). Seeing a row behind
# the ledger needs a look at the ledger, which costs this statement about a sixth more on
# PostgreSQL (14 of 75 µs; SQLite 1 of 12 µs): the full look-up (pages, embeds, search,
# disclosures), the daily refresh and ``ledger verify`` look, and repair what they find.
_FAST_PERSON = (
    "SELECT p.id, p.national_code, p.name, p.ruleset, c.timeline FROM practitioner p "
    "LEFT JOIN status_cache c ON c.practitioner_id = p.id WHERE p.national_code = {0}"
)
_FAST_PERSON_SITES = (
    "SELECT p.id, p.national_code, p.name, p.ruleset, c.timeline, i.code, i.name "
    "FROM practitioner p LEFT JOIN status_cache c ON c.practitioner_id = p.id "
    "LEFT JOIN registration r ON r.practitioner_id = p.id AND r.registered_on <= {0} "
    "AND (r.deregistered_on IS NULL OR r.deregistered_on > {0}) "
    "LEFT JOIN institution i ON i.id = r.institution_id "
    "WHERE p.national_code = {0}"  # no ORDER BY: sorting one or two rows in SQLite's
)  # temporary B-tree cost more than the whole look-up; they are sorted below


def fast_badge(conn: Connection, code: str, on: date) -> tuple[str, StatusOn] | None:
    """(name, status) for a badge: one plain statement (see fast_status)."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cursor = raw.cursor()
    try:
        cursor.execute(_FAST_PERSON.format(mark), (code.strip().upper(),))
        row = cursor.fetchone()
    finally:
        cursor.close()
    if row is None:
        return None
    pid, national_code, name, ruleset_id, timeline = row
    status = cached_status(conn, pid, ruleset_id, timeline, on)
    if status is None:
        found = status_by_code(conn, national_code, on)
        assert found is not None
        status = found.status
    return name, status


def _by_site(row: Any) -> str:
    return str(row[5] or "")


def fast_status(conn: Connection, code: str, on: date) -> dict[str, Any] | None:
    """The status API's answer with one plain statement on the driver's cursor: the
    hottest path of the site (registration pages ask for every doctor they show).

    Same answer as ``person(...).api()`` (a test holds them equal); dates before a
    person's last event fall back to the full path, which replays the ledger."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    day: Any = on.isoformat() if conn.dialect.name == "sqlite" else on
    cursor = raw.cursor()
    try:
        cursor.execute(_FAST_PERSON_SITES.format(mark), (day, day, code.strip().upper()))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if not rows:
        return None
    pid, national_code, name, ruleset_id, timeline = rows[0][:5]
    status = cached_status(conn, pid, ruleset_id, timeline, on)
    if status is None:
        full = person(conn, national_code, on, decisions=False)
        return full.api() if full else None
    sites = [{"code": row[5], "name": row[6]} for row in sorted(rows, key=_by_site) if row[5]]
    return status_answer(national_code, name, status, sites, points_are_public(ruleset_id, status))


# --- freshness: is the day's status refresh done? (spec/DESIGN.md "stale", "data_as_of") ---

DATA_AS_OF = "data_as_of"  # portal_meta key: the day of the last completed status refresh


def data_as_of(conn: Connection) -> date | None:
    """The day of the last completed status refresh (``portal ledger refresh-statuses``, or
    the daily round of ``portal serve``), or None before the first."""
    meta = table(PortalMeta)
    value = conn.execute(select(meta.c.value).where(meta.c.key == DATA_AS_OF)).scalar()
    return date.fromisoformat(value) if value else None


def record_refresh(conn: Connection, on: date) -> None:
    """A refresh for ``on`` completed: ``data_as_of`` moves to it (never back)."""
    meta = table(PortalMeta)
    current = data_as_of(conn)
    if current is None:
        conn.execute(meta.insert().values(key=DATA_AS_OF, value=on.isoformat()))
    elif on > current:
        conn.execute(meta.update().where(meta.c.key == DATA_AS_OF).values(value=on.isoformat()))


def freshness(as_of: date | None, today: date) -> dict[str, Any]:
    """``stale`` is true when the last refresh is before today (China time) or never ran: a
    platform must not read "normal" from data the portal does not vouch for."""
    return {
        "stale": as_of is None or as_of < today,
        "data_as_of": as_of.isoformat() if as_of else None,
    }
