"""The blacklist in the admin (Hunan-Credit Art. 33-35; Hunan-Rules Art. 17, 19).

- ``GET /admin/credit/blacklist``: the queue — proposals with the 20-working-day countdown
  (terminated practitioners, Hunan-Rules Art. 17), notices with the objection deadline
  (Art. 35), listings in publication, and ended ones;
  ``POST /admin/credit/blacklist/propose-terminated`` proposes every terminated practitioner
  not proposed yet (idempotent, as ``portal blacklist propose-terminated``);
- ``GET/POST /admin/credit/blacklist/new``: a proposal by an officer;
- ``GET /admin/credit/blacklist/{id}`` and its steps ``POST .../{id}/notice``,
  ``.../objection``, ``.../answer``, ``.../list``, ``.../withdraw``, ``.../correct`` (a public
  listing's grounds, basis, measures, authority or document number: a ``corrected`` event);
- ``GET .../{id}/notice.pdf`` (事先告知书) and ``.../{id}/decision.pdf`` (决定书).

Who may (DESIGN "Who sees what", credit row): CREDIT_DECIDE acts on the subjects of its
region (credit officer; the province administrator everywhere); every CREDIT_READ role reads
in its scope (institution administrators: their own institution and its practitioners).
Outside scope a listing is 404; acting without the right is 403. A listing whose archive
item has an open credit objection shows 异议处理中 (Hunan-Credit Art. 24).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from admin.common import (
    Forbidden,
    Officer,
    back_to,
    db,
    first_submission,
    form_token,
    in_thread,
    is_whole,
    page,
    parse_day,
    practitioner_for,
    signed_in,
)
from portal.clock import china_today
from portal.credit_models import INSTITUTION_KINDS, SUBJECT_KINDS, BlacklistListing
from portal.models import FormSubmission
from portal.services import blacklist as bl
from portal.services import blacklist_documents as docs
from portal.services.errors import NotFound, ServiceError, checked_text
from portal.services.roles import CREDIT_DECIDE, CREDIT_READ

PATH = "/admin/credit/blacklist"
SECTIONS = (
    ("proposed", "拟列入（待事先告知）"),
    ("noticed", "已事先告知（异议期）"),
    ("listed", "公示中"),
    ("ended", "已结束（修复、移出、撤销）"),
)
LONGEST = 4000


def _sees(session: Session, officer: Officer, listing: BlacklistListing) -> bool:
    """Region scope by the subject's region; an institution administrator sees its own
    institution's listings and those of its practitioners."""
    if officer.role.scope != "institution":
        return officer.sees_region(listing.region)
    if listing.subject_kind in INSTITUTION_KINDS:
        return listing.subject_key == officer.account.institution_code
    if listing.subject_kind == "practitioner":
        try:
            practitioner_for(session, officer, listing.subject_key)
        except NotFound:
            return False
        return True
    return False


def _listing_for(session: Session, officer: Officer, listing_id: int) -> BlacklistListing:
    listing = session.get(BlacklistListing, listing_id)
    if listing is None or not _sees(session, officer, listing):
        raise NotFound("listing_id", f"未找到名单记录 {listing_id}")
    return listing


def _context(today: date, **extra: Any) -> dict[str, Any]:
    return {
        "today": today,
        "token": form_token,
        "typed": {},
        "errors": {},
        "form": "",
        "state_zh": bl.STATE_ZH,
        "event_zh": bl.EVENT_ZH,
        "kind_zh": bl.KIND_ZH,
        "role_zh": bl.ROLE_ZH,
        "left": lambda due: bl.working_days_left(today, due),
        **extra,
    }


# --- the queue ---------------------------------------------------------------------------------


def _queue(request: Request[Any, Any, Any], status: int = 200, **shown: Any) -> Template:
    today = china_today()
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(CREDIT_READ)
        rows = [x for x in bl.listings(session, lambda _r: True) if _sees(session, officer, x)]
        objected = bl.under_objection(session, [x.id or 0 for x in rows])
    sections: dict[str, list[BlacklistListing]] = {key: [] for key, _ in SECTIONS}
    for row in rows:
        sections[row.state if row.state in sections else "ended"].append(row)
    sections["proposed"].sort(key=lambda x: (x.due_on is None, x.due_on or date.max))
    sections["noticed"].sort(key=lambda x: x.objection_due_on or date.max)
    context = _context(today, sections=sections, titles=SECTIONS, objected=objected,
                       may_decide=officer.can(CREDIT_DECIDE), **shown)  # fmt: skip
    return page(request, "admin/blacklist.html", officer, status_code=status, **context)


