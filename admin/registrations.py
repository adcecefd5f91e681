"""登记备案: search, register, deregister, and bulk import with its row report.

Institution administrators keep their own institution's registrations; agency officers
those of institutions in their region (spec/DESIGN.md "Admin"). Registering at an
institution outside one's scope is 404, as its page would be. The import runs in a
background thread (portal.services.jobs); its page polls the job with htmx until it is
done, and shows every bad row by line and column.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from admin.common import (
    Officer,
    back_to,
    db,
    first_submission,
    form_token,
    in_thread,
    institution_for,
    is_whole,
    page,
    parse_day,
    practitioner_for,
    sees_institution,
    signed_in,
)
from portal.clock import CHINA, china_today
from portal.identifiers import IdentifierError, check_national_code
from portal.models import Institution, Job, Practitioner, Registration
from portal.services import jobs
from portal.services.errors import NotFound, ServiceError
from portal.services.registrations import deregister, register
from portal.services.registry import STATUS_ZH, find_by_id_number
from portal.services.roles import REGISTRATIONS, VIEW

PER_PAGE = 50
MAX_UPLOAD = 20 * 1024 * 1024  # about 100,000 rows of Annex 2 as CSV
STALLED = timedelta(minutes=30)


# --- search ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    q: str = ""
    institution: str = ""
    former: bool = False
    page: int = 1

    def url(self, page_no: int) -> str:
        from urllib.parse import urlencode

        params = {"q": self.q, "institution": self.institution, "page": str(page_no)}
        if self.former:
            params["former"] = "1"
        return "/admin/registrations?" + urlencode({k: v for k, v in params.items() if v})


def _looks_like_code(text: str) -> bool:
    try:
        check_national_code(text)
    except IdentifierError:
        return False
    return True


def search(
    session: Session, officer: Officer, query: Query
) -> tuple[list[tuple[Registration, Practitioner, Institution]], int]:
    """Registrations at institutions in the officer's scope, by national code (exact),
    name (prefix) or institution (code, or a part of its name)."""
    base = (
        select(Registration, Practitioner, Institution)
        .join(Practitioner, col(Practitioner.id) == Registration.practitioner_id)
        .join(Institution, col(Institution.id) == Registration.institution_id)
    )
    if officer.role.scope == "institution":
        base = base.where(Institution.code == officer.account.institution_code)
    elif officer.role.scope == "region":
        base = base.where(col(Institution.region).startswith(officer.account.region))
    if query.institution:
        base = base.where(Institution.code == query.institution)
    q = query.q
    if q:
        if _looks_like_code(q.upper()):
            base = base.where(Practitioner.national_code == q.upper())
        else:
            base = base.where(
                or_(
                    col(Practitioner.name).startswith(q),
                    col(Institution.name).contains(q),
                    col(Institution.code) == q,
                )
            )
    if not query.former:
        base = base.where(col(Registration.deregistered_on).is_(None))
    total = int(session.exec(select(func.count()).select_from(base.subquery())).one())
    rows = session.exec(
        base.order_by(col(Institution.code), col(Practitioner.name), col(Registration.id))
        .offset((query.page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    return [(r, p, i) for r, p, i in rows], total


@dataclass
class RegistrationForm:
    """What was typed, kept as typed, so that an error loses nothing."""

    national_code: str = ""
    institution_code: str = ""
    registered_on: str = ""
    commitment_signed_on: str = ""
    principal: bool = False
    multi_site: bool = False
    token: str = ""

    @classmethod
    def read(cls, data: dict[str, Any]) -> RegistrationForm:
        def text(key: str, limit: int = 32) -> str:
            return str(data.get(key, "")).strip()[:limit]

        return cls(
            national_code=text("national_code").upper(),
            institution_code=text("institution_code"),
            registered_on=text("registered_on", 10),
            commitment_signed_on=text("commitment_signed_on", 10),
            principal=bool(data.get("principal")),
            multi_site=bool(data.get("multi_site")),
            token=text("form_token", 64),
        )


def _day(text: str, field: str, today: date, required: str) -> date:
    if not text:
        raise ServiceError(field, required)
    day = parse_day(text, field, "日期应写作 YYYY-MM-DD，例如 2025-03-01")
    if day > today:
        raise ServiceError(field, "日期不能晚于今天")
    return day


def _institutions(session: Session, officer: Officer) -> list[Institution]:
    """The institutions the form offers (an institution administrator: its own only)."""
    if officer.role.scope == "institution":
        query = select(Institution).where(Institution.code == officer.account.institution_code)
    elif officer.role.scope == "region":
        query = select(Institution).where(
            col(Institution.region).startswith(officer.account.region)
        )
    else:
        query = select(Institution)
    return list(session.exec(query.order_by(col(Institution.code)).limit(500)))


def _search_page(
    request: Request[Any, Any, Any],
    query: Query,
    form: RegistrationForm | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(VIEW)
        rows, total = search(session, officer, query)
        if query.page > 1 and not rows:
            raise NotFound("page", "没有这一页")
        can_register = officer.can(REGISTRATIONS)
        places = _institutions(session, officer) if can_register else []
    if form is None:
        today = china_today().isoformat()
        form = RegistrationForm(
            national_code=request.query_params.get("code", "")[:32].upper(),
            institution_code=query.institution
            or (officer.account.institution_code if officer.role.scope == "institution" else ""),
            registered_on=today,
            commitment_signed_on=today,
            token=form_token(),
        )
    pages = max(1, -(-total // PER_PAGE))
    return page(
        request, "admin/registrations.html", officer, status_code=status_code, rows=rows,
        total=total, query=query, pages=pages, form=form, errors=errors or {},
        can_register=can_register, institutions=places, status_zh=STATUS_ZH,
        prev_url=query.url(query.page - 1) if query.page > 1 else "",
        next_url=query.url(query.page + 1) if query.page < pages else "",
    )  # fmt: skip


def _query(q: str, institution: str, former: str, page_text: str) -> Query:
    if not is_whole(page_text) or not 1 <= int(page_text) <= 1_000_000:
        raise ServiceError("page", "页码应为 1 至 1000000 的整数")
    return Query(q.strip()[:64], institution.strip()[:32], former == "1", int(page_text))


@get("/admin/registrations", include_in_schema=False)
async def registrations_page(
    request: Request[Any, Any, Any],
    q: FromQuery[str] = "",
    institution: FromQuery[str] = "",
    former: FromQuery[str] = "",
    page: FromQuery[str] = "1",
) -> Template:
    query = _query(q, institution, former, page[:8])
    return await in_thread(_search_page, request, query)


# --- register ----------------------------------------------------------------------------------


def _register(request: Request[Any, Any, Any], data: dict[str, Any]) -> Template | Redirect:
    form = RegistrationForm.read(data)
    today = china_today()
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            officer.require(REGISTRATIONS)
            if not form.institution_code:
                raise ServiceError("institution_code", "请选择登记备案的机构")
            institution = institution_for(session, officer, form.institution_code)
            if not form.national_code:
                raise ServiceError("national_code", "请填写医保相关人员代码")
            registered_on = _day(form.registered_on, "registered_on", today,
                                 "请填写登记备案日期")  # fmt: skip
            signed_on = _day(
                form.commitment_signed_on, "commitment_signed_on", today,
                "未签署医保服务承诺，不得提供医保基金支付的服务（经办规程第二十一条）",
            )  # fmt: skip
            _reachable(request, session, officer, form.national_code, data)
            target = f"/admin/practitioners/{form.national_code}"
            earlier = first_submission(session, officer, form.token, target)
            if earlier is not None:
                return back_to(earlier)
            register(
                session, officer.act("登记备案"), national_code=form.national_code,
                institution_code=institution.code, registered_on=registered_on,
                commitment_signed_on=signed_on, principal=form.principal,
                multi_site=form.multi_site,
            )  # fmt: skip
        return back_to(target)
    except ServiceError as exc:
        # What was typed comes back beside the error; a record out of reach is 404 (the
        # same answer whether the code is unknown or outside the officer's scope).
        status = 404 if exc.code == "not_found" else 400
        return _search_page(request, Query(institution=form.institution_code), form,
                            {exc.field: exc.message}, status)  # fmt: skip


OUT_OF_REACH = (
    "未找到该医保相关人员，或其不在您的管辖范围内；为外地人员登记备案（多点执业）须同时填写其"
    "身份证件号码以核验"
)


def _reachable(
    request: Request[Any, Any, Any], session: Any, officer: Any, code: str, data: dict[str, Any]
) -> None:
    """Registering someone the officer could not see before would bring them, and their
    private data, into the officer's scope: a person from elsewhere (a multi-site doctor)
    is registered only with their ID number, checked against the kept hash, as the import
    does. The refusal is the same whether the code is unknown or the number wrong."""
    try:
        practitioner_for(session, officer, code)
        return
    except NotFound:
        pass
    number = str(data.get("id_number", "")).strip()
    secret = request.app.state.settings.secret
    try:
        found = find_by_id_number(session, number, secret) if number else None
    except ServiceError:
        found = None
    if found is None or found.national_code != code.strip().upper():
        raise NotFound("national_code", OUT_OF_REACH)


@post("/admin/registrations", include_in_schema=False)
async def registration_submit(
    request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, Any]]
) -> Template | Redirect:
    return await in_thread(_register, request, data)


# --- deregister --------------------------------------------------------------------------------


def registration_for(
    session: Session, officer: Officer, registration_id: int
) -> tuple[Registration, Practitioner, Institution]:
    """The registration the officer may see (its institution in scope), else 404."""
    registration = session.get(Registration, registration_id)
    institution = session.get(Institution, registration.institution_id) if registration else None
    person = session.get(Practitioner, registration.practitioner_id) if registration else None
    if (
        registration is None
        or institution is None
        or person is None
        or not sees_institution(officer, institution)
    ):
        raise NotFound("registration_id", f"未找到登记备案 {registration_id}")
    return registration, person, institution


def _deregister_page(
    request: Request[Any, Any, Any],
    registration_id: int,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(REGISTRATIONS)
        registration, person, institution = registration_for(session, officer, registration_id)
    values = values or {"on": china_today().isoformat(), "reason": "", "form_token": form_token()}
    return page(
        request, "admin/registration_deregister.html", officer, status_code=status_code,
        r=registration, person=person, institution=institution, values=values,
        errors=errors or {},
    )  # fmt: skip


@get("/admin/registrations/{registration_id:int}/deregister", include_in_schema=False)
async def deregister_page(
    request: Request[Any, Any, Any], registration_id: FromPath[int]
) -> Template:
    return await in_thread(_deregister_page, request, registration_id)


def _deregister(
    request: Request[Any, Any, Any], registration_id: int, data: dict[str, Any]
) -> Template | Redirect:
    values = {
        "on": str(data.get("on", "")).strip()[:10],
        "reason": str(data.get("reason", "")).strip()[:200],
        "form_token": str(data.get("form_token", ""))[:64],
    }
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            officer.require(REGISTRATIONS)
            registration, person, _ = registration_for(session, officer, registration_id)
            on = _day(values["on"], "on", china_today(), "请填写取消登记备案的日期")
            if not values["reason"]:
                raise ServiceError("reason", "请填写取消登记备案的原因")
            target = f"/admin/practitioners/{person.national_code}"
            earlier = first_submission(session, officer, values["form_token"], target)
            if earlier is not None:
                return back_to(earlier)
            deregister(session, officer.act(values["reason"]), registration.id or 0, on)
        return back_to(target)
    except ServiceError as exc:
        if exc.code == "not_found":
            raise
        return _deregister_page(request, registration_id, values, {exc.field: exc.message}, 400)


@post("/admin/registrations/{registration_id:int}/deregister", include_in_schema=False)
async def deregister_submit(
    request: Request[Any, Any, Any],
    registration_id: FromPath[int],
    data: URLEncodedBody[dict[str, Any]],
) -> Template | Redirect:
    return await in_thread(_deregister, request, registration_id, data)


# --- import ------------------------------------------------------------------------------------


def _china_time(at: datetime) -> str:
    """A stored time (UTC; SQLite returns it without its zone) as Beijing time."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def job_for(session: Session, officer: Officer, job_id: int) -> Job:
    """An import the officer started, else 404 (an import report names people)."""
    job = jobs.get_job(session, job_id)
    if job is None or job.kind != "import" or job.actor != officer.username:
        raise NotFound("job_id", f"未找到导入任务 {job_id}")
    return job


