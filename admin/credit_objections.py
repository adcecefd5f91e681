"""Objections to credit information (Hunan-Credit Art. 24): the queue with due dates (late
ones red), recording one, its page, the answer and the written answer as a PDF.

CREDIT_READ reads within its scope (institution_admin: its own institution and the people
registered there); CREDIT_DECIDE records and answers within its region. Outside scope a
record is 404, a page the role lacks 403 (spec/DESIGN.md, "Admin").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Response, Template
from sqlmodel import Session

from admin.common import (
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
from portal.clock import china_today
from portal.credit_models import CATEGORIES, CreditItem, CreditObjection
from portal.models import FormSubmission
from portal.services import credit_objections as objections
from portal.services.credit_objections import GROUNDS, STATE_ZH, Correction, SubjectRef
from portal.services.errors import NotFound, ServiceError
from portal.services.roles import CREDIT_DECIDE, CREDIT_READ

PATH = "/admin/credit/objections"
KIND_ZH = {
    "practitioner": "医保相关人员",
    "designated_hospital": "定点医疗机构",
    "designated_pharmacy": "定点零售药店",
    "insured_employer": "参保单位",
    "third_party_agency": "第三方服务机构",
    "pharma_company": "医药企业",
    "other_institution": "其他机构",
    "insured_person": "参保人",
    "other_individual": "其他个人",
}
CATEGORY_ZH = dict(zip(CATEGORIES, (
    "登记注册基本信息", "资质资格信息", "行政管理信息", "司法裁判及执行信息", "经营异常名录",
    "信用评价结果", "行政约定及其履行", "信用承诺及其履行", "违反法律法规情况", "诚实守信荣誉",
    "失信主体名单", "其他公共信用信息",
), strict=True))  # fmt: skip
GROUND_SHORT = {"wrong": "信息错误", "missing": "信息遗漏", "infringed": "侵犯合法权益"}


def sees_subject(officer: Officer, ref: SubjectRef) -> bool:
    """Scope of a credit subject: the province, a region and below, or an institution's own
    (itself and the practitioners registered there)."""
    if officer.role.scope == "institution":
        return officer.account.institution_code in ref.institution_codes
    return officer.sees_region(ref.region)


def subject_for(session: Session, officer: Officer, kind: str, key: str) -> SubjectRef:
    """The subject if the officer may see it, else 404 (no hint that it exists)."""
    try:
        ref = objections.subject_ref(session, kind, key)
    except NotFound:
        ref = None
    if ref is None or not sees_subject(officer, ref):
        raise NotFound("subject_key", f"未找到信用主体 {key[:32]}")
    return ref


def objection_for(session: Session, officer: Officer, objection_id: int) -> CreditObjection:
    officer.require(CREDIT_READ)
    found = session.get(CreditObjection, objection_id)
    if found is None:
        raise NotFound("objection_id", f"未找到异议 {objection_id}")
    subject_for(session, officer, found.subject_kind, found.subject_key)
    return found


@dataclass(frozen=True)
class Row:
    objection: CreditObjection
    subject: SubjectRef
    late: bool
    due_today: bool


def _rows(session: Session, officer: Officer, today: date, show: str) -> list[Row]:
    if show == "open":
        found = objections.open_objections(session)
    else:
        found = objections.all_objections(session)
    rows = []
    for o in found:
        try:
            ref = objections.subject_ref(session, o.subject_kind, o.subject_key)
        except NotFound:
            continue
        if sees_subject(officer, ref):
            open_ = o.state == "open"
            rows.append(Row(o, ref, open_ and o.due_on < today, open_ and o.due_on == today))
    return rows


def _queue(request: Request[Any, Any, Any]) -> Template:
    today = china_today()
    show = "all" if request.query_params.get("show") == "all" else "open"
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(CREDIT_READ)
        rows = _rows(session, officer, today, show)
    return page(request, "admin/credit_objections.html", officer, rows=rows, today=today,
                show=show, state_zh=STATE_ZH, ground_zh=GROUND_SHORT, kind_zh=KIND_ZH,
                may_decide=officer.can(CREDIT_DECIDE))  # fmt: skip


@get(PATH, include_in_schema=False)
async def objection_queue(request: Request[Any, Any, Any]) -> Template:
    return await in_thread(_queue, request)


# --- recording one ----------------------------------------------------------------------------

NEW_FIELDS = ("subject_kind", "subject_key", "item_id", "ground", "statement", "applicant",
              "filed_on", "other_unit")  # fmt: skip


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
    return page(request, "admin/credit_objection_new.html", officer, status_code=status_code,
                typed=typed, errors=errors or {}, form="new" if errors else "", token=form_token(),
                today=china_today(), kind_zh=KIND_ZH, grounds=GROUNDS)  # fmt: skip


@get(PATH + "/new", include_in_schema=False)
async def objection_new(request: Request[Any, Any, Any]) -> Template:
    return await in_thread(_new_page, request)


def remember(session: Session, token: str, target: str) -> None:
    """A second submission of the form leads where the first did: the new record's page."""
    row = session.get(FormSubmission, token)
    if row is not None:
        row.outcome = target
        session.add(row)


