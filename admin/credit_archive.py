"""Credit subjects and their archives (Hunan-Credit Art. 3, 9-17, 23; spec/DESIGN.md "Who sees
what": credit — province_admin all, agency/admin officers read, credit_officer decides,
institution_admin its own institution, read; auditor read).

Scope: a region for the officers, the own institution (and the people registered there, as
on the practitioner page) for an institution administrator, everything for the province
and the auditor. A subject outside scope is 404; a page the role lacks 403. An individual's
non-public items are shown only after a stated purpose, each look in the query log (Art.
23; RULES §9); institutions' are shown to those who may read the archive.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy import or_
from sqlmodel import Session, col, select

from admin.common import (
    Forbidden,
    Officer,
    back_to,
    db,
    first_submission,
    form_token,
    in_thread,
    institution_for,
    page,
    parse_day,
    practitioner_for,
    sees_institution,
    signed_in,
    submitted_before,
)
from portal.clock import CHINA, china_today
from portal.credit_models import (
    CATEGORIES,
    INDIVIDUAL_KINDS,
    INSTITUTION_KINDS,
    SOURCES,
    BlacklistListing,
    CreditChangeNotice,
    CreditCommitment,
    CreditItem,
    CreditObjection,
    CreditRepair,
)
from portal.models import CreditResult, FormSubmission, Institution, Practitioner
from portal.services import credit_archive as archive
from portal.services import credit_commitments as commitments
from portal.services import credit_import, credit_subjects, jobs
from portal.services.errors import NotFound, ServiceError, checked_text, checked_whole
from portal.services.querylog import record_query
from portal.services.registry import find_by_id_number
from portal.services.roles import CREDIT_DECIDE, CREDIT_READ, PRIVATE

BASE = "/admin/credit/subjects"
MAX_UPLOAD = 20 * 1024 * 1024
ITEM_FIELDS = ("category", "polarity", "public", "source", "source_unit", "title", "occurred_on",
               "detail", "serious")  # fmt: skip
STATE_ZH = {
    "open": "处理中", "upheld": "异议成立", "rejected": "异议不成立", "pending": "待决定",
    "approved": "准予修复", "refused": "不予修复", "proposed": "拟列入", "noticed": "已告知",
    "listed": "已列入", "repaired": "已修复", "removed": "已移出", "withdrawn": "已撤回",
    "graded": "已评定", "held_for_consultation": "待征求意见", "excluded": "不参加评价",
}  # fmt: skip


def archive_url(kind: str, key: str) -> str:
    return f"{BASE}/{kind}/{key}"


# --- scope ---------------------------------------------------------------------------------


def subject_for(session: Session, officer: Officer, kind: str, key: str) -> archive.SubjectInfo:
    """The subject the officer may see, else 404 (no hint it exists); 403 without the right."""
    officer.require(CREDIT_READ)
    info = archive.subject(session, kind[:24], key[:32])
    if info.kind == "practitioner":
        practitioner_for(session, officer, info.key)
    elif info.registry:
        institution_for(session, officer, info.key)
    elif officer.role.scope == "institution" or not officer.sees_region(info.region):
        raise NotFound("subject_key", f"未找到信用主体 {key[:32]}")
    return info


def _sees(session: Session, officer: Officer, info: archive.SubjectInfo) -> bool:
    try:
        subject_for(session, officer, info.kind, info.key)
    except NotFound:
        return False
    return True


# --- the list and search ----------------------------------------------------------------


def _search(session: Session, officer: Officer, q: str, secret: str) -> list[dict[str, Any]]:
    """Registry institutions and practitioners, and other subjects, by name, code or an ID
    number (exact, through its keyed hash), within the officer's scope."""
    rows: list[dict[str, Any]] = []
    text = q.strip()[:64]
    query = select(Institution).order_by(col(Institution.code)).limit(200)
    if text:
        query = query.where(
            or_(
                col(Institution.name).contains(text, autoescape=True),
                col(Institution.code) == text,
                col(Institution.credit_code) == text.upper(),
            )
        )
    for place in session.exec(query):
        if sees_institution(officer, place) and place.kind in archive.INSTITUTION_OF_KIND:
            kind = archive.INSTITUTION_OF_KIND[place.kind]
            rows.append({"kind": kind, "key": place.code, "name": place.name,
                         "region": place.region, "document": place.credit_code})  # fmt: skip
    people: list[Practitioner] = []
    if text:
        people = list(
            session.exec(
                select(Practitioner)
                .where(
                    or_(
                        col(Practitioner.name).contains(text, autoescape=True),
                        col(Practitioner.national_code) == text.upper(),
                    )
                )
                .limit(200)
            )
        )
        if len(text) == 18 and text.isascii():
            try:
                found = find_by_id_number(session, text, secret)
            except ServiceError:
                found = None
            if found is not None:
                people.append(found)
    for person in people:
        try:
            practitioner_for(session, officer, person.national_code)
        except NotFound:
            continue
        rows.append({"kind": "practitioner", "key": person.national_code, "name": person.name,
                     "region": person.region, "document": person.national_code})  # fmt: skip
    if officer.role.scope != "institution":
        found_subjects = credit_subjects.list_subjects(
            session, q=text, sees_region=officer.sees_region, secret=secret
        )
        for s in found_subjects:
            document = s.subject_key if s.document_type == "credit_code" else ""
            rows.append({"kind": s.subject_kind, "key": s.subject_key, "name": s.name,
                         "region": s.region, "document": document})  # fmt: skip
    unique = {(r["kind"], r["key"]): r for r in rows}
    return list(unique.values())[:200]