def _imports_page(
    request: Request[Any, Any, Any],
    errors: dict[str, str] | None = None,
    good_rows: bool = False,
    status_code: int = 200,
) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(REGISTRATIONS)
        recent = [
            (j, jobs.summary_of(j), _china_time(j.started_at))
            for j in jobs.recent(session, officer.username, "import")
        ]
    return page(
        request, "admin/registration_import.html", officer, status_code=status_code,
        errors=errors or {}, good_rows=good_rows, recent=recent, token=form_token(),
        max_mb=MAX_UPLOAD // (1024 * 1024),
    )  # fmt: skip


@get("/admin/imports", include_in_schema=False)
async def imports_page(request: Request[Any, Any, Any]) -> Template:
    return await in_thread(_imports_page, request)


class _Repeated(Exception):
    def __init__(self, target: str) -> None:
        self.target = target


def _start_import(
    request: Request[Any, Any, Any], filename: str, content: bytes, good_rows: bool, token: str
) -> Template | Redirect:
    folder = Path(tempfile.mkdtemp(prefix="portal-import-"))
    started = False
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            officer.require(REGISTRATIONS)
            upload = jobs.save_upload(folder, filename, content, good_rows)
            job = jobs.start(session, officer.act(f"批量导入 {upload.path.name}"), "import",
                             note={"file": upload.path.name, "good_rows": good_rows})  # fmt: skip
            target = f"/admin/imports/{job.id}"
            earlier = first_submission(session, officer, token, target)
            if earlier is not None:
                raise _Repeated(earlier)  # undo the job row: the first one is running
        jobs.run_import(
            request.app.state.engine, job.id or 0, upload, actor=officer.username,
            secret=request.app.state.settings.secret, sees=partial(sees_institution, officer),
        )  # fmt: skip
        started = True
        return back_to(target)
    except _Repeated as repeated:
        return back_to(repeated.target)
    except ServiceError as exc:
        return _imports_page(request, {exc.field: exc.message}, good_rows, 400)
    finally:
        if not started:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)


