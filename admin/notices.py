"""Notices: issuing the processing notice, its print page and PDF, recording delivery, and
the other forms of a case (spec/DESIGN.md "Admin"; portal/services/printing.py).

- ``GET /admin/cases/{id}/notices/new?code=`` — the issue form for one person of a case:
  document number, date of issue and the stated start, prefilled as RULES I-6 says (Anhui,
  Hainan: the date of issue; Hunan: the first day of the next month, never earlier), with
  a preview that runs issue_notice itself in a transaction always rolled back;
  ``POST /admin/cases/{id}/notices`` issues it (或 ``action=preview`` shows the preview).
- ``GET /admin/notices/{id}`` — the notice as National-Procedure Annex 3 lays it out,
  print-ready, with the delivery form and the other forms;
  ``GET /admin/notices/{id}/notice.pdf`` — the same as an A4 PDF.
- ``POST /admin/notices/{id}/delivery`` — 送达 (National-Procedure Art. 33; the appeal
  deadline runs from receipt, Art. 41).
- ``GET /admin/notices/{id}/copy-to.pdf`` — 记分情况抄告书 (National-Procedure Annex 7).
- ``GET /admin/cases/{id}/responsibility.pdf?code=`` — 责任认定通知书 (Hunan-Rules Annex 1,
  10 working days for objections, RULES I-11).
- ``GET /admin/forms/self-pay.pdf?code=`` — 医保支付资格处理情况告知书 (Hunan-Rules Annex 3):
  for an institution to give a patient who asks for a suspended or terminated practitioner.

The ID number is non-public: a page or PDF fetched with GET leaves its cell blank, to be
written by hand; an officer with the right to see private data may print the PDF with the
masked number by stating a purpose (a POST), which writes the query log first (RULES §9).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session, col, select

from admin.cases import case_for
from admin.common import (
    Forbidden,
    Officer,
    back_to,
    db,
    first_submission,
    form_token,
    in_thread,
    page,
    parse_day,
    practitioner_for,
    sees_institution,
    signed_in,
)
from portal.clock import china_today
from portal.models import Decision, Institution, LedgerEntry, Notice, Practitioner, Registration
from portal.services import ledger, printing
from portal.services.errors import NotFound, ServiceError
from portal.services.notices import (
    NoticePreview,
    default_start,
    issue_notice,
    preview_notice,
    record_delivery,
    scores_in,
)
from portal.services.querylog import record_query
from portal.services.registry import STATUS_ZH, private_data
from portal.services.roles import PRIVATE, RECORD_CASE, RECORD_PENALTY, VIEW
from public_site.pages import REGIONS
from scoring.dates import first_of_next_month, months_period_end, years_later
from scoring.deadlines import due_date
from scoring.rulesets import practitioner_ruleset

GENDER_ZH = {"male": "男", "female": "女"}
PRACTICE_ZH = {"doctor": "医师", "nurse": "护士", "pharmacist": "药师", "technician": "技师"}
RESPONSIBILITY_ZH = {"general": "一般责任", "important": "重要责任", "main": "主要责任"}
CITIES = dict(REGIONS)  # Hunan's cities: "4301" → 长沙市 (the bureau of 长沙市医疗保障局)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _require_issue(officer: Officer) -> None:
    """Issuing and delivery: the agency (RECORD_CASE) or the administrative department."""
    if not (officer.can(RECORD_CASE) or officer.can(RECORD_PENALTY)):
        raise Forbidden("您的角色不能出具通知书或登记送达")


def _text(value: object, limit: int = 64) -> str:
    return _CONTROL.sub("", str(value or "")).strip()[:limit]


def _date(text: str, field_name: str, required: bool = True) -> date | None:
    if not text:
        if required:
            raise ServiceError(field_name, "请填写日期")
        return None
    return parse_day(text, field_name)


# --- fetch and authorise ----------------------------------------------------------------------


def party_for(session: Session, officer: Officer, decision_id: int, code: str) -> tuple[
    Decision, Practitioner, list[LedgerEntry]
]:  # fmt: skip
    """A case the officer may see and one of its responsible persons, else 404."""
    decision = case_for(session, officer, decision_id)
    person = practitioner_for(session, officer, code or "-")
    entries = scores_in(session, person, decision)
    if not entries:
        raise NotFound("code", f"{person.national_code} 不是本案件的相关责任人员")
    return decision, person, entries


def notice_for(session: Session, officer: Officer, notice_id: int) -> tuple[Notice, Practitioner]:
    """The notice the officer may see: visible when its person is, else 404."""
    notice = session.get(Notice, notice_id)
    person = session.get(Practitioner, notice.practitioner_id) if notice else None
    if notice is None or person is None:
        raise NotFound("notice_id", f"未找到通知书 {notice_id}")
    try:
        practitioner_for(session, officer, person.national_code)
    except NotFound:
        raise NotFound("notice_id", f"未找到通知书 {notice_id}") from None
    return notice, person


# --- what the forms say -----------------------------------------------------------------------


def _violation(decision: Decision, entries: list[LedgerEntry]) -> str:
    """The violations recorded for the person in this case (the violation mark or the
    situation's title), "" when the case names none."""
    ruleset = practitioner_ruleset(decision.ruleset)
    found: list[str] = []
    for entry in entries:
        data = ledger.entry_payload(entry)
        situation = ruleset.situations.get(str(data.get("situation") or ""))
        text = str(data.get("violation") or (situation.title if situation else "")).strip()
        if text and text not in found:
            found.append(text)
    return "；".join(found)


def _stated(entries: list[LedgerEntry]) -> date | None:
    """The start the case's entries already state, if any."""
    for entry in entries:
        found = ledger.entry_payload(entry).get("effective")
        if found:
            try:
                return date.fromisoformat(str(found))
            except ValueError:
                return None
    return None


def _responsibility(entries: list[LedgerEntry]) -> str | None:
    for entry in entries:
        found = ledger.entry_payload(entry).get("responsibility")
        if found:
            return str(found)
    return None


def _place(institution: Institution | None) -> str:
    """The city whose bureau acted (Hunan's cities), "" when unknown (left blank)."""
    return CITIES.get(institution.region[:4], "") if institution else ""


def _home(session: Session, person: Practitioner, fallback: Institution | None) -> str:
    """所属单位: where the person is registered (the case's institution first)."""
    names = session.exec(
        select(Institution.name)
        .join(Registration, col(Registration.institution_id) == col(Institution.id))
        .where(Registration.practitioner_id == person.id)
        .where(col(Registration.deregistered_on).is_(None))
        .order_by(col(Registration.id))
    ).all()
    if fallback is not None and fallback.name in names:
        names = [fallback.name, *[n for n in names if n != fallback.name]]
    return "、".join(names) or (fallback.name if fallback else "")


def _person(
    session: Session, person: Practitioner, institution: Institution | None, id_masked: str
) -> printing.Person:
    return printing.Person(
        name=person.name,
        gender=GENDER_ZH.get(person.gender, ""),
        id_masked=id_masked,
        national_code=person.national_code,
        institution=_home(session, person, institution),
    )


def _masked_id(
    request: Request[Any, Any, Any], session: Session, officer: Officer, person: Practitioner,
    purpose: str,
) -> str:  # fmt: skip
    """The masked ID number, after the purpose is written to the query log; "" without one."""
    if not purpose:
        return ""
    officer.require(PRIVATE)
    record_query(session, officer.act("打印文书"), subject=person.national_code,
                 what="private_data", purpose=purpose)  # fmt: skip
    opened = private_data(person, request.app.state.settings.secret)
    return "" if opened.id_reentry else opened.id_masked


@dataclass(frozen=True)
class NoticeView:
    """Everything the notice page and its PDF show."""

    notice: Notice
    person: Practitioner
    decision: Decision
    institution: Institution
    form: printing.ProcessingNotice
    hunan: bool


def _notice_view(session: Session, notice: Notice, person: Practitioner, id_masked: str) -> (
    NoticeView
):  # fmt: skip
    decision = session.get(Decision, notice.decision_id)
    assert decision is not None
    institution = session.get(Institution, decision.institution_id)
    assert institution is not None
    entries = [
        e for e in ledger.person_entries(session, person.id or 0)
        if e.decision_id == decision.id and e.kind == "score"
    ]  # fmt: skip
    violation = _violation(decision, ledger.live_entries(entries)) or (
        f"见{ledger.DECISION_TYPES[decision.decision_type]}决定{decision.document_no}"
        f"（依据：{decision.legal_basis}）"
    )
    measure, months, years, last_day = "none", None, None, None
    start = notice.period_start
    if notice.status == "suspended" and start and notice.period_end:
        measure, last_day = "suspension", notice.period_end
        months = next((n for n in range(1, 61) if months_period_end(start, n) == last_day), None)
    elif notice.status == "terminated" and start and notice.reregister_from:
        measure, last_day = "termination", notice.reregister_from - timedelta(days=1)
        years = next(
            (n for n in range(1, 11) if years_later(start, n) == notice.reregister_from), None
        )
    elif notice.status == "normal" and notice.points > 0:
        measure = "talk"
    form = printing.ProcessingNotice(
        document_no=notice.document_no,
        institution=institution.name,
        person=_person(session, person, institution, id_masked),
        violation=violation,
        points=notice.points,
        year_points=notice.year_points,
        measure=measure,  # type: ignore[arg-type]
        months=months,
        years=years,
        start=start,
        last_day=last_day,
        issued_on=notice.issued_on,
    )
    return NoticeView(notice, person, decision, institution, form,
                      decision.ruleset.startswith("hunan"))  # fmt: skip


def _pdf(content: bytes, name: str, download: bool = False) -> Response[bytes]:
    disposition = "attachment" if download else "inline"
    return Response(
        content,
        status_code=200,  # also when a POST (with a stated purpose) asked for it
        media_type="application/pdf",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'{disposition}; filename="{name}"',
        },
    )