def _subjects_page(
    request: Request[Any, Any, Any],
    q: str = "",
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(CREDIT_READ)
        rows = _search(session, officer, q, request.app.state.settings.secret) if q else []
        if not q:
            rows = _search(session, officer, "", request.app.state.settings.secret)
    return page(
        request, "admin/credit_subjects.html", officer, status_code=status_code, q=q, rows=rows,
        kind_zh=archive.KIND_ZH, errors=errors or {}, typed=typed or {}, token=form_token(),
        may_decide=officer.can(CREDIT_DECIDE), institution_kinds=INSTITUTION_KINDS,
        individual_kinds=INDIVIDUAL_KINDS, document_zh=credit_subjects.DOCUMENT_ZH,
    )  # fmt: skip


@get(BASE, include_in_schema=False)
async def subjects_page(request: Request[Any, Any, Any], q: FromQuery[str] = "") -> Template:
    return await in_thread(_subjects_page, request, q[:64])


def _create(request: Request[Any, Any, Any], data: dict[str, Any]) -> Template | Redirect:
    keys = ("kind", "name", "region", "number", "document_type", "legal_representative")
    typed = {k: str(data.get(k, "")).strip() for k in keys}
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            officer.require(CREDIT_DECIDE)
            if typed["region"] and not officer.sees_region(typed["region"]):
                raise ServiceError("region", "只能为本辖区的信用主体建立档案")
            done = submitted_before(session, str(data.get("form_token", "")))
            if done is not None:
                return back_to(done)
            made = credit_subjects.create_subject(
                session, officer.act("建立信用档案"), kind=typed["kind"], name=typed["name"],
                region=typed["region"], number=typed["number"],
                document_type=typed["document_type"],
                legal_representative=typed["legal_representative"],
                secret=request.app.state.settings.secret,
            )  # fmt: skip
            target = archive_url(made.subject_kind, made.subject_key)
            earlier = first_submission(session, officer, str(data.get("form_token", ""))[:64],
                                       target)  # fmt: skip
            if earlier is not None:
                session.rollback()
                return back_to(earlier)
    except ServiceError as exc:
        typed.pop("number")  # an ID number is not echoed back into the page
        return _subjects_page(request, "", {exc.field: exc.message}, typed, 400)
    return back_to(target)


@post(BASE, include_in_schema=False)
async def subject_create(
    request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, Any]]
) -> Template | Redirect:
    """A subject outside the registry (Art. 3, 15), within the officer's region."""
    return await in_thread(_create, request, data)


# --- the archive page ---------------------------------------------------------------------


def _china_time(at: datetime) -> str:
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _measures(text: str) -> list[str]:
    try:
        data = json.loads(text or "[]")
    except ValueError:
        return []
    out = []
    for m in data if isinstance(data, list) else []:
        if isinstance(m, dict):
            out.append(str(m.get("text") or m.get("title") or m.get("id") or ""))
        else:
            out.append(str(m))
    return [m for m in out if m]


