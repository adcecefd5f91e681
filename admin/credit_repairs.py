"""Credit repair (Hunan-Credit Art. 25-27): the list, an application with its three papers
(multipart upload), its page, the written decision and its PDF, and the papers themselves.

CREDIT_READ reads applications within its scope; CREDIT_DECIDE records and decides within
its region. The papers are non-public personal data: served only to a credit officer in
scope (CREDIT_DECIDE and PRIVATE: the region's credit officer, the province administrator)
after a stated purpose, each view a query-log row, always as a download
(``Content-Disposition: attachment``, ``nosniff``), never to anyone else.

The upload's request body is limited to ``MAX_BODY`` (three papers of 10 MB and the form);
each file is checked again by its bytes and size in the service.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, URLEncodedBody
from litestar.response import Redirect, Response, Template
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
    private_item,
    signed_in,
)
from admin.credit_objections import KIND_ZH, pdf_response, remember, subject_for
from portal.clock import china_today
from portal.credit_models import CreditAttachment, CreditItem, CreditRepair
from portal.services import credit_repairs as repairs
from portal.services.credit_repairs import ROLES_ZH, STATE_ZH, Upload
from portal.services.errors import NotFound, ServiceError
from portal.services.querylog import record_query
from portal.services.roles import CREDIT_DECIDE, CREDIT_READ, PRIVATE

PATH = "/admin/credit/repairs"
MAX_BODY = 3 * repairs.MAX_BYTES + 1024 * 1024
TEXT_FIELDS = ("subject_kind", "subject_key", "item_id", "applicant", "applied_on", "correction")


def repair_for(session: Session, officer: Officer, repair_id: int) -> CreditRepair:
    officer.require(CREDIT_READ)
    found = session.get(CreditRepair, repair_id)
    if found is None:
        raise NotFound("repair_id", f"未找到信用修复申请 {repair_id}")
    subject_for(session, officer, found.subject_kind, found.subject_key)
    return found


def _list(request: Request[Any, Any, Any]) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(CREDIT_READ)
        rows = []
        for r in repairs.repairs(session):
            try:
                ref = subject_for(session, officer, r.subject_kind, r.subject_key)
            except NotFound:
                continue
            rows.append((r, ref))
    return page(request, "admin/credit_repairs.html", officer, rows=rows, state_zh=STATE_ZH,
                kind_zh=KIND_ZH, may_decide=officer.can(CREDIT_DECIDE))  # fmt: skip


@get(PATH, include_in_schema=False)
async def repair_list(request: Request[Any, Any, Any]) -> Template:
    return await in_thread(_list, request)


# --- applying ---------------------------------------------------------------------------------


def _new_page(
    request: Request[Any, Any, Any],
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    query = request.query_params
    typed = typed or {k: str(query.get(k, ""))[:64] for k in ("subject_kind", "subject_key",
                                                              "item_id")}  # fmt: skip
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(CREDIT_DECIDE)
    return page(request, "admin/credit_repair_new.html", officer, status_code=status_code,
                typed=typed, errors=errors or {}, form="new" if errors else "",
                token=form_token(), today=china_today(), kind_zh=KIND_ZH, roles_zh=ROLES_ZH,
                max_mb=repairs.MAX_BYTES // (1024 * 1024))  # fmt: skip


@get(PATH + "/new", include_in_schema=False)
async def repair_new(request: Request[Any, Any, Any]) -> Template:
    return await in_thread(_new_page, request)


def _apply(
    request: Request[Any, Any, Any], typed: dict[str, str], token: str, uploads: list[Upload]
) -> Template | Redirect:
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            officer.require(CREDIT_DECIDE)
            if not is_whole(typed["item_id"]):
                raise ServiceError("item_id", "请填写申请修复的失信信息编号")
            item = session.get(CreditItem, int(typed["item_id"]))
            if item is None:
                raise ServiceError("item_id", f"未找到信用信息 {typed['item_id']}")
            try:
                subject_for(session, officer, item.subject_kind, item.subject_key)
            except NotFound:
                raise ServiceError("item_id", "本辖区内未找到该信用信息") from None
            applied_on = parse_day(typed["applied_on"] or china_today().isoformat(), "applied_on")
            earlier = first_submission(session, officer, token, PATH)
            if earlier is not None:
                return back_to(earlier)
            try:
                repair = repairs.apply_credit_repair(
                    session, officer.act("受理信用修复申请"), item_id=item.id,
                    applicant=typed["applicant"], applied_on=applied_on,
                    correction=typed["correction"], attachments=uploads,
                    secret=request.app.state.settings.secret,
                )  # fmt: skip
            except NotFound as exc:
                raise ServiceError(exc.field, exc.message) from None
            target = f"{PATH}/{repair.id}"
            remember(session, token, target)
    except ServiceError as exc:
        return _new_page(request, typed, {exc.field: exc.message}, 400)
    return back_to(target)


@post(PATH + "/new", include_in_schema=False, request_max_body_size=MAX_BODY)
async def repair_apply(
    request: Request[Any, Any, Any],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Template | Redirect:
    """The application with its papers (multipart/form-data): the file fields are named
    after their role (``application_form``, ``commitment_letter``, ``proof``, several
    proofs allowed)."""
    typed = {k: str(data.get(k, "") if isinstance(data.get(k, ""), str) else "").strip()
             for k in TEXT_FIELDS}  # fmt: skip
    token = str(data.get("form_token", ""))[:64]
    uploads: list[Upload] = []
    for role in ROLES_ZH:
        value = data.get(role)
        files = value if isinstance(value, list) else [value]
        for f in files:
            if isinstance(f, UploadFile) and f.filename:
                content = await f.read()
                uploads.append(Upload(role, f.filename, f.content_type, content))
    return await in_thread(_apply, request, typed, token, uploads)


# --- one application and its decision --------------------------------------------------------


def _detail(
    request: Request[Any, Any, Any],
    repair_id: int,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
        repair = repair_for(session, officer, repair_id)
        subject = subject_for(session, officer, repair.subject_kind, repair.subject_key)
        item = session.get(CreditItem, repair.item_id) if repair.item_id else None
        papers = repairs.attachments_of(session, repair.id or 0)
    return page(request, "admin/credit_repair.html", officer, status_code=status_code,
                r=repair, subject=subject, item=item, papers=papers, typed=typed or {},
                hidden=private_item(repair.subject_kind, item),
                errors=errors or {}, form="decide" if errors else "", token=form_token(),
                today=china_today(), state_zh=STATE_ZH, roles_zh=ROLES_ZH, kind_zh=KIND_ZH,
                mark=repairs.repair_mark(repair.decided_on) if repair.decided_on else "",
                may_decide=officer.can(CREDIT_DECIDE) and repair.state == "pending",
                may_open=officer.can(CREDIT_DECIDE) and officer.can(PRIVATE))  # fmt: skip


@get(PATH + "/{repair_id:int}", include_in_schema=False)
async def repair_page(request: Request[Any, Any, Any], repair_id: FromPath[int]) -> Template:
    return await in_thread(_detail, request, repair_id)


def _decide(
    request: Request[Any, Any, Any], repair_id: int, data: dict[str, str]
) -> Template | Redirect:
    typed = {k: str(data.get(k, "")).strip()
             for k in ("outcome", "reasons", "decided_on", "harm_removed")}  # fmt: skip
    target = f"{PATH}/{repair_id}"
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            repair = repair_for(session, officer, repair_id)
            officer.require(CREDIT_DECIDE)
            if typed["outcome"] not in ("approve", "refuse"):
                raise ServiceError("outcome", "请选择准予修复或不予修复")
            decided_on = parse_day(typed["decided_on"] or china_today().isoformat(),
                                   "decided_on")  # fmt: skip
            earlier = first_submission(session, officer, str(data.get("form_token", ""))[:64],
                                       target)  # fmt: skip
            if earlier is not None:
                return back_to(earlier)
            repairs.decide_credit_repair(
                session, officer.act("信用修复决定"), repair.id or 0,
                approved=typed["outcome"] == "approve", reasons=typed["reasons"],
                decided_on=decided_on, harm_removed=typed["harm_removed"] in ("on", "yes"),
            )  # fmt: skip
    except ServiceError as exc:
        if exc.code == "not_found":
            raise
        return _detail(request, repair_id, typed, {exc.field: exc.message}, 400)
    return back_to(target)


@post(PATH + "/{repair_id:int}/decide", include_in_schema=False)
async def repair_decide(
    request: Request[Any, Any, Any], repair_id: FromPath[int], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    return await in_thread(_decide, request, repair_id, data)


def _decision_pdf(request: Request[Any, Any, Any], repair_id: int) -> Response[bytes]:
    with db(request) as session:
        officer = signed_in(request, session)
        repair = repair_for(session, officer, repair_id)
        if repair.state == "pending":
            raise NotFound("repair_id", "该申请尚未作出决定，没有书面决定")
        content = repairs.decision_document(session, repair)
    return pdf_response(content, f"credit-repair-{repair_id}.pdf")


@get(PATH + "/{repair_id:int}/decision.pdf", include_in_schema=False)
async def repair_decision_pdf(
    request: Request[Any, Any, Any], repair_id: FromPath[int]
) -> Response[bytes]:
    return await in_thread(_decision_pdf, request, repair_id)


# --- the papers -------------------------------------------------------------------------------


def _attachment(
    request: Request[Any, Any, Any], repair_id: int, attachment_id: int
) -> Response[bytes] | Template:
    purpose = str(request.query_params.get("purpose", "")).strip()[:500]
    with db(request, write=True) as session:
        officer = signed_in(request, session)
        repair = repair_for(session, officer, repair_id)
        paper = session.get(CreditAttachment, attachment_id)
        if paper is None or paper.repair_id != repair.id:
            raise NotFound("attachment_id", f"未找到附件 {attachment_id}")
        if not (officer.can(CREDIT_DECIDE) and officer.can(PRIVATE)):
            raise Forbidden("附件仅供本辖区信用管理人员说明查询目的后查看")
        if "purpose" not in request.query_params:
            return page(request, "admin/credit_repair_purpose.html", officer, r=repair,
                        paper=paper, error="", purpose="", roles_zh=ROLES_ZH)  # fmt: skip
        try:
            record_query(session, officer.act("查看信用修复附件"),
                         subject=f"{repair.subject_kind}:{repair.subject_key}",
                         what="attachment", purpose=purpose)  # fmt: skip
        except ServiceError as exc:
            return page(request, "admin/credit_repair_purpose.html", officer, status_code=400,
                        r=repair, paper=paper, error=exc.message, purpose=purpose,
                        roles_zh=ROLES_ZH)  # fmt: skip
        content = repairs.open_attachment(session, paper, request.app.state.settings.secret)
    return Response(
        content,
        media_type=paper.content_type,
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="attachment-{paper.id}"; '
            f"filename*=UTF-8''{quote(paper.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


@get(PATH + "/{repair_id:int}/attachments/{attachment_id:int}", include_in_schema=False)
async def repair_attachment(
    request: Request[Any, Any, Any], repair_id: FromPath[int], attachment_id: FromPath[int]
) -> Response[bytes] | Template:
    """One paper, after a stated purpose (``?purpose=``; without one, the form that asks)."""
    return await in_thread(_attachment, request, repair_id, attachment_id)


ROUTES = [repair_list, repair_new, repair_apply, repair_page, repair_decide, repair_decision_pdf,
          repair_attachment]  # fmt: skip