# --- the issue form ---------------------------------------------------------------------------


@dataclass
class IssueForm:
    """What was typed, kept as typed."""

    code: str = ""
    document_no: str = ""
    issued_on: str = ""
    period_start: str = ""
    token: str = ""

    @classmethod
    def read(cls, data: dict[str, str]) -> IssueForm:
        return cls(
            code=_text(data.get("code"), 32).upper(),
            document_no=_text(data.get("document_no")),
            issued_on=_text(data.get("issued_on"), 10),
            period_start=_text(data.get("period_start"), 10),
            token=_text(data.get("form_token")),
        )


def _issue_context(
    session: Session, decision: Decision, person: Practitioner, form: IssueForm
) -> dict[str, Any]:
    institution = session.get(Institution, decision.institution_id)
    ruleset = practitioner_ruleset(decision.ruleset)
    due = due_date(ruleset, "notice_issue", decision.decision_date)
    return {
        "decision": decision,
        "institution": institution,
        "person": person,
        "form": form,
        "type_zh": ledger.DECISION_TYPES,
        "hunan": ruleset.start == "next_month",
        "floor": first_of_next_month(decision.decision_date),
        "issue_due": due,
        "status_zh": STATUS_ZH,
    }


def _preview(request: Request[Any, Any, Any], officer: Officer, decision: Decision,
             form: IssueForm) -> tuple[NoticePreview | None, dict[str, str]]:  # fmt: skip
    try:
        issued_on = _date(form.issued_on, "issued_on")
        assert issued_on is not None
        found = preview_notice(
            request.app.state.engine,
            actor=officer.username,
            decision_no=decision.document_no,
            national_code=form.code,
            issued_on=issued_on,
            period_start=_date(form.period_start, "period_start", required=False),
            document_no=form.document_no or None,
        )
    except ServiceError as exc:
        return None, {exc.field: exc.message}
    return found, {}