def _context(
    session: Session, officer: Officer, info: archive.SubjectInfo, opened: bool
) -> dict[str, Any]:
    kind, key = info.kind, info.key
    views = archive.current_items(session, kind, key)
    personal = kind in INDIVIDUAL_KINDS
    hidden = 0
    if personal and not opened:
        hidden = sum(1 for v in views if not v.item.public)
        views = [v for v in views if v.item.public]
    by_category = [(c, [v for v in views if v.item.category == c]) for c in CATEGORIES]
    results = list(
        session.exec(
            select(CreditResult)
            .where(CreditResult.subject_kind == kind)
            .where(CreditResult.subject_key == key)
            .order_by(col(CreditResult.year).desc(), col(CreditResult.id).desc())
        )
    )
    replaced = {r.supersedes_id for r in results if r.supersedes_id is not None}
    notices = list(
        session.exec(
            select(CreditChangeNotice)
            .where(CreditChangeNotice.subject_kind == kind)
            .where(CreditChangeNotice.subject_key == key)
            .order_by(col(CreditChangeNotice.id).desc())
        )
    )

    def about(model: Any) -> list[Any]:
        return list(
            session.exec(
                select(model)
                .where(model.subject_kind == kind)
                .where(model.subject_key == key)
                .order_by(col(model.id).desc())
            )
        )

    return {
        "info": info, "by_category": [(c, v) for c, v in by_category if v], "hidden": hidden,
        "personal": personal, "opened": opened,
        "results": [(r, r.id in replaced, _measures(r.measures)) for r in results],
        "notices": notices, "objections": about(CreditObjection), "repairs": about(CreditRepair),
        "listings": about(BlacklistListing),
        "commitments": commitments.commitments_of(session, kind, key),
        "templates": commitments.templates(session, kind),
        "may_decide": officer.can(CREDIT_DECIDE), "can_private": officer.can(PRIVATE),
        "kind_zh": archive.KIND_ZH, "category_zh": archive.CATEGORY_ZH,
        "source_zh": archive.SOURCE_ZH, "polarity_zh": archive.POLARITY_ZH,
        "categories": CATEGORIES, "sources": SOURCES, "state_zh": STATE_ZH,
        "outcome_zh": commitments.OUTCOME_ZH, "token": form_token(), "today": china_today(),
        "china_time": _china_time, "url": archive_url(kind, key),
    }  # fmt: skip


def _archive(
    request: Request[Any, Any, Any],
    kind: str,
    key: str,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    form: str = "",
    status_code: int = 200,
    purpose: str | None = None,
) -> Template:
    """The archive; with ``purpose`` the look is logged first (same transaction)."""
    with db(request, write=purpose is not None) as session:
        officer = signed_in(request, session)
        info = subject_for(session, officer, kind, key)
        opened = False
        if purpose is not None:
            officer.require(PRIVATE)
            record_query(session, officer.act("查询信用档案"), subject=info.key,
                         what="credit_archive", purpose=purpose)  # fmt: skip
            opened = True
        context = _context(session, officer, info, opened)
    return page(request, "admin/credit_archive.html", officer, status_code=status_code,
                errors=errors or {}, typed=typed or {}, form=form, purpose=purpose or "",
                **context)  # fmt: skip


@get(BASE + "/{kind:str}/{key:str}", include_in_schema=False)
async def archive_page(
    request: Request[Any, Any, Any], kind: FromPath[str], key: FromPath[str]
) -> Template:
    return await in_thread(_archive, request, kind[:24], key[:32])


def _open(request: Request[Any, Any, Any], kind: str, key: str, data: dict[str, Any]) -> Template:
    purpose = str(data.get("purpose", "")).strip()
    try:
        checked_text("purpose", purpose, 500)
        return _archive(request, kind, key, purpose=purpose)
    except ServiceError as exc:
        if exc.code == "not_found":
            raise
        return _archive(request, kind, key, errors={exc.field: exc.message}, form="purpose",
                        typed={"purpose": purpose}, status_code=400)  # fmt: skip


@post(BASE + "/{kind:str}/{key:str}/view", include_in_schema=False)
async def archive_open(
    request: Request[Any, Any, Any],
    kind: FromPath[str],
    key: FromPath[str],
    data: URLEncodedBody[dict[str, Any]],
) -> Template:
    """State a purpose, then see an individual's non-public items in this response only."""
    return await in_thread(_open, request, kind[:24], key[:32], data)


# --- changing the archive -----------------------------------------------------------------


