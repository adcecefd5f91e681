"""Annual credit runs: read the runs and their counts; preview, commit and publish a year;
record the health commission's opinion on a medical institution (Hunan-Credit Art. 19-22).

CREDIT_READ sees the runs of its region; CREDIT_DECIDE (the region's credit officer, the
province administrator) acts for its own region only (Art. 21: an officer evaluates the
subjects of their region). A preview or a commit runs in a background thread, its progress
in a ``job`` row that the page polls with htmx; a commit is one transaction (all or
nothing, portal.services.credit_evaluation).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import threading
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Response, Template
from sqlalchemy import Engine
from sqlmodel import Session, select

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
    signed_in,
)
from portal.clock import china_today
from portal.models import CreditRun, FormSubmission, Job
from portal.services import credit_evaluation as credit
from portal.services import jobs
from portal.services.errors import NotFound, ServiceError
from portal.services.regions import city_zh
from portal.services.registry import Act
from portal.services.roles import CREDIT_DECIDE, CREDIT_READ
from public_site.common import csv_cell

log = logging.getLogger(__name__)
PATH = "/admin/credit/evaluations"
JOB_KIND = "credit_evaluate"
STATE_ZH = {"previewed": "预览", "committed": "已提交", "published": "已发布"}
GRADES = ("A", "B", "C", "D")
ACTIONS = {"preview": "预览", "commit": "提交结果", "publish": "发布"}


def grade_chart(counts: dict[str, Any]) -> str:
    """A small SVG bar chart of the grade distribution (and held), labelled for readers."""
    grades = counts.get("grades", {})
    bars = [(g, int(grades.get(g, 0))) for g in GRADES] + [("待", int(counts.get("held", 0)))]
    top = max((n for _, n in bars), default=0) or 1
    width, height, gap = 28, 60, 8
    parts = []
    for i, (label, n) in enumerate(bars):
        h = round(height * n / top)
        x = i * (width + gap)
        parts.append(
            f'<rect x="{x}" y="{height - h + 14}" width="{width}" height="{h}" class="bar">'
            f"<title>{label}: {n}</title></rect>"
            f'<text x="{x + width // 2}" y="{height + 28}" text-anchor="middle">{label}</text>'
            f'<text x="{x + width // 2}" y="{height - h + 11}" text-anchor="middle">{n}</text>'
        )
    total = len(bars) * (width + gap)
    label = "，".join(f"{g} {n}" for g, n in bars)
    return (
        f'<svg viewBox="0 0 {total} {height + 32}" width="{total}" height="{height + 32}" '
        f'role="img" aria-label="等级分布：{label}" font-size="10">{"".join(parts)}</svg>'
    )


COLUMNS = (*GRADES, "held", "excluded")
SHOWN_EXCLUDED = 50  # excluded subjects listed on a page (the counts are complete)


def tables(counts: dict[str, Any]) -> dict[str, Any]:
    """A summary's small tables: per city (code, Chinese name) and per kind, A-D, held and
    excluded; and the first excluded subjects with their reasons."""
    cities = [
        {"code": code, "name": city_zh(code), "counts": values}
        for code, values in sorted(counts.get("cities", {}).items())
    ]
    kinds = [
        {"kind": kind, "counts": values}
        for kind, values in sorted(counts.get("kind_grades", {}).items())
    ]
    return {
        "city_rows": cities,
        "kind_rows": kinds,
        "columns": COLUMNS,
        "excluded_shown": list(counts.get("excluded_subjects", []))[:SHOWN_EXCLUDED],
    }


def _default_region(officer: Officer) -> str:
    return officer.account.region if officer.role.scope == "region" else credit.PROVINCE


def _context(session: Session, officer: Officer) -> dict[str, Any]:
    runs = credit.runs(session, officer.sees_region)
    rows = []
    for run in runs:
        counts = credit.counts_of(run)
        rows.append({"run": run, "counts": counts, "chart": grade_chart(counts),
                     "tables": tables(counts)})  # fmt: skip
    return {
        "rows": rows,
        "state_zh": STATE_ZH,
        "actions": ACTIONS,
        "grades": GRADES,
        "token": form_token(),
        "default_year": china_today().year - 1,
        "default_region": _default_region(officer),
        "may_decide": officer.can(CREDIT_DECIDE),
    }


def _list(
    request: Request[Any, Any, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
    summary: dict[str, Any] | None = None,
    consult: dict[str, str] | None = None,
    exclusion: dict[str, str] | None = None,
) -> Template:
    """The runs and the forms; ``typed``, ``consult``, ``exclusion``: what was typed in the
    evaluation, consultation and exclusion forms (kept when refused)."""
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(CREDIT_READ)
        context = _context(session, officer)
    return page(request, "admin/credit_evaluations.html", officer, status_code=status_code,
                errors=errors or {}, typed=typed or {}, summary=summary,
                consult=consult or {}, exclusion=exclusion or {},
                grounds=credit.EXCLUSION_GROUND_ZH, subject_kinds=credit.KIND_ZH,
                **tables(summary or {}), **context)  # fmt: skip


@get(PATH, include_in_schema=False)
async def evaluations(request: Request[Any, Any, Any]) -> Template:
    return await in_thread(_list, request)


def _year(text: str) -> int:
    """A year in 4 ASCII digits ("２０２５", "²" or "1_0" are refused, not read)."""
    if not re.fullmatch(r"[0-9]{4}", text):
        raise ServiceError("year", "评价年度应为 4 位半角数字")
    return int(text)


def _act(request: Request[Any, Any, Any], data: dict[str, str]) -> Template | Redirect:
    """Checks first (the form answers 400 or 403 with nothing done); then a preview or a
    commit runs as a background job whose page polls its progress, a publish at once."""
    typed = {k: str(data.get(k, "")).strip()[:64] for k in ("action", "year", "region")}
    token = str(data.get("form_token", ""))[:64]
    engine = request.app.state.engine
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(CREDIT_DECIDE)
    try:
        action = typed["action"]
        if action not in ACTIONS:
            raise ServiceError("action", "请选择预览、提交或发布")
        year = _year(typed["year"])
        region = credit.check_region(typed["region"] or _default_region(officer))
        if not officer.sees_region(region):
            raise Forbidden("只能评价本辖区的信用主体（湖南信用办法第二十一条）")
        act = officer.act(f"年度信用评价：{ACTIONS[action]}")
        if action == "publish":
            with db(request, write=True) as session:
                earlier = first_submission(session, officer, token, PATH)
            if earlier is not None:
                return back_to(earlier)
            try:
                summary = credit.publish(engine, act, year, region)
            except BaseException:
                _forget(request, token)  # nothing was done: the form may be sent again
                raise
            return _list(request, typed=typed, summary=summary.to_json())
        credit.check_year(year, china_today())
        with db(request) as session:
            credit.known_region(session, region)
            _not_running(session, year, region)
        total = credit.count_subjects(engine, region)
        with db(request, write=True) as session:
            earlier = first_submission(session, officer, token, "")
            if earlier is not None:
                return back_to(earlier)
            note = {"action": action, "year": year, "region": region}
            job = jobs.start(session, act, JOB_KIND, total=total, note=note)
            target = f"{PATH}/jobs/{job.id}"
            row = session.get(FormSubmission, token)
            if row is not None:
                row.outcome = target
                session.add(row)
    except ServiceError as exc:
        return _list(request, {exc.field: exc.message}, 400, typed)
    threading.Thread(
        target=_run, args=(engine, job.id or 0, act, action, year, region, total),
        name=f"credit-{job.id}", daemon=True,
    ).start()  # fmt: skip
    return back_to(target)


def _run(
    engine: Engine, job_id: int, act: Act, action: str, year: int, region: str, total: int
) -> None:
    """The background evaluation: its progress in the job row, its summary at the end. A
    commit that fails leaves nothing (one transaction), and the job says why."""
    progress = jobs.Progress(engine, job_id, total)
    try:
        if action == "commit":
            summary = credit.commit(engine, act, year, region, progress=progress)
        else:
            summary = credit.preview(engine, year, region, progress=progress, record=act)
        jobs.finish(engine, job_id, summary.to_json())
    except ServiceError as exc:
        jobs.finish(engine, job_id, {"error": exc.message, **_note(action, year, region)}, False)
    except Exception:
        log.exception("credit job %s failed", job_id)
        jobs.finish(engine, job_id, {"error": "评价中断：服务器内部错误，未保存任何结果",
                                     **_note(action, year, region)}, ok=False)  # fmt: skip


def _not_running(session: Session, year: int, region: str) -> None:
    """One run of a year and region at a time; a run whose process was killed (its job
    :func:`jobs.interrupted`) wrote nothing and does not stand in the way."""
    for job in session.exec(
        select(Job).where(Job.kind == JOB_KIND).where(Job.state == "running")
    ).all():
        note = jobs.summary_of(job)
        if note.get("year") == year and note.get("region") == region and not jobs.interrupted(job):
            raise ServiceError(
                "year", f"{year} 年度 {region} 的评价正在进行（任务 #{job.id}），请稍候"
            )


def _note(action: str, year: int, region: str) -> dict[str, Any]:
    return {"action": action, "year": year, "region": region}


def _job_page(request: Request[Any, Any, Any], job_id: int) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(CREDIT_READ)
        job = jobs.get_job(session, job_id)
        if job is None or job.kind != JOB_KIND or job.actor != officer.username:
            raise NotFound("job_id", f"未找到评价任务 {job_id}")
    done = job.done
    if job.state == "running":
        done = max(done, jobs.live(job.id or 0) or 0)
    summary = jobs.summary_of(job)
    context: dict[str, Any] = {
        "job": job, "done": done, "summary": summary, "grades": GRADES, "actions": ACTIONS,
        "chart": grade_chart(summary) if job.state == "done" else "",
        "interrupted": jobs.interrupted(job), **tables(summary),
    }  # fmt: skip
    if request.headers.get("hx-request"):  # the poll: the fragment alone
        return page(request, "admin/_credit_progress.html", officer, **context)
    return page(request, "admin/credit_job.html", officer, **context)


@get(PATH + "/jobs/{job_id:int}", include_in_schema=False)
async def evaluation_job(request: Request[Any, Any, Any], job_id: FromPath[int]) -> Template:
    return await in_thread(_job_page, request, job_id)


def _forget(request: Request[Any, Any, Any], token: str) -> None:
    with db(request, write=True) as session:
        row = session.get(FormSubmission, token)
        if row is not None:
            session.delete(row)


@post(PATH, include_in_schema=False)
async def evaluation_act(
    request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    """Preview, commit or publish a year for a region within the officer's scope."""
    return await in_thread(_act, request, data)