@get(PATH, include_in_schema=False)
async def blacklist_queue(request: Request[Any, Any, Any]) -> Template:
    return await in_thread(_queue, request)


def _propose_terminated(request: Request[Any, Any, Any], data: dict[str, str]) -> Any:
    today = china_today()
    with db(request, write=True) as session:
        officer = signed_in(request, session)
        officer.require(CREDIT_DECIDE)
        try:
            earlier = first_submission(session, officer, str(data.get("form_token", ""))[:64],
                                       PATH)  # fmt: skip
        except ServiceError as exc:
            return _queue(request, 400, form="terminated", errors={"_form": exc.message})
        if earlier is not None:
            return back_to(earlier)
        bl.propose_terminated(session, officer.act("终止医保支付资格的相关人员纳入名单"), today,
                              sees_region=officer.sees_region)  # fmt: skip
    return back_to(PATH)


@post(PATH + "/propose-terminated", include_in_schema=False)
async def blacklist_propose_terminated(
    request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, str]]
) -> Any:
    return await in_thread(_propose_terminated, request, data)


# --- a new proposal ----------------------------------------------------------------------------


def _new_page(request: Request[Any, Any, Any], status: int = 200, **shown: Any) -> Template:
    today = china_today()
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(CREDIT_DECIDE)
    context = _context(today, kinds=SUBJECT_KINDS, measures=bl.DEFAULT_MEASURES, **shown)
    return page(request, "admin/blacklist_new.html", officer, status_code=status, **context)


@get(PATH + "/new", include_in_schema=False)
async def blacklist_new(request: Request[Any, Any, Any]) -> Template:
    return await in_thread(_new_page, request)


def _field(data: dict[str, str], name: str, longest: int = 200) -> str:
    """A typed field: at most ``longest`` characters, no control characters (400 naming
    the field, nothing written)."""
    return checked_text(name, str(data.get(name, "")), longest)


def _remember(session: Session, token: str, target: str) -> None:
    """A second submission of the form leads where the first did: the new listing's page."""
    row = session.get(FormSubmission, token)
    if row is not None:
        row.outcome = target
        session.add(row)


def _propose(request: Request[Any, Any, Any], data: dict[str, str]) -> Template | Redirect:
    today = china_today()
    typed = {k: str(v)[:LONGEST] for k, v in data.items() if k not in ("_csrf_token", "form_token")}
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            officer.require(CREDIT_DECIDE)
            kind = _field(data, "subject_kind", 24)
            key = _field(data, "subject_key", 32)
            subject = bl.find_subject(session, kind, key)
            if not officer.sees_region(subject.region):
                raise NotFound("subject_key", f"未找到信用主体 {key}")
            related_text = _field(data, "related_listing_id", 12)
            related: int | None = None
            if related_text:
                if not is_whole(related_text):
                    raise ServiceError("related_listing_id", "名单记录编号应为数字")
                related = _listing_for(session, officer, int(related_text)).id
            token = str(data.get("form_token", ""))[:64]
            earlier = first_submission(session, officer, token, PATH)
            if earlier is not None:
                return back_to(earlier)
            listing = bl.propose(
                session, officer.act(_field(data, "reason", 500) or "拟列入严重失信主体名单"),
                subject_kind=kind, subject_key=key, grounds=_field(data, "grounds", LONGEST),
                basis=_field(data, "basis", LONGEST), measures=_field(data, "measures", LONGEST),
                authority=_field(data, "authority"), proposed_on=today,
                role=_field(data, "role", 24), related_listing_id=related, origin=None,
            )  # fmt: skip
            target = f"{PATH}/{listing.id}"
            _remember(session, token, target)
    except ServiceError as exc:
        field = "_form" if exc.field in ("form_token", "listing_id") else exc.field
        return _new_page(request, 400, form="new", typed=typed, errors={field: exc.message})
    return back_to(target)