def _issue_page(request: Request[Any, Any, Any], decision_id: int, code: str) -> (
    Template | Redirect
):  # fmt: skip
    today = china_today()
    with db(request) as session:
        officer = signed_in(request, session)
        _require_issue(officer)
        decision, person, entries = party_for(session, officer, decision_id, code)
        issued = session.exec(
            select(Notice.id).where(Notice.decision_id == decision.id)
            .where(Notice.practitioner_id == person.id)
        ).first()  # fmt: skip
        if issued is not None:
            return back_to(f"/admin/notices/{issued}")
        issued_on = max(today, decision.decision_date)
        form = IssueForm(
            code=person.national_code,
            issued_on=issued_on.isoformat(),
            period_start=default_start(
                decision.ruleset, decision.decision_date, issued_on, _stated(entries)
            ).isoformat(),
            token=form_token(),
        )
        context = _issue_context(session, decision, person, form)
    preview, errors = _preview(request, officer, decision, form)
    return page(request, "admin/notice_new.html", officer, preview=preview, errors=errors,
                **context)  # fmt: skip


@get("/admin/cases/{decision_id:int}/notices/new", include_in_schema=False)
async def notice_new(
    request: Request[Any, Any, Any], decision_id: FromPath[int], code: FromQuery[str] = ""
) -> Template | Redirect:
    return await in_thread(_issue_page, request, decision_id, code[:32])