def _consult(request: Request[Any, Any, Any], data: dict[str, str]) -> Template | Redirect:
    typed = {k: str(data.get(k, "")).strip()[:64] for k in ("year", "institution_code")}
    typed["opinion"] = str(data.get("opinion", "")).strip()[:10_000]  # checked, never cut
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            officer.require(CREDIT_DECIDE)
            year = _year(typed["year"])
            try:
                place = institution_for(session, officer, typed["institution_code"] or "-")
            except NotFound:  # unknown or out of scope: the form again, the field named
                raise ServiceError(
                    "institution_code",
                    f"未找到医疗机构代码 {typed['institution_code']}，或该机构不在您的管辖范围内",
                ) from None
            earlier = first_submission(session, officer, str(data.get("form_token", ""))[:64],
                                       PATH)  # fmt: skip
            if earlier is not None:
                return back_to(earlier)
            if year > china_today().year:
                raise ServiceError("year", "评价年度不能晚于今年")
            credit.record_consultation(session, officer.act("卫生健康部门意见"), year,
                                       place.code, typed["opinion"])  # fmt: skip
    except ServiceError as exc:
        return _list(request, {f"consult_{exc.field}": exc.message}, 400, consult=typed)
    return back_to(PATH)


@post("/admin/credit/consultations", include_in_schema=False)
async def consultation(
    request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    """The health commission's opinion on a medical institution (Art. 21)."""
    return await in_thread(_consult, request, data)


def _exclude(request: Request[Any, Any, Any], data: dict[str, str]) -> Template | Redirect:
    """Art. 20(3)/(4): a subject of the officer's region does not take part in a year."""
    typed = {k: str(data.get(k, "")).strip()[:64]
             for k in ("year", "subject_kind", "subject_key", "ground")}  # fmt: skip
    typed["reason"] = str(data.get("reason", "")).strip()[:10_000]  # checked, never cut
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            officer.require(CREDIT_DECIDE)
            year = _year(typed["year"])
            earlier = first_submission(session, officer, str(data.get("form_token", ""))[:64],
                                       PATH)  # fmt: skip
            if earlier is not None:
                return back_to(earlier)
            if year > china_today().year:
                raise ServiceError("year", "评价年度不能晚于今年")
            credit.record_exclusion(
                session, officer.act(f"不参加本期评价：{typed['reason'][:200]}"), year,
                typed["subject_kind"], typed["subject_key"], typed["ground"], typed["reason"],
                officer.sees_region,
            )  # fmt: skip
    except ServiceError as exc:
        return _list(request, {f"exclude_{exc.field}": exc.message}, 400, exclusion=typed)
    return back_to(PATH)


@post("/admin/credit/exclusions", include_in_schema=False)
async def exclusion(
    request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    """Record that a subject does not take part in a year's evaluation (Art. 20(3)/(4))."""
    return await in_thread(_exclude, request, data)


HEALTH_COLUMNS = ("code", "name", "region", "grade", "score", "state")


def _health_csv(request: Request[Any, Any, Any], run_id: int) -> Response[bytes]:
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(CREDIT_READ)
        run = session.get(CreditRun, run_id)
        if run is None or not officer.sees_region(run.region):
            raise NotFound("run_id", f"未找到评价批次 {run_id}")
        if run.state not in ("committed", "published"):
            raise NotFound("run_id", f"评价批次 {run_id} 尚未提交结果")
        found = credit.medical_results(session, run)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEALTH_COLUMNS)
    for row in found:
        writer.writerow([csv_cell(row[k]) for k in HEALTH_COLUMNS])
    name = f"health-commission-{run.year}-{run.region}-{run_id}.csv"
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@get(PATH + "/{run_id:int}/health-commission.csv", include_in_schema=False)
async def health_commission_csv(
    request: Request[Any, Any, Any], run_id: FromPath[int]
) -> Response[bytes]:
    """Art. 21 通报: the medical institutions' results of a committed run, for the health
    commission of the same level (CREDIT_READ, in scope)."""
    return await in_thread(_health_csv, request, run_id)


ROUTES = [evaluations, evaluation_act, evaluation_job, consultation, exclusion,
          health_commission_csv]  # fmt: skip
