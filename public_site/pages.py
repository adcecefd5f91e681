"""Pages for patients: search, a practitioner's status, disclosures, blacklist, A-grade list.

Mobile first, readable without JavaScript (htmx only adds live results). Every parameter is
read as text and checked (public_site.common); bad input is a Chinese error page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import MediaType, Request, Response, get
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from portal.clock import china_today
from portal.models import Registration, table
from portal.services import public
from portal.services.blacklist import KIND_ZH as SUBJECT_KIND_ZH
from portal.services.blacklist import ROLE_ZH
from portal.services.public import Filters
from portal.services.regions import REGIONS as REGIONS  # re-exported (admin.notices)
from public_site.common import (
    NO_STORE,
    PAGES,
    BadInput,
    check_page,
    csv_body,
    fresh,
    parse_choice,
    parse_date,
    parse_page,
    parse_region,
    parse_text,
    reader,
)
from public_site.limits import TooMany, limit
from scoring.rulesets import PractitionerRuleset, all_rulesets
from scoring.workdays import default_calendar

PRACTICE_ZH = {"doctor": "医师", "nurse": "护士", "pharmacist": "药师", "technician": "技师"}
KIND_ZH = {"practitioner": "医保支付资格管理", "credit": "医疗保障信用管理"}
RULES_REF = "湘医保发〔2025〕4号第九条"
DISCLOSURE_COLUMNS = [
    "national_code",
    "name",
    "institution_code",
    "institution",
    "region",
    "status",
    "period_start",
    "period_end",
    "reregister_from",
    "restoration_pending",
    "document_no",
    "decision_date",
    "legal_basis",
]


def _query(q: str | None) -> str:
    """What was typed, kept as typed (up to 40 characters, control characters dropped)."""
    return "".join(c for c in (q or "") if c.isprintable()).strip()[:40]


PER_PAGE = 20


def _search(request: Request[Any, Any, Any], q: str, page: int) -> public.SearchResult:
    if not q:
        return public.SearchResult([], 0, page, PER_PAGE)
    with reader(request).connect() as conn:
        found = public.search(conn, q, china_today(), page, PER_PAGE)
    if found.total and page > found.pages:
        raise BadInput("page", "页码超出范围", status=404)
    return found


@get("/", cache_control=PAGES, sync_to_thread=True, include_in_schema=False)
def home(
    request: Request[Any, Any, Any],
    q: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template | Redirect:
    """The search page. A national code typed in full opens the doctor's page."""
    query = _query(q)
    try:
        limit(request, "search" if query else "pages")
    except TooMany as too_many:  # the form stays, with what was typed
        return Template(
            template_name="home.html",
            context={"q": query, "found": None, "throttled": True},
            status_code=429,
            headers={"Retry-After": str(too_many.retry_after), "Cache-Control": "no-store"},
        )
    found = _search(request, query, parse_page(page))
    if found.exact:
        return Redirect(f"/practitioners/{found.exact}", status_code=303)
    return Template(template_name="home.html", context={"q": query, "found": found})