def _optional_id(text: str, field: str) -> int | None:
    if not text:
        return None
    if not is_whole(text):
        raise ServiceError(field, "编号应为数字")
    return int(text)


def _file(request: Request[Any, Any, Any], data: dict[str, str]) -> Template | Redirect:
    typed = {k: str(data.get(k, "")).strip() for k in NEW_FIELDS}
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            officer.require(CREDIT_DECIDE)
            kind = typed["subject_kind"]
            if kind not in KIND_ZH:
                raise ServiceError("subject_kind", "请选择信用主体类型")
            if not typed["subject_key"]:
                raise ServiceError("subject_key", "请填写信用主体代码")
            try:
                subject_for(session, officer, kind, typed["subject_key"])
            except NotFound:
                raise ServiceError("subject_key", "本辖区内未找到该信用主体") from None
            filed_on = parse_day(typed["filed_on"] or china_today().isoformat(), "filed_on")
            earlier = first_submission(session, officer, str(data.get("form_token", ""))[:64],
                                       PATH)  # fmt: skip
            if earlier is not None:
                return back_to(earlier)
            try:
                objection = objections.file_objection(
                    session, officer.act("受理信用信息异议申请"),
                    item_id=_optional_id(typed["item_id"], "item_id"), subject_kind=kind,
                    subject_key=typed["subject_key"], ground=typed["ground"],
                    statement=typed["statement"], applicant=typed["applicant"],
                    filed_on=filed_on, other_unit=typed["other_unit"] in ("on", "yes", "1"),
                )  # fmt: skip
            except NotFound as exc:
                raise ServiceError(exc.field, exc.message) from None
            target = f"{PATH}/{objection.id}"
            remember(session, str(data.get("form_token", ""))[:64], target)
    except ServiceError as exc:
        return _new_page(request, typed, {exc.field: exc.message}, 400)
    return back_to(target)