def _issue(request: Request[Any, Any, Any], decision_id: int, data: dict[str, str]) -> (
    Template | Redirect
):  # fmt: skip
    form = IssueForm.read(data)
    if data.get("action") == "preview":
        return _issue_again(request, decision_id, form, {}, status_code=200, preview_it=True)
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            _require_issue(officer)
            decision, person, _ = party_for(session, officer, decision_id, form.code)
            issued_on = _date(form.issued_on, "issued_on")
            period_start = _date(form.period_start, "period_start", required=False)
            if period_start is None:  # RULES I-6: never a notice without a stated start
                raise ServiceError("period_start", "请填写通知书载明的起始日期")
            assert issued_on is not None
            again = f"/admin/cases/{decision.id}/notices/new?code={quote(person.national_code)}"
            earlier = first_submission(session, officer, form.token, again)
            if earlier is not None:
                return back_to(earlier)
            issued = issue_notice(
                session,
                officer.act("出具处理通知书"),
                decision_no=decision.document_no,
                national_code=person.national_code,
                issued_on=issued_on,
                period_start=period_start,
                document_no=form.document_no or None,
            )
            target = f"/admin/notices/{issued.notice.id}"
        return back_to(target)
    except ServiceError as exc:
        if exc.code == "not_found":
            raise
        return _issue_again(request, decision_id, form, {exc.field: exc.message})


def _issue_again(
    request: Request[Any, Any, Any], decision_id: int, form: IssueForm,
    errors: dict[str, str], status_code: int = 400, preview_it: bool = False,
) -> Template:  # fmt: skip
    """The form again, as typed, with the error beside its field (or the preview asked)."""
    with db(request) as session:
        officer = signed_in(request, session)
        _require_issue(officer)
        decision, person, _ = party_for(session, officer, decision_id, form.code)
        context = _issue_context(session, decision, person, form)
    preview = None
    if preview_it:
        preview, errors = _preview(request, officer, decision, form)
        if errors:
            status_code = 400
    return page(request, "admin/notice_new.html", officer, status_code=status_code,
                preview=preview, errors=errors, **context)  # fmt: skip


@post("/admin/cases/{decision_id:int}/notices", include_in_schema=False)
async def notice_issue(
    request: Request[Any, Any, Any],
    decision_id: FromPath[int],
    data: URLEncodedBody[dict[str, str]],
) -> Template | Redirect:
    return await in_thread(_issue, request, decision_id, data)


# --- the notice -------------------------------------------------------------------------------