@get(
    "/search",
    cache_control=NO_STORE,
    sync_to_thread=False,  # ~1.5 ms of work: cheaper on the loop than a thread hop
    include_in_schema=False,
    media_type=MediaType.HTML,
)
def search(
    request: Request[Any, Any, Any],
    q: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Any:
    """The live-results fragment for htmx (the home page renders the same template). The
    address bar follows (``HX-Push-Url``: the home page with the same words), so Back
    returns to these results and a reload shows them."""
    query = _query(q)
    limit(request, "search")
    number = parse_page(page)
    found = _search(request, query, number)
    shown = "/?" + urlencode({"q": query, **({"page": number} if number > 1 else {})})
    return Template(
        template_name="_results.html",
        context={"q": query, "found": found},
        headers={"HX-Push-Url": shown if query else "/"},
    )


@get("/practitioners/{code:str}", cache_control=PAGES, sync_to_thread=True, include_in_schema=False)
def practitioner_page(
    request: Request[Any, Any, Any], code: FromPath[str], on: FromQuery[str | None] = None
) -> Template:
    """A doctor's page; ``?on=YYYY-MM-DD`` shows the status in force that day, as the API
    does (a claim checked after the fact)."""
    limit(request, "pages")
    day = parse_date(on, "on")
    with reader(request).connect() as conn:
        person = public.person(conn, code[:32], day)
        vouched = fresh(request, conn)
    if person is None:
        return Template(
            template_name="not_found.html",
            context={"code": code[:32]},
            status_code=404,
            headers={"Cache-Control": "no-store"},
        )
    return Template(
        template_name="practitioner.html",
        context={
            "p": person,
            "practice_zh": PRACTICE_ZH,
            "rules_ref": RULES_REF,
            "fresh": vouched,
            "asked": on is not None,
            "coming": [
                d
                for d in person.decisions
                if d["status"] in ("suspended", "terminated")
                and d["period_start"] is not None
                and d["period_start"] > day
            ],
        },
    )


@get("/institutions/{code:str}", cache_control=PAGES, sync_to_thread=True, include_in_schema=False)
def institution_page(
    request: Request[Any, Any, Any], code: FromPath[str], page: FromQuery[str | None] = None
) -> Template:
    """An institution's page: its practitioners' statuses today, 50 a page (a page past
    the last is 404)."""
    limit(request, "pages")
    number = parse_page(page)
    with reader(request).connect() as conn:
        found = public.institution(conn, code[:32], china_today(), number, 50)
        vouched = fresh(request, conn)
    if found is None:
        raise BadInput(None, f"未找到定点医药机构 {code[:32]}", status=404)
    check_page(number, found.total, 50)
    return Template(
        template_name="institution.html",
        context={
            "i": found,
            "page": number,
            "pages": max(1, -(-found.total // 50)),
            "fresh": vouched,
            "cities": dict(REGIONS),
            "practice_zh": PRACTICE_ZH,
        },
    )


def read_filters(
    region: str | None,
    institution: str | None,
    status: str | None,
    decided_from: str | None = None,
    decided_to: str | None = None,
    sort: str | None = None,
) -> Filters:
    """The disclosures' filters, each checked to its type (400 naming the field)."""
    first = parse_date(decided_from, "decided_from") if decided_from else None
    last = parse_date(decided_to, "decided_to") if decided_to else None
    return Filters(
        region=parse_region(region),
        institution=parse_text(institution, "institution", 32),
        status=parse_choice(status, "status", ("suspended", "terminated")),
        decided_from=first,
        decided_to=last,
        sort=parse_choice(sort, "sort", ("name", "decided")),
    )


@get(
    "/disclosures",
    cache_control=PAGES,
    sync_to_thread=True,
    include_in_schema=False,
    media_type=MediaType.HTML,
)
def disclosures_page(
    request: Request[Any, Any, Any],
    region: FromQuery[str | None] = None,
    institution: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
    format: FromQuery[str | None] = None,
    decided_from: FromQuery[str | None] = None,
    decided_to: FromQuery[str | None] = None,
    sort: FromQuery[str | None] = None,
) -> Any:
    limit(request, "pages")  # first: a bad request counts too
    filters = read_filters(region, institution, status, decided_from, decided_to, sort)
    number = parse_page(page)
    kind = parse_choice(format, "format", ("html", "csv")) or "html"
    if kind == "csv":
        limit(request, "pages", 9)  # an export is a hundred pages' worth of rows: 10 in all
    per_page = 50 if kind == "html" else 5000
    with reader(request).connect() as conn:
        rows, total = public.disclosures(conn, filters, china_today(), number, per_page)
        people = public.disclosed_people(conn, filters, china_today()) if kind == "html" else 0
    pages = check_page(number, total, per_page)
    query = {
        k: v
        for k, v in {
            "region": filters.region,
            "institution": filters.institution,
            "status": filters.status,
            "decided_from": decided_from or "",
            "decided_to": decided_to or "",
            "sort": filters.sort,
        }.items()
        if v
    }
    if kind == "csv":
        for row in rows:  # words, not True/False
            row["restoration_pending"] = "是" if row["restoration_pending"] else "否"
        return Response(
            csv_body(DISCLOSURE_COLUMNS, rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="disclosures.csv"'},
        )

    def url(n: int) -> str:
        return "/disclosures?" + urlencode({**query, "page": n})

    return Template(
        template_name="disclosures.html",
        context={
            "rows": rows,
            "total": total,
            "people": people,
            "page": number,
            "pages": pages,
            "f": filters,
            "regions": REGIONS,
            "prev_url": url(number - 1) if number > 1 else None,
            "next_url": url(number + 1) if number < pages else None,
            "csv_url": "/disclosures?" + urlencode({**query, "format": "csv"}),
        },
    )


@get("/blacklist", cache_control=PAGES, sync_to_thread=True, include_in_schema=False)
def blacklist_page(
    request: Request[Any, Any, Any],
    kind: FromQuery[str | None] = None,
    region: FromQuery[str | None] = None,
    name: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template:
    """The listed subjects in their publication period, newest first, 50 a page, with
    filters by kind of subject, region and name, the total, and the listing authority."""
    limit(request, "pages")
    wanted = parse_choice(kind, "kind", tuple(SUBJECT_KIND_ZH))
    area = parse_region(region)
    who = parse_text(name, "name", 40)
    number = parse_page(page)
    with reader(request).connect() as conn:
        today = china_today()
        total = public.blacklist_total(conn, today, wanted, area, who)
        rows = public.blacklist(conn, today, 50, (number - 1) * 50, wanted, area, who)
        ended = public.blacklist_recently_ended(conn, today) if number == 1 else []
    pages = check_page(number, total, 50)
    query = {k: v for k, v in {"kind": wanted, "region": area, "name": who}.items() if v}

    def url(n: int) -> str:
        return "/blacklist?" + urlencode({**query, "page": n})

    return Template(
        template_name="blacklist.html",
        context={
            "rows": rows, "ended": ended, "roles": ROLE_ZH, "kinds": SUBJECT_KIND_ZH,
            "total": total, "page": number, "pages": pages, "regions": REGIONS,
            "f": {"kind": wanted, "region": area, "name": who},
            "prev_url": url(number - 1) if number > 1 else None,
            "next_url": url(number + 1) if number < pages else None,
        },
    )  # fmt: skip


@get("/credit/a-grade", cache_control=PAGES, sync_to_thread=True, include_in_schema=False)
def a_grade(request: Request[Any, Any, Any]) -> Template:
    """The A-grade institutions of the latest published year (Hunan-Credit Art. 22, 31(1)):
    name, code, region and year only."""
    from sqlmodel import Session

    from portal.services.credit_evaluation import KIND_ZH as CREDIT_KIND_ZH
    from portal.services.credit_evaluation import latest_a_grade

    limit(request, "pages")
    with reader(request).connect() as conn, Session(conn) as session:
        year, rows = latest_a_grade(session)
    cities = dict(REGIONS)
    return Template(
        template_name="a_grade.html",
        context={"year": year, "rows": rows, "cities": cities, "kind_zh": CREDIT_KIND_ZH},
    )


@get("/credit/announcements", cache_control=PAGES, sync_to_thread=True, include_in_schema=False)
def credit_announcements(request: Request[Any, Any, Any]) -> Template:
    """The announcement of published credit results and how subjects query theirs
    (Hunan-Credit Art. 22-23): counts per grade for each published run, no names."""
    from sqlmodel import Session

    from portal.services.credit_announcements import announcements
    from portal.services.credit_evaluation import KIND_ZH as CREDIT_KIND_ZH

    limit(request, "pages")
    with reader(request).connect() as conn, Session(conn) as session:
        rows = announcements(session)
    regions = {"43": "湖南省", **dict(REGIONS)}
    return Template(
        template_name="credit_announcements.html",
        context={"rows": rows, "regions": regions, "kind_zh": CREDIT_KIND_ZH},
    )


def _ruleset_rows() -> list[dict[str, Any]]:
    rows = []
    for ruleset in all_rulesets().values():
        counts = (
            (len(ruleset.situations), len(ruleset.routes))
            if isinstance(ruleset, PractitionerRuleset)
            else (None, None)
        )
        rows.append(
            {
                "id": ruleset.id,
                "name": ruleset.name,
                "kind": KIND_ZH[ruleset.kind],
                "effective_from": ruleset.effective_from.isoformat(),
                "effective_to": ruleset.effective_to.isoformat() if ruleset.effective_to else None,
                "situations": counts[0],
                "routes": counts[1],
            }
        )
    return rows


@get("/about", cache_control=PAGES, sync_to_thread=True, include_in_schema=False)
def about(request: Request[Any, Any, Any]) -> Template:
    """The rulesets the engine has loaded and the registry's size."""
    limit(request, "pages")
    registrations = table(Registration)
    counts: dict[str, int] = {}
    try:
        with reader(request).connect() as conn:
            query = (
                select(registrations.c.status, func.count())
                .where(registrations.c.deregistered_on.is_(None))
                .group_by(registrations.c.status)
            )
            counts = {s: int(n) for s, n in conn.execute(query)}
    except OperationalError:
        pass
    return Template(
        template_name="about.html",
        context={
            "rulesets": _ruleset_rows(),
            "default_ruleset": request.app.state.settings.ruleset,
            "counts": counts,
            "total": sum(counts.values()),
        },
    )


@get("/healthz", cache_control=NO_STORE, sync_to_thread=False, include_in_schema=False)
def healthz(request: Request[Any, Any, Any]) -> Any:
    limit(request, "pages")
    calendar = default_calendar()
    return {
        "status": "ok",
        "default_ruleset": request.app.state.settings.ruleset,
        "rulesets": sorted(all_rulesets()),
        "calendar_years": [min(calendar.known_years), max(calendar.known_years)],
        "server_date": china_today().isoformat(),
    }


ROUTES = [
    home,
    search,
    practitioner_page,
    institution_page,
    disclosures_page,
    blacklist_page,
    a_grade,
    credit_announcements,
    about,
    healthz,
]
