"""The indicator catalogue: versions per year and subject kind, drafts, edits, a draft's
preview against last year's subjects, publication (Hunan-Credit Art. 18; RULES §8
"Indicators"; Hunan-Rules Art. 17: the doctors' own catalogue).

CREDIT_READ reads every version (the catalogue is the province's, the same for every
region). Changing it takes CREDIT_DECIDE with the whole province in scope (the province
administrator, a credit officer of region 43): Art. 18 gives the indicators to the
provincial bureau, so a city's credit officer gets 403 (portal.services.credit_catalogue).
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from admin.common import (
    Forbidden,
    Officer,
    back_to,
    db,
    first_submission,
    form_token,
    in_thread,
    page,
    signed_in,
)
from portal.clock import china_today
from portal.models import FormSubmission
from portal.services import credit_catalogue as catalogue
from portal.services import credit_evaluation as credit
from portal.services.errors import ServiceError, checked_whole
from portal.services.roles import CREDIT_DECIDE, CREDIT_READ

PATH = "/admin/credit/catalogues"
FIELDS = ("indicator", "module", "points", "cap", "title", "ref")
GRADES = ("A", "B", "C", "D")


def may_change(officer: Officer) -> bool:
    """CREDIT_DECIDE over the whole province (Art. 18: the provincial bureau)."""
    return officer.can(CREDIT_DECIDE) and officer.sees_region(credit.PROVINCE)


def _require_change(officer: Officer) -> None:
    officer.require(CREDIT_DECIDE)
    if not may_change(officer):
        raise Forbidden("指标目录由省级医疗保障部门制定（湖南信用办法第十八条），本账号只能查看")


def _list(
    request: Request[Any, Any, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(CREDIT_READ)
        rows = catalogue.versions(session)
        names = {r.id: catalogue.name_of(r) for r in rows}
    defaults = [(k, catalogue.default(k).name) for k in credit.CATALOGUE_KINDS]
    return page(request, "admin/credit_catalogues.html", officer, status_code=status_code,
                rows=rows, names=names, defaults=defaults, kinds=catalogue.KIND_ZH,
                state_zh=catalogue.STATE_ZH, may_change=may_change(officer),
                token=form_token(), default_year=china_today().year, errors=errors or {},
                typed=typed or {})  # fmt: skip


@get(PATH, include_in_schema=False)
async def catalogues(request: Request[Any, Any, Any]) -> Template:
    return await in_thread(_list, request)


def _create(request: Request[Any, Any, Any], data: dict[str, str]) -> Template | Redirect:
    typed = {k: str(data.get(k, "")).strip()[:32] for k in ("year", "subject_kind")}
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            _require_change(officer)
            earlier = first_submission(session, officer, str(data.get("form_token", ""))[:64],
                                       PATH)  # fmt: skip
            if earlier is not None:
                return back_to(earlier)
            year = checked_whole("year", typed["year"], 1000, 9999)  # ASCII digits only
            draft = catalogue.create_draft(session, officer.act("新建指标目录草稿"),
                                           year, typed["subject_kind"])  # fmt: skip
            target = f"{PATH}/{draft.id}"
            submitted = session.get(FormSubmission, str(data.get("form_token", ""))[:64])
            if submitted is not None:  # the same form again leads to this draft
                submitted.outcome = target
                session.add(submitted)
    except ServiceError as exc:
        return _list(request, {exc.field: exc.message}, 400, typed)
    return back_to(target)


@post(PATH, include_in_schema=False)
async def catalogue_create(
    request: Request[Any, Any, Any], data: URLEncodedBody[dict[str, str]]
) -> Template | Redirect:
    """A new draft for a year and kind, a copy of the version in force."""
    return await in_thread(_create, request, data)


def _indicators(body: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for section, module in (("bonus", "bonus"), ("deductions", "deduction")):
        for item in body.get(section, []):
            entry = catalogue.normal(item)
            out.append({**entry, "module": module})
    return out


def _detail(
    request: Request[Any, Any, Any],
    catalogue_id: int,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
    tried: credit.CataloguePreview | None = None,
) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
        officer.require(CREDIT_READ)
        row = catalogue.get(session, catalogue_id)
        name = catalogue.name_of(row)
        indicators = _indicators(json.loads(row.body or "{}"))
        in_force = catalogue.catalogue_for(session, row.year, row.subject_kind).name
    return page(request, "admin/credit_catalogue.html", officer, status_code=status_code,
                row=row, name=name, indicators=indicators, in_force=in_force,
                kinds=catalogue.KIND_ZH, modules=catalogue.MODULE_ZH,
                state_zh=catalogue.STATE_ZH, may_change=may_change(officer),
                token=form_token(), errors=errors or {}, typed=typed or {}, tried=tried,
                grades=GRADES)  # fmt: skip


@get(PATH + "/{catalogue_id:int}", include_in_schema=False)
async def catalogue_page(request: Request[Any, Any, Any], catalogue_id: FromPath[int]) -> Template:
    return await in_thread(_detail, request, catalogue_id)


def _edit(
    request: Request[Any, Any, Any], catalogue_id: int, data: dict[str, str]
) -> Template | Redirect:
    typed = {k: str(data.get(k, "")).strip()[:200] for k in FIELDS}
    target = f"{PATH}/{catalogue_id}"
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            _require_change(officer)
            catalogue.get(session, catalogue_id)  # 404 first
            earlier = first_submission(session, officer, str(data.get("form_token", ""))[:64],
                                       target)  # fmt: skip
            if earlier is not None:
                return back_to(earlier)
            act = officer.act("编辑指标目录草稿")
            if data.get("remove"):
                catalogue.remove_indicator(session, act, catalogue_id, str(data["remove"])[:32])
            else:
                catalogue.set_indicator(session, act, catalogue_id, **typed)
    except ServiceError as exc:
        if exc.code == "not_found":
            raise
        return _detail(request, catalogue_id, {exc.field: exc.message}, 400, typed)
    return back_to(target)


@post(PATH + "/{catalogue_id:int}/indicators", include_in_schema=False)
async def catalogue_edit(
    request: Request[Any, Any, Any], catalogue_id: FromPath[int],
    data: URLEncodedBody[dict[str, str]],
) -> Template | Redirect:  # fmt: skip
    """Add or change an indicator of a draft (``remove``: take one out)."""
    return await in_thread(_edit, request, catalogue_id, data)


def _preview(request: Request[Any, Any, Any], catalogue_id: int) -> Template:
    with db(request) as session:
        officer = signed_in(request, session)
        _require_change(officer)
        catalogue.get(session, catalogue_id)
    try:
        tried = credit.preview_catalogue(request.app.state.engine, catalogue_id)
    except ServiceError as exc:
        if exc.code == "not_found":
            raise
        return _detail(request, catalogue_id, {exc.field: exc.message}, 400)
    return _detail(request, catalogue_id, tried=tried)


@post(PATH + "/{catalogue_id:int}/preview", include_in_schema=False)
async def catalogue_preview(
    request: Request[Any, Any, Any], catalogue_id: FromPath[int]
) -> Template:
    """Grade counts of last year's subjects under this version beside the version in force;
    nothing is written."""
    return await in_thread(_preview, request, catalogue_id)


def _publish(
    request: Request[Any, Any, Any], catalogue_id: int, data: dict[str, str]
) -> Template | Redirect:
    target = f"{PATH}/{catalogue_id}"
    try:
        with db(request, write=True) as session:
            officer = signed_in(request, session)
            _require_change(officer)
            catalogue.get(session, catalogue_id)
            earlier = first_submission(session, officer, str(data.get("form_token", ""))[:64],
                                       target)  # fmt: skip
            if earlier is not None:
                return back_to(earlier)
            catalogue.publish(session, officer.act("发布指标目录"), catalogue_id)
    except ServiceError as exc:
        if exc.code == "not_found":
            raise
        return _detail(request, catalogue_id, {exc.field: exc.message}, 400)
    return back_to(target)


@post(PATH + "/{catalogue_id:int}/publish", include_in_schema=False)
async def catalogue_publish(
    request: Request[Any, Any, Any], catalogue_id: FromPath[int],
    data: URLEncodedBody[dict[str, str]],
) -> Template | Redirect:  # fmt: skip
    """Publish a draft: the version of its year and kind from now on, frozen (Art. 18)."""
    return await in_thread(_publish, request, catalogue_id, data)


ROUTES = [
    catalogues,
    catalogue_create,
    catalogue_page,
    catalogue_edit,
    catalogue_preview,
    catalogue_publish,
]