def _notice_page(
    request: Request[Any, Any, Any], notice_id: int, errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None, status_code: int = 200,
) -> Template:  # fmt: skip
    today = china_today()
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(VIEW)
        notice, person = notice_for(session, officer, notice_id)
        view = _notice_view(session, notice, person, "")
        ruleset = practitioner_ruleset(person.ruleset)
        penalty = view.decision.decision_type == "administrative_penalty"
        restricted = ledger.status_on(session, person.national_code, today).status in (
            "suspended", "terminated",
        )  # fmt: skip
        context = {
            "view": view,
            "n": view.form,
            "today": today,
            "errors": errors or {},
            "typed": typed
            or {
                "delivered_on": today.isoformat(),
                "delivered_to": view.institution.name,
                "form_token": form_token(),
            },
            "can_issue": officer.can(RECORD_CASE) or officer.can(RECORD_PENALTY),
            "can_private": officer.can(PRIVATE),
            "issue_due": due_date(ruleset, "notice_issue", view.decision.decision_date),
            "delivery_due": due_date(ruleset, "notice_delivery", notice.issued_on),
            "responsibility": view.hunan and penalty,
            "self_pay": view.hunan and restricted,
            "sender": f"{_place(view.institution)}医疗保障局" if _place(view.institution) else "",
            "date_zh": printing.chinese_date,
            "blank": printing.BLANK,
            "sees_case": sees_institution(officer, view.institution),
        }
    return page(request, "admin/notice.html", officer, status_code=status_code, **context)


@get("/admin/notices/{notice_id:int}", include_in_schema=False)
async def notice_view(request: Request[Any, Any, Any], notice_id: FromPath[int]) -> Template:
    """The notice, print-ready (National-Procedure Annex 3), and what can be done with it."""
    return await in_thread(_notice_page, request, notice_id)


def _notice_pdf(request: Request[Any, Any, Any], notice_id: int, purpose: str) -> Response[bytes]:
    with db(request, write=bool(purpose)) as session:
        officer = signed_in(request, session)
        officer.require(VIEW)
        notice, person = notice_for(session, officer, notice_id)
        masked = _masked_id(request, session, officer, person, purpose)
        view = _notice_view(session, notice, person, masked)
    return _pdf(printing.processing_notice_pdf(view.form), f"notice-{notice_id}.pdf",
                download=bool(purpose))  # fmt: skip


@get("/admin/notices/{notice_id:int}/notice.pdf", include_in_schema=False)
async def notice_pdf(request: Request[Any, Any, Any], notice_id: FromPath[int]) -> Response[bytes]:
    return await in_thread(_notice_pdf, request, notice_id, "")


def _purpose(data: dict[str, str]) -> str:
    purpose = _text(data.get("purpose"), 500)
    if len(purpose) < 4:
        raise ServiceError("purpose", "请说明打印身份证号码的目的（至少 4 个字），将记入查询日志")
    return purpose


def _notice_pdf_private(
    request: Request[Any, Any, Any], notice_id: int, data: dict[str, str]
) -> Response[bytes] | Template:
    try:
        purpose = _purpose(data)
    except ServiceError as exc:
        return _notice_page(request, notice_id, {exc.field: exc.message}, status_code=400)
    return _notice_pdf(request, notice_id, purpose)


@post("/admin/notices/{notice_id:int}/notice.pdf", include_in_schema=False)
async def notice_pdf_private(
    request: Request[Any, Any, Any], notice_id: FromPath[int], data: URLEncodedBody[dict[str, str]]
) -> Response[bytes] | Template:
    """The PDF with the masked ID number: the purpose is logged first (RULES §9)."""
    return await in_thread(_notice_pdf_private, request, notice_id, data)


def _deliver(request: Request[Any, Any, Any], notice_id: int, data: dict[str, str]) -> (
    Template | Redirect
):  # fmt: skip
    typed = {
        "delivered_on": _text(data.get("delivered_on"), 10),
        "delivered_to": _text(data.get("delivered_to"), 200),
        "form_token": _text(data.get("form_token")),
    }
    target = f"/admin/notices/{notice_id}"
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            _require_issue(officer)
            notice, _ = notice_for(session, officer, notice_id)
            delivered_on = _date(typed["delivered_on"], "delivered_on")
            assert delivered_on is not None
            earlier = first_submission(session, officer, typed["form_token"], target)
            if earlier is not None:
                return back_to(earlier)
            record_delivery(session, officer.act("登记送达"), notice.document_no, delivered_on,
                            typed["delivered_to"])  # fmt: skip
        return back_to(target)
    except ServiceError as exc:
        if exc.code == "not_found":
            raise
        return _notice_page(request, notice_id, {exc.field: exc.message}, typed, 400)