@post(PATH + "/new", include_in_schema=False)
async def blacklist_propose(
    request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    return await in_thread(_propose, request, data)


# --- one listing -------------------------------------------------------------------------------


def _steps(officer: Officer, listing: BlacklistListing) -> dict[str, bool]:
    decide = officer.can(CREDIT_DECIDE) and officer.sees_region(listing.region)
    state = listing.state
    objected = listing.objection_on is not None
    return {
        "notice": decide and state == "proposed",
        "objection": decide and state == "noticed" and not objected,
        "answer": decide and state == "noticed" and objected and not listing.objection_answer,
        "list": decide and state == "noticed" and (not objected or bool(listing.objection_answer)),
        "withdraw": decide and state in bl.ACTIVE,
        "correct": decide and state == "listed",
    }


def _detail(
    request: Request[Any, Any, Any], listing_id: int, status: int = 200, **shown: Any
) -> Template:
    today = china_today()
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(CREDIT_READ)
        listing = _listing_for(session, officer, listing_id)
        context = _context(
            today, listing=listing, code=bl.public_code(listing),
            events=bl.events_of(session, listing_id),
            persons=bl.related_persons(session, listing_id),
            related=session.get(BlacklistListing, listing.related_listing_id or 0),
            answer_due=bl.answer_due(listing), appeal_due=docs.appeal_due(listing),
            steps=_steps(officer, listing),
            objected=bool(bl.under_objection(session, [listing_id])), **shown,
        )  # fmt: skip
    return page(request, "admin/blacklist_listing.html", officer, status_code=status, **context)


@get(PATH + "/{listing_id:int}", include_in_schema=False)
async def blacklist_listing(request: Request[Any, Any, Any], listing_id: FromPath[int]) -> Template:
    return await in_thread(_detail, request, listing_id)


def _day(data: dict[str, str], name: str, today: date) -> date:
    raw = str(data.get(name, "")).strip()[:32]
    if not raw:
        return today
    value = parse_day(raw, name, f"日期应为 YYYY-MM-DD，例如 {today.isoformat()}")
    if value > today:
        raise ServiceError(name, f"日期不能晚于今天（{today.isoformat()}）")
    return value


Step = Callable[[Session, Officer, BlacklistListing, date], Any]


def _action(
    request: Request[Any, Any, Any], listing_id: int, data: dict[str, str], step: str, run: Step
) -> Template | Redirect:
    """One step: the right, the scope (404 outside it), the form token, then the service;
    a refusal shows the page again (400) with what was typed and the error at its field."""
    today = china_today()
    target = f"{PATH}/{listing_id}"
    typed = {k: str(v)[:LONGEST] for k, v in data.items() if k not in ("_csrf_token", "form_token")}
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            officer.require(CREDIT_DECIDE)
            listing = _listing_for(session, officer, listing_id)
            earlier = first_submission(session, officer, str(data.get("form_token", ""))[:64],
                                       target)  # fmt: skip
            if earlier is not None:
                return back_to(earlier)
            if not _steps(officer, listing)[step]:
                if not officer.sees_region(listing.region):
                    raise Forbidden("只能办理本辖区信用主体的名单事项")
                state = bl.STATE_ZH[listing.state]
                raise ServiceError("_form", f"当前状态为{state}，不能办理此事项")
            run(session, officer, listing, today)
    except ServiceError as exc:
        general = ("form_token", "state", "listing_id", "fields")
        field = "_form" if exc.field in general else exc.field
        return _detail(request, listing_id, 400, form=step, typed=typed,
                       errors={field: exc.message})  # fmt: skip
    return back_to(target)


def _reason(data: dict[str, str], default: str) -> str:
    return _field(data, "reason", 500) or default


@post(PATH + "/{listing_id:int}/notice", include_in_schema=False)
async def blacklist_notice(
    request: Request[Any, Any, Any], listing_id: FromPath[int], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    def run(session: Session, officer: Officer, listing: BlacklistListing, today: date) -> None:
        bl.issue_prior_notice(session, officer.act(_reason(data, "事先告知")), listing.id or 0,
                              on=_day(data, "on", today),
                              notice_no=_field(data, "notice_no", 64))  # fmt: skip

    return await in_thread(_action, request, listing_id, data, "notice", run)


@post(PATH + "/{listing_id:int}/objection", include_in_schema=False)
async def blacklist_objection(
    request: Request[Any, Any, Any], listing_id: FromPath[int], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    def run(session: Session, officer: Officer, listing: BlacklistListing, today: date) -> None:
        bl.record_objection(session, officer.act(_reason(data, "登记异议")), listing.id or 0,
                            statement=_field(data, "statement", LONGEST),
                            received_on=_day(data, "received_on", today))  # fmt: skip

    return await in_thread(_action, request, listing_id, data, "objection", run)


@post(PATH + "/{listing_id:int}/answer", include_in_schema=False)
async def blacklist_answer(
    request: Request[Any, Any, Any], listing_id: FromPath[int], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    def run(session: Session, officer: Officer, listing: BlacklistListing, today: date) -> None:
        outcome = _field(data, "outcome", 12)
        if outcome not in ("upheld", "rejected"):
            raise ServiceError("outcome", "请选择异议是否成立")
        bl.answer_objection(session, officer.act(_reason(data, "异议答复")), listing.id or 0,
                            answer=_field(data, "answer", LONGEST), upheld=outcome == "upheld",
                            on=_day(data, "on", today))  # fmt: skip

    return await in_thread(_action, request, listing_id, data, "answer", run)


@post(PATH + "/{listing_id:int}/list", include_in_schema=False)
async def blacklist_list(
    request: Request[Any, Any, Any], listing_id: FromPath[int], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    def run(session: Session, officer: Officer, listing: BlacklistListing, today: date) -> None:
        bl.list_subject(session, officer.act(_reason(data, "作出列入决定")), listing.id or 0,
                        listed_on=_day(data, "listed_on", today),
                        document_no=_field(data, "document_no", 64),
                        authority=_field(data, "authority"))  # fmt: skip

    return await in_thread(_action, request, listing_id, data, "list", run)


@post(PATH + "/{listing_id:int}/withdraw", include_in_schema=False)
async def blacklist_withdraw(
    request: Request[Any, Any, Any], listing_id: FromPath[int], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    def run(session: Session, officer: Officer, listing: BlacklistListing, today: date) -> None:
        reason = _field(data, "reason", 500)
        bl.withdraw(session, officer.act(reason), listing.id or 0, on=_day(data, "on", today),
                    reason=reason)  # fmt: skip

    return await in_thread(_action, request, listing_id, data, "withdraw", run)


CORRECT_FIELDS = (("grounds", LONGEST), ("basis", LONGEST), ("measures", LONGEST),
                  ("authority", 200), ("document_no", 64))  # fmt: skip


@post(PATH + "/{listing_id:int}/correct", include_in_schema=False)
async def blacklist_correct(
    request: Request[Any, Any, Any], listing_id: FromPath[int], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    """更正 a public listing (its grounds, basis, measures, authority, document number): a
    ``corrected`` event replacing the last one, pushed like every public change."""

    def run(session: Session, officer: Officer, listing: BlacklistListing, today: date) -> None:
        reason = _field(data, "reason", 500)
        if not reason:
            raise ServiceError("reason", "请填写更正理由")
        fields = {name: _field(data, name, longest) for name, longest in CORRECT_FIELDS}
        bl.correct(session, officer.act(reason), listing.id or 0, on=today, **fields)

    return await in_thread(_action, request, listing_id, data, "correct", run)


# --- the documents -----------------------------------------------------------------------------


def _pdf(request: Request[Any, Any, Any], listing_id: int, which: str) -> Response[bytes]:
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(CREDIT_READ)
        listing = _listing_for(session, officer, listing_id)
        if which == "notice" and listing.noticed_on is None:
            raise NotFound("listing_id", "尚未出具事先告知书")
        if which == "decision" and listing.listed_on is None:
            raise NotFound("listing_id", "尚未作出列入决定")
        code = bl.public_code(listing)
        draw = docs.prior_notice_pdf if which == "notice" else docs.decision_pdf
        content = draw(listing, code)
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'inline; filename="blacklist-{listing_id}-{which}.pdf"',
        },
    )


@get(PATH + "/{listing_id:int}/notice.pdf", include_in_schema=False)
async def blacklist_notice_pdf(
    request: Request[Any, Any, Any], listing_id: FromPath[int]
) -> Response[bytes]:
    return await in_thread(_pdf, request, listing_id, "notice")


@get(PATH + "/{listing_id:int}/decision.pdf", include_in_schema=False)
async def blacklist_decision_pdf(
    request: Request[Any, Any, Any], listing_id: FromPath[int]
) -> Response[bytes]:
    return await in_thread(_pdf, request, listing_id, "decision")


ROUTES = [
    blacklist_queue,
    blacklist_propose_terminated,
    blacklist_new,
    blacklist_propose,
    blacklist_listing,
    blacklist_notice,
    blacklist_objection,
    blacklist_answer,
    blacklist_list,
    blacklist_withdraw,
    blacklist_correct,
    blacklist_notice_pdf,
    blacklist_decision_pdf,
]