@post(PATH + "/new", include_in_schema=False)
async def objection_file(
    request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    return await in_thread(_file, request, data)


# --- one objection and its answer -------------------------------------------------------------

ANSWER_FIELDS = ("upheld", "answer", "answered_on", "withdraw", "title", "occurred_on",
                 "category", "polarity", "public", "detail")  # fmt: skip


def _detail(
    request: Request[Any, Any, Any],
    objection_id: int,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    today = china_today()
    with db(request) as session:
        officer = signed_in(request, session)
        objection = objection_for(session, officer, objection_id)
        subject = subject_for(session, officer, objection.subject_kind, objection.subject_key)
        item = session.get(CreditItem, objection.item_id) if objection.item_id else None
        made = (
            session.get(CreditItem, objection.correction_item_id)
            if objection.correction_item_id
            else None
        )
        may_answer = officer.can(CREDIT_DECIDE) and objection.state == "open"
    return page(request, "admin/credit_objection.html", officer, status_code=status_code,
                o=objection, subject=subject, item=item, made=made, today=today,
                hidden=private_item(objection.subject_kind, item),
                made_hidden=private_item(objection.subject_kind, made),
                late=objection.state == "open" and objection.due_on < today,
                may_answer=may_answer, typed=typed or {}, errors=errors or {},
                form="answer" if errors else "", token=form_token(), state_zh=STATE_ZH,
                grounds=GROUNDS, kind_zh=KIND_ZH, category_zh=CATEGORY_ZH,
                mark=objections.UNDER_OBJECTION)  # fmt: skip


@get(PATH + "/{objection_id:int}", include_in_schema=False)
async def objection_page(request: Request[Any, Any, Any], objection_id: FromPath[int]) -> Template:
    return await in_thread(_detail, request, objection_id)


def _correction(typed: dict[str, str]) -> Correction | None:
    withdraw = typed["withdraw"] in ("on", "yes", "1")
    occurred = parse_day(typed["occurred_on"], "occurred_on") if typed["occurred_on"] else None
    public = {"yes": True, "no": False}.get(typed["public"])
    correction = Correction(
        title=typed["title"] or None, detail=typed["detail"] or None, occurred_on=occurred,
        category=typed["category"] or None, polarity=typed["polarity"] or None, public=public,
        withdraw=withdraw,
    )  # fmt: skip
    return correction if (withdraw or correction.fields()) else None


def _answer(
    request: Request[Any, Any, Any], objection_id: int, data: dict[str, str]
) -> Template | Redirect:
    typed = {k: str(data.get(k, "")).strip() for k in ANSWER_FIELDS}
    target = f"{PATH}/{objection_id}"
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            objection = objection_for(session, officer, objection_id)
            officer.require(CREDIT_DECIDE)
            if typed["upheld"] not in ("yes", "no"):
                raise ServiceError("upheld", "请选择异议成立或不成立")
            answered_on = parse_day(typed["answered_on"] or china_today().isoformat(),
                                    "answered_on")  # fmt: skip
            correction = _correction(typed)
            earlier = first_submission(session, officer, str(data.get("form_token", ""))[:64],
                                       target)  # fmt: skip
            if earlier is not None:
                return back_to(earlier)
            objections.answer_objection(
                session, officer.act("信用信息异议处理"), objection.id or 0,
                upheld=typed["upheld"] == "yes", answer=typed["answer"],
                answered_on=answered_on, correction=correction,
            )  # fmt: skip
    except ServiceError as exc:
        if exc.code == "not_found":
            raise
        return _detail(request, objection_id, typed, {exc.field: exc.message}, 400)
    return back_to(target)


@post(PATH + "/{objection_id:int}/answer", include_in_schema=False)
async def objection_answer(
    request: Request[Any, Any, Any],
    objection_id: FromPath[int],
    data: URLEncodedBody[dict[str, str]],
) -> Template | Redirect:
    return await in_thread(_answer, request, objection_id, data)


def pdf_response(content: bytes, name: str) -> Response[bytes]:
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'inline; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def _answer_pdf(request: Request[Any, Any, Any], objection_id: int) -> Response[bytes]:
    with db(request) as session:
        officer = signed_in(request, session)
        objection = objection_for(session, officer, objection_id)
        if objection.state == "open":
            raise NotFound("objection_id", "该异议尚未答复，没有书面答复")
        content = objections.answer_document(session, objection)
    return pdf_response(content, f"objection-{objection_id}.pdf")


@get(PATH + "/{objection_id:int}/answer.pdf", include_in_schema=False)
async def objection_answer_pdf(
    request: Request[Any, Any, Any], objection_id: FromPath[int]
) -> Response[bytes]:
    return await in_thread(_answer_pdf, request, objection_id)


ROUTES = [objection_queue, objection_new, objection_file, objection_page, objection_answer,
          objection_answer_pdf]  # fmt: skip