@post("/admin/notices/{notice_id:int}/delivery", include_in_schema=False)
async def notice_delivery(
    request: Request[Any, Any, Any], notice_id: FromPath[int], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    """送达 (National-Procedure Art. 33): delivered on, to whom."""
    return await in_thread(_deliver, request, notice_id, data)


# --- the other forms --------------------------------------------------------------------------


def _copy_to_pdf(
    request: Request[Any, Any, Any], notice_id: int, to: str, by: str, on: str
) -> Response[bytes]:
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(VIEW)
        notice, person = notice_for(session, officer, notice_id)
        view = _notice_view(session, notice, person, "")
        decision = view.decision
        entries = ledger.live_entries(scores_in(session, person, decision))
        violation = _violation(decision, entries)
        who = f"{view.institution.name}{PRACTICE_ZH.get(person.practice_type, '')}{person.name}"
        finding = f"{who}（医保相关人员代码：{person.national_code}）" + (
            f"存在{violation}等问题" if violation else
            f"在{ledger.DECISION_TYPES[decision.decision_type]}决定{decision.document_no}中"
            "被认定负有责任"
        )  # fmt: skip
        place = _place(view.institution)
        form = printing.CopyToNotice(
            recipient=_text(to),
            finding=finding,
            points=notice.points,
            year_points=notice.year_points,
            materials=(
                f"处理通知书（{notice.document_no}）",
                f"{ledger.DECISION_TYPES[decision.decision_type]}决定书（{decision.document_no}）",
            ),
            sender=_text(by) or (f"{place}医疗保障局" if place else ""),
            issued_on=_date(_text(on, 10), "on", required=False) or china_today(),
        )
    return _pdf(printing.copy_to_notice_pdf(form), f"copy-to-{notice_id}.pdf")


@get("/admin/notices/{notice_id:int}/copy-to.pdf", include_in_schema=False)
async def copy_to_pdf(
    request: Request[Any, Any, Any], notice_id: FromPath[int], to: FromQuery[str] = "",
    by: FromQuery[str] = "", on: FromQuery[str] = "",
) -> Response[bytes]:  # fmt: skip
    """记分情况抄告书 (National-Procedure Art. 40, Annex 7), to ``to`` from ``by``."""
    return await in_thread(_copy_to_pdf, request, notice_id, to, by, on)


def _responsibility_pdf(
    request: Request[Any, Any, Any], decision_id: int, code: str, no: str, on: str, purpose: str
) -> Response[bytes]:
    with db(request, write=bool(purpose)) as session:
        officer = signed_in(request, session)
        officer.require(VIEW)
        decision, person, entries = party_for(session, officer, decision_id, code)
        if not decision.ruleset.startswith("hunan"):
            raise ServiceError("decision_id", "责任认定通知书为湖南细则附件1，仅用于湖南省的案件")
        if decision.decision_type != "administrative_penalty":
            raise ServiceError(
                "decision_id",
                "责任认定通知书（湖南细则附件1）用于行政处罚案件；协议处理的记分见处理通知书",
            )
        institution = session.get(Institution, decision.institution_id)
        masked = _masked_id(request, session, officer, person, purpose)
        days = practitioner_ruleset(decision.ruleset).deadlines["responsibility_objection"]
        form = printing.ResponsibilityNotice(
            document_no=_text(no),
            person=_person(session, person, institution, masked),
            violation=_violation(decision, ledger.live_entries(entries)),
            bureau_place=_place(institution),
            legal_basis=decision.legal_basis,
            penalty=True,
            decision_no=decision.document_no,
            responsibility=_responsibility(ledger.live_entries(entries)),
            issued_on=_date(_text(on, 10), "on", required=False),
            objection_days=days.working_days,
        )
    return _pdf(printing.responsibility_notice_pdf(form),
                f"responsibility-{decision_id}-{person.national_code}.pdf",
                download=bool(purpose))  # fmt: skip


@get("/admin/cases/{decision_id:int}/responsibility.pdf", include_in_schema=False)
async def responsibility_pdf(
    request: Request[Any, Any, Any], decision_id: FromPath[int], code: FromQuery[str] = "",
    no: FromQuery[str] = "", on: FromQuery[str] = "",
) -> Response[bytes]:  # fmt: skip
    """责任认定通知书 (Hunan-Rules Annex 1): objections within 10 working days (RULES I-11)."""
    return await in_thread(_responsibility_pdf, request, decision_id, code[:32], no, on, "")


def _responsibility_pdf_private(
    request: Request[Any, Any, Any], decision_id: int, data: dict[str, str]
) -> Response[bytes]:
    return _responsibility_pdf(
        request, decision_id, _text(data.get("code"), 32), str(data.get("no", "")),
        str(data.get("on", "")), _purpose(data),
    )  # fmt: skip


@post("/admin/cases/{decision_id:int}/responsibility.pdf", include_in_schema=False)
async def responsibility_pdf_private(
    request: Request[Any, Any, Any], decision_id: FromPath[int],
    data: URLEncodedBody[dict[str, str]],
) -> Response[bytes]:  # fmt: skip
    """The same with the masked ID number, the purpose logged first (RULES §9)."""
    return await in_thread(_responsibility_pdf_private, request, decision_id, data)


def _self_pay_pdf(request: Request[Any, Any, Any], code: str) -> Response[bytes]:
    today = china_today()
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(VIEW)
        person = practitioner_for(session, officer, code or "-")
        if not person.ruleset.startswith("hunan"):
            raise ServiceError("code", "处理情况告知书为湖南细则附件3，仅用于湖南省的相关人员")
        timeline = ledger.timeline_of(session, person)
        status = timeline.status_on(today)
        if status.status not in ("suspended", "terminated"):
            raise ServiceError(
                "code", f"{person.name}今日医保支付资格为{STATUS_ZH.get(status.status, '')}，"
                "无需向患者出具自费告知书",
            )  # fmt: skip
        kind = "suspension" if status.status == "suspended" else "termination"
        period = next(
            (p for p in reversed(timeline.periods) if p.kind == kind and p.in_force(today)), None
        )
        ids = [int(s) for s in (period.sources if period else ()) if s.isdigit()]
        decisions = list(session.exec(select(Decision).where(col(Decision.id).in_(ids)))) if ids \
            else []  # fmt: skip
        violations, place = [], ""
        for decision in decisions:
            text = _violation(decision, ledger.live_entries(scores_in(session, person, decision)))
            if text and text not in violations:
                violations.append(text)
            place = place or _place(session.get(Institution, decision.institution_id))
        form = printing.SelfPayNotice(
            practitioner=f"{PRACTICE_ZH.get(person.practice_type, '')}{person.name}",
            violation="；".join(violations),
            bureau_place=place,
            restriction="suspended" if kind == "suspension" else "terminated",
        )
    return _pdf(printing.self_pay_notice_pdf(form), f"self-pay-{person.national_code}.pdf")


@get("/admin/forms/self-pay.pdf", include_in_schema=False)
async def self_pay_pdf(request: Request[Any, Any, Any], code: FromQuery[str] = "") -> (
    Response[bytes]
):  # fmt: skip
    """医保支付资格处理情况告知书 (Hunan-Rules Art. 11, Annex 3), for a restricted person."""
    return await in_thread(_self_pay_pdf, request, code[:32])


ROUTES = [
    notice_new, notice_issue, notice_view, notice_pdf, notice_pdf_private, notice_delivery,
    copy_to_pdf, responsibility_pdf, responsibility_pdf_private, self_pay_pdf,
]  # fmt: skip