def _item_values(data: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    typed = {k: str(data.get(k, "")).strip() for k in (*ITEM_FIELDS, "reason")}
    values: dict[str, Any] = {
        "category": typed["category"], "polarity": typed["polarity"],
        "public": typed["public"] in ("1", "yes", "on"), "source": typed["source"],
        "source_unit": typed["source_unit"], "title": typed["title"], "detail": typed["detail"],
        "serious": typed["serious"] in ("1", "yes", "on"),
    }  # fmt: skip
    values["occurred_on"] = parse_day(typed["occurred_on"], "occurred_on")
    return typed, values


def _decide(
    request: Request[Any, Any, Any],
    kind: str,
    key: str,
    data: dict[str, Any],
    form: str,
    action: Any,
) -> Template | Redirect:
    """The shape of every change: in scope and allowed, once per form, else 400 with what
    was typed and the error by its field (nothing done)."""
    typed = {k: str(v).strip() for k, v in data.items() if k != "_csrf_token"}
    target = archive_url(kind, key)
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            info = subject_for(session, officer, kind, key)
            officer.require(CREDIT_DECIDE)
            target = archive_url(info.kind, info.key)
            earlier = first_submission(session, officer, str(data.get("form_token", ""))[:64],
                                       target)  # fmt: skip
            if earlier is not None:
                return back_to(earlier)
            action(session, officer, info)
    except ServiceError as exc:
        if exc.code == "not_found" and exc.field in (
            "subject_key",
            "national_code",
            "institution_code",
            "subject_kind",
        ):
            raise
        return _archive(request, kind, key, errors={exc.field: exc.message}, typed=typed,
                        form=form, status_code=400)  # fmt: skip
    return back_to(target)


def _add_item(request: Request[Any, Any, Any], kind: str, key: str, data: dict[str, Any]) -> Any:
    def act(session: Session, officer: Officer, info: archive.SubjectInfo) -> None:
        _, values = _item_values(data)
        reason = checked_text("reason", str(data.get("reason", "")), 500) or "录入信用信息"
        archive.record_item(session, officer.act(reason), subject_kind=info.kind,
                            subject_key=info.key, **values)  # fmt: skip

    return _decide(request, kind, key, data, "add", act)


@post(BASE + "/{kind:str}/{key:str}/items", include_in_schema=False)
async def item_add(
    request: Request[Any, Any, Any],
    kind: FromPath[str],
    key: FromPath[str],
    data: URLEncodedBody[dict[str, Any]],
) -> Template | Redirect:
    """Record an item of credit information (Art. 13-16)."""
    return await in_thread(_add_item, request, kind[:24], key[:32], data)


def _item_subject(request: Request[Any, Any, Any], item_id: int) -> tuple[str, str]:
    with db(request) as session:
        officer = signed_in(request, session)
        item = session.get(CreditItem, item_id)
        if item is None:
            raise NotFound("item_id", f"未找到信用信息 {item_id}")
        subject_for(session, officer, item.subject_kind, item.subject_key)
        return item.subject_kind, item.subject_key


def _change_item(
    request: Request[Any, Any, Any], item_id: int, data: dict[str, Any], withdraw: bool
) -> Any:
    kind, key = _item_subject(request, item_id)

    def act(session: Session, officer: Officer, info: archive.SubjectInfo) -> None:
        reason = checked_text("reason", str(data.get("reason", "")), 500)
        if withdraw:
            archive.withdraw_item(session, officer.act(reason), item_id)
            return
        _, values = _item_values(data)
        old = session.get(CreditItem, item_id)
        assert old is not None
        changes = {k: v for k, v in values.items() if getattr(old, k) != v}
        archive.supersede_item(session, officer.act(reason), item_id, **changes)

    return _decide(request, kind, key, data, f"{'withdraw' if withdraw else 'edit'}-{item_id}",
                   act)  # fmt: skip


@post("/admin/credit/items/{item_id:int}/supersede", include_in_schema=False)
async def item_supersede(
    request: Request[Any, Any, Any], item_id: FromPath[int], data: URLEncodedBody[dict[str, Any]]
) -> Template | Redirect:
    """Correct an item: a new row that supersedes it (Art. 13, 19)."""
    return await in_thread(_change_item, request, item_id, data, False)


@post("/admin/credit/items/{item_id:int}/withdraw", include_in_schema=False)
async def item_withdraw(
    request: Request[Any, Any, Any], item_id: FromPath[int], data: URLEncodedBody[dict[str, Any]]
) -> Template | Redirect:
    """Withdraw an item: a new row that says so (the old stays)."""
    return await in_thread(_change_item, request, item_id, data, True)


# --- commitments ----------------------------------------------------------------------------


def _sign(request: Request[Any, Any, Any], kind: str, key: str, data: dict[str, Any]) -> Any:
    def act(session: Session, officer: Officer, info: archive.SubjectInfo) -> None:
        try:
            template = checked_whole("template_id", str(data.get("template_id", "")), 1, 10**9)
        except ServiceError:
            raise ServiceError("template_id", "请选择承诺书模板") from None
        text = str(data.get("signed_text", "")).strip()
        commitments.sign(
            session, officer.act("记录信用承诺"), subject_kind=info.kind, subject_key=info.key,
            template_id=template, signed_by=str(data.get("signed_by", "")),
            signed_on=parse_day(str(data.get("signed_on", "")).strip(), "signed_on"),
            signed_text=text or None,
        )  # fmt: skip

    return _decide(request, kind, key, data, "sign", act)


@post(BASE + "/{kind:str}/{key:str}/commitments", include_in_schema=False)
async def commitment_sign(
    request: Request[Any, Any, Any],
    kind: FromPath[str],
    key: FromPath[str],
    data: URLEncodedBody[dict[str, Any]],
) -> Template | Redirect:
    """Record a signed commitment with the text as signed (Art. 9-12)."""
    return await in_thread(_sign, request, kind[:24], key[:32], data)


def _fulfil(request: Request[Any, Any, Any], commitment_id: int, data: dict[str, Any]) -> Any:
    with db(request) as session:
        officer = signed_in(request, session)
        row = session.get(CreditCommitment, commitment_id)
        if row is None:
            raise NotFound("commitment_id", f"未找到信用承诺 {commitment_id}")
        subject_for(session, officer, row.subject_kind, row.subject_key)
        kind, key = row.subject_kind, row.subject_key

    def act(session: Session, officer: Officer, info: archive.SubjectInfo) -> None:
        commitments.record_fulfilment(
            session, officer.act("信用承诺履行情况"), commitment_id,
            outcome=str(data.get("outcome", "")),
            on=parse_day(str(data.get("on", "")).strip(), "on"),
            detail=str(data.get("detail", "")).strip(),
        )  # fmt: skip

    return _decide(request, kind, key, data, f"fulfil-{commitment_id}", act)


@post("/admin/credit/commitments/{commitment_id:int}/fulfilment", include_in_schema=False)
async def commitment_fulfilment(
    request: Request[Any, Any, Any],
    commitment_id: FromPath[int],
    data: URLEncodedBody[dict[str, Any]],
) -> Template | Redirect:
    """Kept or breached (Art. 9); a breach writes a bad item of category commitment."""
    return await in_thread(_fulfil, request, commitment_id, data)


TEMPLATES = "/admin/credit/commitment-templates"


def _templates_page(
    request: Request[Any, Any, Any],
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(CREDIT_READ)
        rows = commitments.templates(session)
    return page(request, "admin/credit_commitment_templates.html", officer,
                status_code=status_code, rows=rows, kind_zh=archive.KIND_ZH,
                errors=errors or {}, typed=typed or {}, token=form_token(),
                may_decide=officer.can(CREDIT_DECIDE))  # fmt: skip


@get(TEMPLATES, include_in_schema=False)
async def templates_page(request: Request[Any, Any, Any]) -> Template:
    return await in_thread(_templates_page, request)


def _new_template(request: Request[Any, Any, Any], data: dict[str, Any]) -> Template | Redirect:
    typed = {k: str(data.get(k, "")).strip() for k in ("subject_kind", "title", "text")}
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            officer.require(CREDIT_DECIDE)
            if officer.role.scope != "province":
                raise Forbidden("承诺书模板由省级统一制定")
            earlier = first_submission(session, officer, str(data.get("form_token", ""))[:64],
                                       TEMPLATES)  # fmt: skip
            if earlier is not None:
                return back_to(earlier)
            commitments.create_template(session, officer.act("制定信用承诺书模板"),
                                        subject_kind=typed["subject_kind"], title=typed["title"],
                                        text=typed["text"])  # fmt: skip
    except ServiceError as exc:
        return _templates_page(request, {exc.field: exc.message}, typed, 400)
    return back_to(TEMPLATES)


@post(TEMPLATES, include_in_schema=False)
async def template_create(
    request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, Any]]
) -> Template | Redirect:
    """A new version of a commitment template (a new row; the old stays)."""
    return await in_thread(_new_template, request, data)


