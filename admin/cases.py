"""Recording a case: the decision, the responsible persons, a live preview, corrections.

As the officer types, htmx posts the form to the preview, which runs the very service that
saves (portal.services.ledger.record_case) in a transaction that is always rolled back:
what the preview shows is what saving does. Hunan-Rules Annex 2's guidance on who bears
responsibility stands beside the form (admin/templates/admin/_guidance.html).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
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
    is_whole,
    page,
    parse_day,
    practitioner_for,
    sees_institution,
    signed_in,
)
from portal.clock import china_today
from portal.models import Decision, Institution, LedgerEntry, Notice, Practitioner
from portal.services import ledger
from portal.services.errors import NotFound, ServiceError
from portal.services.ledger import DECISION_TYPES, Finding, preview_case
from portal.services.roles import RECORD_CASE, RECORD_PENALTY, VIEW
from scoring.rulesets import ADJUSTMENTS, RESPONSIBILITIES, practitioner_ruleset

ROWS = 3  # persons on a new form; more with ?rows=N (up to MAX_ROWS), no JavaScript needed
MAX_ROWS = 30
ROW_KEYS = ("code", "responsibility", "situation", "tier", "points", "adjustment", "violation",
            "effective")  # fmt: skip
RESPONSIBILITY_ZH = {"general": "一般责任", "important": "重要责任", "main": "主要责任"}
ADJUSTMENT_ZH = {
    "none": "不调整",
    "lighter": "从轻（同档内低一分）",
    "lighter_tier": "减轻一档",
    "heavier": "从重（同档内高一分）",
    "heavier_tier": "加重一档",
}


@dataclass
class CaseForm:
    """What was typed, kept as typed, so that an error loses nothing."""

    institution_code: str = ""
    decision_type: str = "agreement_action"
    legal_basis: str = ""
    document_no: str = ""
    decision_date: str = ""
    amount: str = ""
    rows: list[dict[str, str]] = field(default_factory=list)
    token: str = ""

    @classmethod
    def read(cls, data: dict[str, str]) -> CaseForm:
        count = str(data.get("rows", ""))
        rows = min(MAX_ROWS, int(count)) if is_whole(count) and int(count) > 0 else ROWS

        def text(key: str, limit: int = 200) -> str:
            return str(data.get(key, "")).strip()[:limit]

        return cls(
            institution_code=text("institution_code"),
            decision_type=text("decision_type"),
            legal_basis=text("legal_basis"),
            document_no=text("document_no"),
            decision_date=text("decision_date"),
            amount=text("amount"),
            token=text("form_token", 64),
            rows=[{key: text(f"p{n}_{key}", 64) for key in ROW_KEYS} for n in range(rows)],
        )

    def findings(self) -> list[Finding]:
        out = []
        for n, row in enumerate(self.rows):
            if not row["code"]:
                continue
            out.append(
                Finding(
                    national_code=row["code"],
                    responsibility=row["responsibility"] or None,
                    tier=_int(row["tier"], f"p{n}_tier"),
                    situation=row["situation"] or None,
                    points=_int(row["points"], f"p{n}_points"),
                    adjustment=row["adjustment"] or "none",
                    violation=row["violation"] or None,
                    effective=_date(row["effective"], f"p{n}_effective"),
                )
            )
        return out

    def decided_on(self) -> date:
        found = _date(self.decision_date, "decision_date")
        if found is None:
            raise ServiceError("decision_date", "请填写处理决定日期")
        return found

    def amount_value(self) -> float | None:
        if not self.amount:
            return None
        try:
            return float(self.amount)
        except ValueError:
            raise ServiceError("amount", "责任金额应为数字（元）") from None


def _int(text: str, field_name: str) -> int | None:
    if not text:
        return None
    if not is_whole(text):
        raise ServiceError(field_name, "应填写整数")
    return int(text)


def _date(text: str, field_name: str) -> date | None:
    if not text:
        return None
    return parse_day(text, field_name)


def _form_field(service_field: str) -> str:
    """``findings[1].points`` (the service's name) → ``p1_points`` (the form's)."""
    if service_field.startswith("findings["):
        n, _, rest = service_field.removeprefix("findings[").partition("]")
        rest = rest.lstrip(".") or "code"
        return f"p{n}_{'code' if rest == 'national_code' else rest}"
    return service_field


def _institutions(session: Session, officer: Officer) -> list[Institution]:
    return [i for i in session.exec(select(Institution).order_by(col(Institution.code)))
            if sees_institution(officer, i)]  # fmt: skip


def _require_type(officer: Officer, decision_type: str) -> None:
    """Agreement actions are the agency's, penalties the administrative department's."""
    right = RECORD_PENALTY if decision_type == "administrative_penalty" else RECORD_CASE
    if not officer.can(right):
        raise Forbidden("您的角色不能录入该类处理决定")


def _context(session: Session, officer: Officer, form: CaseForm) -> dict[str, Any]:
    places = _institutions(session, officer)
    rulesets = {i.ruleset for i in places} or {"hunan-2025"}
    situations = [
        (s.id, f"{s.id} {s.title}")
        for rid in sorted(rulesets)
        for s in practitioner_ruleset(rid).situations.values()
    ]
    return {
        "form": form,
        "institutions": places,
        "situations": situations,
        "decision_types": DECISION_TYPES,
        "responsibilities": [(r, RESPONSIBILITY_ZH[r]) for r in RESPONSIBILITIES],
        "adjustments": [(a, ADJUSTMENT_ZH.get(a, a)) for a in ADJUSTMENTS],
    }


def _new_page(request: Request[Any, Any, Any], code: str, rows: int) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
        if not (officer.can(RECORD_CASE) or officer.can(RECORD_PENALTY)):
            raise Forbidden()
        form = CaseForm(
            decision_type="agreement_action"
            if officer.can(RECORD_CASE)
            else "administrative_penalty",
            decision_date=china_today().isoformat(),
            token=form_token(),
            rows=[dict.fromkeys(ROW_KEYS, "") for _ in range(rows)],
        )
        if code:
            person = practitioner_for(session, officer, code)
            form.rows[0]["code"] = person.national_code
        context = _context(session, officer, form)
    return page(request, "admin/case_new.html", officer, errors={}, preview=None, **context)


@get("/admin/cases/new", include_in_schema=False)
async def case_new(
    request: Request[Any, Any, Any], code: FromQuery[str] = "", rows: FromQuery[str] = ""
) -> Template:
    count = min(MAX_ROWS, max(1, int(rows))) if is_whole(rows) else ROWS
    return await in_thread(_new_page, request, code[:32], count)


@dataclass
class Preview:
    ok: bool
    people: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    field: str = ""


def _preview(request: Request[Any, Any, Any], data: dict[str, str]) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
        form = CaseForm.read(data)
        try:
            _require_type(officer, form.decision_type)
            institution_for(session, officer, form.institution_code or "-")
            findings = form.findings()
            for finding in findings:
                practitioner_for(session, officer, finding.national_code)
            result = preview_case(
                request.app.state.engine,
                institution_code=form.institution_code,
                decision_type=form.decision_type,
                legal_basis=form.legal_basis or "（预览）",
                document_no=form.document_no or "（预览）",
                decision_date=form.decided_on(),
                amount=form.amount_value(),
                findings=findings,
                actor=officer.username,
            )
            preview = Preview(True, people=result, warnings=[])
        except (ServiceError, Forbidden) as exc:
            message = exc.message
            where = _form_field(exc.field) if isinstance(exc, ServiceError) else ""
            preview = Preview(False, error=message, field=where)
    return page(request, "admin/_case_preview.html", officer, preview=preview)


@post("/admin/cases/preview", include_in_schema=False)
async def case_preview(
    request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, str]]
) -> Template:
    """The htmx preview: each person's points, resulting status and period, and the articles,
    before anything is saved."""
    return await in_thread(_preview, request, data)


def _save(request: Request[Any, Any, Any], data: dict[str, str]) -> Template | Redirect:
    form = CaseForm.read(data)
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            _require_type(officer, form.decision_type)
            institution_for(session, officer, form.institution_code or "-")
            findings = form.findings()
            for finding in findings:
                practitioner_for(session, officer, finding.national_code)
            earlier = first_submission(session, officer, form.token, "")
            if earlier is not None:
                return back_to(earlier)
            recorded = ledger.record_case(
                session,
                officer.act(str(data.get("reason", "")).strip() or "录入处理决定"),
                institution_code=form.institution_code,
                decision_type=form.decision_type,
                legal_basis=form.legal_basis,
                document_no=form.document_no,
                decision_date=form.decided_on(),
                amount=form.amount_value(),
                findings=findings,
                as_of=china_today(),
            )
            target = f"/admin/cases/{recorded.decision.id}"
            _remember(session, form.token, target)
        return back_to(target)
    except ServiceError as exc:
        with db(request) as session:
            officer = signed_in(request, session)
            if exc.code == "not_found" and not exc.field.startswith("findings"):
                raise
            context = _context(session, officer, form)
        errors = {_form_field(exc.field): exc.message}
        form.token = form_token()  # the failed submission recorded nothing
        return page(request, "admin/case_new.html", officer, status_code=400, errors=errors,
                    preview=None, **context)  # fmt: skip


def _remember(session: Session, token: str, target: str) -> None:
    from portal.models import FormSubmission

    row = session.get(FormSubmission, token)
    if row is not None:
        row.outcome = target
        session.add(row)


@post("/admin/cases", include_in_schema=False)
async def case_save(
    request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    return await in_thread(_save, request, data)


# --- one case ---------------------------------------------------------------------------------


def case_for(session: Session, officer: Officer, decision_id: int) -> Decision:
    """The case the officer may see (its institution in scope), else 404."""
    decision = session.get(Decision, decision_id)
    institution = session.get(Institution, decision.institution_id) if decision else None
    if decision is None or institution is None or not sees_institution(officer, institution):
        raise NotFound("decision_id", f"未找到案件 {decision_id}")
    return decision


def _case_page(request: Request[Any, Any, Any], decision_id: int, errors: dict[str, str],
               status_code: int = 200) -> Template:  # fmt: skip
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(VIEW)
        decision = case_for(session, officer, decision_id)
        institution = session.get(Institution, decision.institution_id)
        entries = session.exec(
            select(LedgerEntry).where(LedgerEntry.decision_id == decision.id)
            .order_by(col(LedgerEntry.id))
        ).all()  # fmt: skip
        superseded = {e.supersedes_id for e in entries if e.supersedes_id}
        people = {p.id: p for p in session.exec(select(Practitioner).where(
            col(Practitioner.id).in_({e.practitioner_id for e in entries})))}  # fmt: skip
        notices = session.exec(select(Notice).where(Notice.decision_id == decision.id)).all()
        rows = [
            {
                "entry": e,
                "person": people[e.practitioner_id],
                "live": e.id not in superseded and e.kind != "void",
                "data": ledger.entry_payload(e),
            }
            for e in entries
        ]
        can_correct = officer.can(
            RECORD_PENALTY if decision.decision_type == "administrative_penalty" else RECORD_CASE
        )
        context = {
            "decision": decision, "institution": institution, "rows": rows,
            "notices": {n.practitioner_id: n for n in notices}, "errors": errors,
            "can_correct": can_correct, "type_zh": DECISION_TYPES, "token": form_token(),
            "responsibility_zh": RESPONSIBILITY_ZH,
        }  # fmt: skip
    return page(request, "admin/case.html", officer, status_code=status_code, **context)


@get("/admin/cases/{decision_id:int}", include_in_schema=False)
async def case_view(request: Request[Any, Any, Any], decision_id: FromPath[int]) -> Template:
    return await in_thread(_case_page, request, decision_id, {})


def _correct(
    request: Request[Any, Any, Any], decision_id: int, data: dict[str, str]
) -> Template | Redirect:
    target = f"/admin/cases/{decision_id}"
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            decision = case_for(session, officer, decision_id)
            _require_type(officer, decision.decision_type)
            entry = session.get(LedgerEntry, _int(str(data.get("entry_id", "")), "entry_id") or 0)
            if entry is None or entry.decision_id != decision.id:
                raise NotFound("entry_id", "未找到该记录")
            earlier = first_submission(session, officer, str(data.get("form_token", "")), target)
            if earlier is not None:
                return back_to(earlier)
            reason = str(data.get("reason", "")).strip()
            if not reason:
                raise ServiceError("reason", "更正或作废必须说明理由")
            action = str(data.get("action", ""))
            if action == "void":
                payload = None
            elif action == "points":
                points = _int(str(data.get("points", "")), "points")
                payload = {"points": points}
            else:
                raise ServiceError("action", "请选择更正记分或作废")
            today = china_today()
            ledger.correct_entry(session, officer.act(reason), entry.id or 0, payload, today)
        return back_to(target)
    except ServiceError as exc:
        if exc.code == "not_found":
            raise
        return _case_page(request, decision_id, {exc.field: exc.message}, status_code=400)


@post("/admin/cases/{decision_id:int}/corrections", include_in_schema=False)
async def case_correct(
    request: Request[Any, Any, Any],
    decision_id: FromPath[int],
    data: URLEncodedBody[dict[str, str]],
) -> Template | Redirect:
    """Correct one entry's points or void it, with a reason: a superseding ledger entry; the
    old one stays (the ledger is append-only)."""
    return await in_thread(_correct, request, decision_id, data)


ROUTES = [case_new, case_preview, case_save, case_view, case_correct]