@post("/admin/imports", include_in_schema=False, request_max_body_size=MAX_UPLOAD)
async def import_submit(
    request: Request[Any, Any, Any],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Template | Redirect:
    """Upload an Annex 2 file (CSV or XLSX); 303 to its progress page."""
    upload = data.get("file")
    filename, content = "", b""
    if isinstance(upload, UploadFile):
        filename, content = upload.filename or "", await upload.read()
    return await in_thread(
        _start_import, request, filename, content, bool(data.get("good_rows")),
        str(data.get("form_token", ""))[:64],
    )  # fmt: skip


def _job_page(request: Request[Any, Any, Any], job_id: int) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(REGISTRATIONS)
        job = job_for(session, officer, job_id)
    done, stalled = job.done, False
    if job.state == "running":
        live = jobs.live(job.id or 0)
        done = max(done, live or 0)
        started = job.started_at if job.started_at.tzinfo else job.started_at.replace(tzinfo=UTC)
        # Not running in this process and long under way: perhaps ended by a restart.
        stalled = live is None and datetime.now(UTC) - started > STALLED
    context: dict[str, Any] = {
        "job": job, "done": done, "summary": jobs.summary_of(job), "stalled": stalled,
    }  # fmt: skip
    if request.headers.get("hx-request"):  # the poll: the fragment alone
        return page(request, "admin/_progress.html", officer, **context)
    return page(request, "admin/registration_import_job.html", officer, **context)


@get("/admin/imports/{job_id:int}", include_in_schema=False)
async def import_job(request: Request[Any, Any, Any], job_id: FromPath[int]) -> Template:
    return await in_thread(_job_page, request, job_id)


ROUTES = [
    registrations_page, registration_submit, deregister_page, deregister_submit, imports_page,
    import_submit, import_job,
]  # fmt: skip