# --- imports from other departments --------------------------------------------------------

IMPORTS = "/admin/credit/imports"


def _imports_page(
    request: Request[Any, Any, Any], errors: dict[str, str] | None = None, status_code: int = 200
) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(CREDIT_DECIDE)
        recent = [
            (j, jobs.summary_of(j), _china_time(j.started_at))
            for j in jobs.recent(session, officer.username, credit_import.JOB_KIND)
        ]
    return page(request, "admin/credit_imports.html", officer, status_code=status_code,
                errors=errors or {}, recent=recent, token=form_token(),
                max_mb=MAX_UPLOAD // (1024 * 1024), columns=credit_import.LABEL)  # fmt: skip


@get(IMPORTS, include_in_schema=False)
async def imports_page(request: Request[Any, Any, Any]) -> Template:
    return await in_thread(_imports_page, request)


def _sees_for(engine: Any, officer: Officer) -> Any:
    def sees(info: archive.SubjectInfo) -> bool:
        from portal.db import session_scope

        with session_scope(engine) as session:
            return _sees(session, officer, info)

    return sees


def _start_import(
    request: Request[Any, Any, Any], filename: str, content: bytes, token: str
) -> Template | Redirect:
    folder = Path(tempfile.mkdtemp(prefix="portal-credit-import-"))
    started = False
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            officer.require(CREDIT_DECIDE)
            path = credit_import.save_upload(folder, filename, content)
            earlier = first_submission(session, officer, token, "")
            if earlier is not None:
                session.rollback()
                return back_to(earlier)
            job = jobs.start(session, officer.act(f"导入信用信息 {path.name}"),
                             credit_import.JOB_KIND, note={"file": path.name})  # fmt: skip
            target = f"{IMPORTS}/{job.id}"
            row = session.get(FormSubmission, token)
            if row is not None:
                row.outcome = target
                session.add(row)
        engine = request.app.state.engine
        sees = None if officer.role.scope == "province" else _sees_for(engine, officer)
        credit_import.run_import(engine, job.id or 0, path, actor=officer.username,
                                 secret=request.app.state.settings.secret, sees=sees)  # fmt: skip
        started = True
        return back_to(target)
    except ServiceError as exc:
        return _imports_page(request, {exc.field: exc.message}, 400)
    finally:
        if not started:
            shutil.rmtree(folder, ignore_errors=True)


@post(IMPORTS, include_in_schema=False, request_max_body_size=MAX_UPLOAD)
async def import_submit(
    request: Request[Any, Any, Any],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Template | Redirect:
    """Upload a file of credit items (CSV or XLSX); 303 to its progress page."""
    upload = data.get("file")
    filename, content = "", b""
    if isinstance(upload, UploadFile):
        filename, content = upload.filename or "", await upload.read()
    return await in_thread(_start_import, request, filename, content,
                           str(data.get("form_token", ""))[:64])  # fmt: skip


def _job_page(request: Request[Any, Any, Any], job_id: int) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(CREDIT_DECIDE)
        job = jobs.get_job(session, job_id)
        if job is None or job.kind != credit_import.JOB_KIND or job.actor != officer.username:
            raise NotFound("job_id", f"未找到导入任务 {job_id}")
    done = job.done
    if job.state == "running":
        done = max(done, jobs.live(job.id or 0) or 0)
    context: dict[str, Any] = {"job": job, "done": done, "summary": jobs.summary_of(job)}
    if request.headers.get("hx-request"):
        return page(request, "admin/credit_import_progress.html", officer, **context)
    return page(request, "admin/credit_import_job.html", officer, **context)


@get(IMPORTS + "/{job_id:int}", include_in_schema=False)
async def import_job(request: Request[Any, Any, Any], job_id: FromPath[int]) -> Template:
    return await in_thread(_job_page, request, job_id)


ROUTES = [
    subjects_page, subject_create, archive_page, archive_open, item_add, item_supersede,
    item_withdraw, commitment_sign, commitment_fulfilment, templates_page, template_create,
    imports_page, import_submit, import_job,
]  # fmt: skip
