"""The indicator catalogue: versioned data per year and subject kind (Hunan-Credit Art. 18;
RULES §8 "Indicators"; Hunan-Rules Art. 17).

The province publishes the catalogue (Art. 18: 省级医疗保障部门制定评价指标); the texts do
not contain it. The shipped default is the ``catalogue`` of ``hunan-credit-2024.yaml``; for
hospital doctors (``hospital_doctor``, 定点医疗机构医保医师), whose evaluation guideline is
issued separately (Hunan-Rules Art. 17), the default is the same catalogue without the
points indicator (``practitioner_points``): the points-free default they always had.

A version is one ``credit_catalogue`` row: ``version`` 0 is the shipped default, written
(``is_default``, published) the first time an officer drafts a version for that year and
kind; a draft (version 1, 2, ...) is a copy of the current version, edited in place (every
edit audited) and published once: a published row is frozen by the database (migration
0010). The evaluation of year Y uses the newest published version of Y for the subject's
kind, else the default (:func:`catalogue_for`).

Who: CREDIT_DECIDE with the province as scope (the province administrator, a credit
officer of region 43): Art. 18 gives the indicators to the provincial bureau, so a city's
credit officer reads the catalogue but does not change it (our choice; the admin enforces
it).

``body`` (JSON): ``{"version": name, "bonus": [...], "deductions": [...]}``, each indicator
``{"indicator", "points", "cap", "title", "ref"}``: ``points`` per occurrence (for
``practitioner_points``: per point of the year), ``cap`` the most the indicator gives in a
year (``null``: no cap), in points of the final score (RULES I-15).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from portal.credit_models import SUBJECT_KINDS, CreditCatalogue
from portal.services.errors import NotFound, ServiceError
from portal.services.registry import Act, audit
from scoring.rulesets import credit_ruleset

RULESET = "hunan-credit-2024"
DOCTORS = "hospital_doctor"  # the doctors' own catalogue (Hunan-Rules Art. 17)
_EVALUATED = ("practitioner", DOCTORS, "designated_hospital", "designated_pharmacy")
KINDS = (*_EVALUATED, *(k for k in SUBJECT_KINDS if k not in _EVALUATED))
KIND_ZH = {
    "practitioner": "医保相关人员（医保医师以外）",
    DOCTORS: "定点医疗机构医保医师",
    "designated_hospital": "定点医疗机构",
    "designated_pharmacy": "定点零售药店",
    "insured_employer": "参保单位",
    "third_party_agency": "第三方服务机构",
    "pharma_company": "医药企业",
    "other_institution": "其他机构",
    "insured_person": "参保人",
    "other_individual": "其他个人",
}
MODULES = {"bonus": "bonus", "deduction": "deductions"}  # module → body section
MODULE_ZH = {"bonus": "加分", "deduction": "扣分"}
STATE_ZH = {"draft": "草稿", "published": "已发布"}
POINTS_INDICATOR = "practitioner_points"
INDICATOR_ID = re.compile(r"[a-z][a-z0-9_]{1,31}")


@dataclass(frozen=True)
class Catalogue:
    """The catalogue a subject is evaluated with: its name (recorded in ``credit_run``),
    its indicators by module and the row it came from (None: the shipped default)."""

    name: str
    bonus: dict[str, dict[str, Any]]
    deductions: dict[str, dict[str, Any]]
    row_id: int | None = None

    def section(self, module: str) -> dict[str, dict[str, Any]]:
        return self.bonus if module == "bonus" else self.deductions

    def body(self) -> dict[str, Any]:
        return {"version": self.name, "bonus": list(self.bonus.values()),
                "deductions": list(self.deductions.values())}  # fmt: skip


def normal(item: dict[str, Any]) -> dict[str, Any]:
    points = item.get("points", item.get("per_point", 0))
    cap = item.get("cap")
    return {
        "indicator": str(item["indicator"]),
        "points": float(points),
        "cap": None if cap is None else float(cap),
        "title": str(item.get("title", "")),
        "ref": str(item.get("ref", "")),
    }


def _from_body(name: str, body: dict[str, Any], row_id: int | None = None) -> Catalogue:
    return Catalogue(
        name,
        {i["indicator"]: i for i in (normal(x) for x in body.get("bonus", []))},
        {i["indicator"]: i for i in (normal(x) for x in body.get("deductions", []))},
        row_id,
    )


def default(kind: str) -> Catalogue:
    """The shipped default for ``kind`` (Art. 18; the doctors': points-free, Hunan-Rules
    Art. 17, RULES §8)."""
    shipped = credit_ruleset(RULESET).catalogue
    name = str(shipped.get("version", RULESET))
    body = {"bonus": shipped.get("bonus", []), "deductions": shipped.get("deductions", [])}
    if kind == DOCTORS:
        name += "-doctors"
        body["deductions"] = [d for d in body["deductions"] if d["indicator"] != POINTS_INDICATOR]
    return _from_body(name, body)


def name_of(row: CreditCatalogue) -> str:
    if row.is_default:
        return default(row.subject_kind).name
    return f"{row.year}-{row.subject_kind}-v{row.version}"


def catalogue_of(row: CreditCatalogue) -> Catalogue:
    return _from_body(name_of(row), json.loads(row.body or "{}"), row.id)


def catalogue_for(session: Session, year: int, kind: str) -> Catalogue:
    """The catalogue the evaluation of ``year`` uses for ``kind``: the newest published
    version of that year, else the shipped default (Art. 18)."""
    row = session.exec(
        select(CreditCatalogue)
        .where(CreditCatalogue.year == year)
        .where(CreditCatalogue.subject_kind == kind)
        .where(CreditCatalogue.state == "published")
        .order_by(col(CreditCatalogue.version).desc())
        .limit(1)
    ).first()
    return default(kind) if row is None else catalogue_of(row)


def versions(session: Session, year: int | None = None) -> list[CreditCatalogue]:
    query = select(CreditCatalogue)
    if year is not None:
        query = query.where(CreditCatalogue.year == year)
    return list(
        session.exec(
            query.order_by(
                col(CreditCatalogue.year).desc(),
                col(CreditCatalogue.subject_kind),
                col(CreditCatalogue.version).desc(),
            )
        ).all()
    )


def get(session: Session, catalogue_id: int) -> CreditCatalogue:
    row = session.get(CreditCatalogue, catalogue_id)
    if row is None:
        raise NotFound("catalogue_id", f"未找到指标目录版本 {catalogue_id}")
    return row


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ServiceError("subject_kind", f"未知信用主体类型 {kind}")
    return kind


def _check_year(year: int) -> int:
    if not 2024 <= year <= 2100:
        raise ServiceError("year", "年度应为 2024 年（湖南信用办法施行）以后的 4 位年份")
    return year


def create_draft(session: Session, act: Act, year: int, kind: str) -> CreditCatalogue:
    """A new draft for ``year`` and ``kind``: a copy of the current version (Art. 18). The
    shipped default is written first (version 0, ``is_default``) so every version is a row.
    One draft at a time per year and kind."""
    _check_year(year)
    _check_kind(kind)
    rows = [r for r in versions(session, year) if r.subject_kind == kind]
    if any(r.state == "draft" for r in rows):
        raise ServiceError("subject_kind", f"{year} 年度{KIND_ZH[kind]}已有草稿，请先编辑或发布")
    if not rows:
        shipped = CreditCatalogue(
            year=year, subject_kind=kind, version=0, state="published", is_default=True,
            body=json.dumps(default(kind).body(), ensure_ascii=False), created_by=act.actor,
            created_at=act.at, published_by=act.actor, published_at=act.at,
        )  # fmt: skip
        session.add(shipped)
        session.flush()
        audit(session, act, "credit_catalogue_default", "credit_catalogue", shipped.id,
              year=year, subject_kind=kind)  # fmt: skip
        rows = [shipped]
    current = catalogue_for(session, year, kind)
    draft = CreditCatalogue(
        year=year, subject_kind=kind, version=max(r.version for r in rows) + 1, state="draft",
        body=json.dumps(current.body(), ensure_ascii=False), created_by=act.actor,
        created_at=act.at,
    )  # fmt: skip
    session.add(draft)
    session.flush()
    audit(session, act, "credit_catalogue_draft", "credit_catalogue", draft.id, year=year,
          subject_kind=kind, copied_from=current.name)  # fmt: skip
    return draft


def _draft(session: Session, catalogue_id: int) -> CreditCatalogue:
    row = session.get(CreditCatalogue, catalogue_id, with_for_update=True)
    if row is None:
        raise NotFound("catalogue_id", f"未找到指标目录版本 {catalogue_id}")
    if row.state != "draft":
        raise ServiceError("catalogue_id", "已发布的指标目录不能修改（湖南信用办法第十八条）")
    return row


_DECIMAL = re.compile(r"[0-9]{1,3}(\.[0-9]{1,4})?")


def _number(text: str | float | None, field: str, label: str, *, empty: bool) -> float | None:
    """Points as typed: ASCII decimals only (``12``, ``0.5``). Python's float() also takes
    "１２", "١٢", "1_0", "1e1", "nan": refused here, naming the field."""
    if text is None or str(text).strip() == "":
        if empty:
            return None
        raise ServiceError(field, f"请填写{label}")
    if isinstance(text, str):
        if not _DECIMAL.fullmatch(text.strip()):
            raise ServiceError(field, f"{label}应为数字（半角，如 12 或 0.5）")
        value = float(text.strip())
    else:
        value = float(text)
    if not 0 <= value <= 100 or value != value:
        raise ServiceError(field, f"{label}应在 0 至 100 分之间（最终得分的分值，RULES I-15）")
    return value


def check_indicator(
    *,
    indicator: str,
    module: str,
    points: str | float | None,
    cap: str | float | None,
    title: str,
    ref: str,
) -> tuple[str, dict[str, Any]]:
    """An indicator as typed, checked field by field (Art. 18): the module and the body
    entry. Errors name the field, in Chinese."""
    indicator = indicator.strip()
    if not INDICATOR_ID.fullmatch(indicator):
        raise ServiceError(
            "indicator", "指标代码应为 2–32 位小写英文字母、数字或下划线，以字母开头"
        )
    if module not in MODULES:
        raise ServiceError("module", "模块应为加分（bonus）或扣分（deduction）")
    value = _number(points, "points", "分值", empty=False)
    most = _number(cap, "cap", "上限", empty=True)
    if most is not None and value is not None and most < value:
        raise ServiceError("cap", "上限不能小于单次分值")
    if not title.strip():
        raise ServiceError("title", "请填写指标名称（中文）")
    if not ref.strip():
        raise ServiceError("ref", "请填写依据条款，例如“湖南信用办法第十四条”")
    return module, {"indicator": indicator, "points": value, "cap": most,
                    "title": title.strip()[:200], "ref": ref.strip()[:200]}  # fmt: skip


def set_indicator(
    session: Session,
    act: Act,
    catalogue_id: int,
    *,
    indicator: str,
    module: str,
    points: str | float | None,
    cap: str | float | None = None,
    title: str,
    ref: str,
) -> CreditCatalogue:
    """Add or change an indicator of a draft (an indicator lives in one module: moving it
    takes it out of the other)."""
    row = _draft(session, catalogue_id)
    module, entry = check_indicator(indicator=indicator, module=module, points=points, cap=cap,
                                    title=title, ref=ref)  # fmt: skip
    current = catalogue_of(row)
    before = current.bonus.get(entry["indicator"]) or current.deductions.get(entry["indicator"])
    for section in (current.bonus, current.deductions):
        section.pop(entry["indicator"], None)
    current.section(module)[entry["indicator"]] = entry
    row.body = json.dumps({**current.body(), "version": ""}, ensure_ascii=False)
    session.add(row)
    after = {**entry, "module": module}
    audit(session, act, "credit_catalogue_edit", "credit_catalogue", row.id,
          indicator=entry["indicator"], before=before, after=after)  # fmt: skip
    return row


def remove_indicator(session: Session, act: Act, catalogue_id: int, indicator: str) -> None:
    """Take an indicator out of a draft."""
    row = _draft(session, catalogue_id)
    current = catalogue_of(row)
    before = current.bonus.pop(indicator, None) or current.deductions.pop(indicator, None)
    if before is None:
        raise ServiceError("indicator", f"草稿中没有指标 {indicator}")
    row.body = json.dumps({**current.body(), "version": ""}, ensure_ascii=False)
    session.add(row)
    audit(session, act, "credit_catalogue_remove", "credit_catalogue", row.id,
          indicator=indicator, before=before)  # fmt: skip


def publish(session: Session, act: Act, catalogue_id: int) -> CreditCatalogue:
    """Publish a draft: from now on the version of its year and kind, frozen (Art. 18)."""
    row = _draft(session, catalogue_id)
    if not json.loads(row.body or "{}").get("deductions") and not json.loads(row.body).get("bonus"):
        raise ServiceError("catalogue_id", "指标目录为空，不能发布")
    row.state, row.published_by, row.published_at = "published", act.actor, act.at
    session.add(row)
    audit(session, act, "credit_catalogue_publish", "credit_catalogue", row.id, year=row.year,
          subject_kind=row.subject_kind, version=row.version)  # fmt: skip
    return row


def evaluated_kind(kind: str) -> str:
    """The subject kind a catalogue kind's subjects carry in ``credit_result``."""
    return "practitioner" if kind == DOCTORS else kind
