"""Credit information from other departments, imported from CSV or XLSX (Hunan-Credit
Art. 16(三): 通过公共信用信息平台等数据共享获取; Art. 14 categories, Art. 4 public or not).

The file is read by the registration import's machinery (portal.services.imports:
``read_rows`` with this import's columns, ``Problem``). Every bad row is reported by line and
column; the file is all or nothing; each row's origin is ``import:<sha256 of file>:<line>``,
so the same file twice imports nothing twice. Started from the admin as a background job
(portal.services.jobs), its progress in the ``job`` row.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from portal.credit_models import INDIVIDUAL_KINDS, CreditItem, CreditSubject
from portal.db import session_scope
from portal.identifiers import id_digest
from portal.models import Institution, Practitioner
from portal.services import jobs
from portal.services.credit_archive import (
    CATEGORY_ZH,
    KIND_ZH,
    POLARITY_ZH,
    SOURCE_ZH,
    SubjectInfo,
    record_item,
    subject,
)
from portal.services.errors import NotFound, ServiceError
from portal.services.imports import NO, YES, Problem, read_rows
from portal.services.registry import Act

log = logging.getLogger(__name__)
JOB_KIND = "credit_import"
COLUMNS: dict[str, str] = {
    "主体类型": "subject_kind",
    "信用主体类型": "subject_kind",
    "主体代码": "subject_key",
    "统一社会信用代码": "subject_key",
    "机构编码": "subject_key",
    "医保代码": "subject_key",
    "身份证件号码": "id_number",
    "证件号码": "id_number",
    "信息类别": "category",
    "类别": "category",
    "信息性质": "polarity",
    "良好或不良": "polarity",
    "是否公开": "public",
    "信息来源": "source",
    "提供单位": "source_unit",
    "来源单位": "source_unit",
    "信息内容": "title",
    "认定日期": "date",
    "日期": "date",
    "说明": "detail",
}
LABEL: dict[str, str] = {
    "subject_kind": "主体类型",
    "subject_key": "主体代码",
    "id_number": "身份证件号码",
    "category": "信息类别",
    "polarity": "信息性质",
    "public": "是否公开",
    "source": "信息来源",
    "source_unit": "提供单位",
    "title": "信息内容",
    "date": "认定日期",
    "detail": "说明",
    "file": "文件",
    "occurred_on": "认定日期",
    "origin": "文件",
    "serious": "信息性质",
}
REQUIRED = ("subject_kind", "category", "polarity", "public", "source", "title", "date")
OUT_OF_SCOPE = "未找到该信用主体，或不在您的管辖范围内"


def _code(value: str, labels: dict[str, str]) -> str | None:
    """An English id or its Chinese label → the id."""
    if value in labels:
        return value
    for key, label in labels.items():
        if value == label:
            return key
    return None


_POLARITY = {**{v: k for k, v in POLARITY_ZH.items()}, "良好": "good", "不良": "bad"}


@dataclass
class CreditImportReport:
    rows: int = 0
    imported: int = 0
    already: int = 0
    problems: list[Problem] = field(default_factory=list)
    committed: bool = False

    def summary(self) -> str:
        bad = len({p.line for p in self.problems})
        head = (
            f"共 {self.rows} 行：导入 {self.imported} 行，已导入过 {self.already} 行，有误 {bad} 行"
        )
        if self.problems:
            head += "；文件有误，未导入任何数据（请修改后重新导入）"
        elif self.rows and self.already == self.rows:
            head += "（此文件以前导入过，未重复导入）"
        return head

    def to_json(self, filename: str) -> dict[str, Any]:
        return {
            "file": filename, "rows": self.rows, "imported": self.imported,
            "already": self.already, "committed": self.committed, "text": self.summary(),
            "problems": [asdict(p) for p in sorted(self.problems, key=lambda p: p.line)],
        }  # fmt: skip


def _date(text: str) -> date | None:
    match = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text, re.ASCII)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _resolve(
    session: Session, kind: str, row: dict[str, str], secret: str, line: int
) -> tuple[SubjectInfo | None, list[Problem]]:
    key, number = row.get("subject_key", "").strip(), row.get("id_number", "").strip().upper()
    if not key and not number:
        return None, [Problem(line, LABEL["subject_key"], "请填写主体代码或身份证件号码")]
    if number and kind not in INDIVIDUAL_KINDS:
        return None, [Problem(line, LABEL["id_number"], "机构以统一社会信用代码标识，不填证件号码")]
    if not key:
        if not number.isascii():
            return None, [Problem(line, LABEL["id_number"], "证件号码应为字母或数字")]
        digest = id_digest(number, secret)
        if kind == "practitioner":
            found = session.exec(
                select(Practitioner.national_code).where(Practitioner.id_digest == digest)
            ).first()
            key = found or ""
        if not key:
            key = (
                session.exec(
                    select(CreditSubject.subject_key)
                    .where(CreditSubject.subject_kind == kind)
                    .where(CreditSubject.document_digest == digest)
                ).first()
                or ""
            )
        if not key:
            return None, [Problem(line, LABEL["id_number"], OUT_OF_SCOPE)]
    elif kind in ("designated_hospital", "designated_pharmacy"):
        by_credit_code = session.exec(
            select(Institution.code).where(Institution.credit_code == key.upper())
        ).first()
        key = by_credit_code or key
    try:
        return subject(session, kind, key), []
    except NotFound:
        column = (
            LABEL["id_number"] if number and not row.get("subject_key") else LABEL["subject_key"]
        )
        return None, [Problem(line, column, OUT_OF_SCOPE)]


def import_items(
    engine: Engine,
    path: Path,
    *,
    actor: str,
    at: datetime,
    secret: str,
    sees: Callable[[SubjectInfo], bool] | None = None,
    progress: Callable[[int], None] | None = None,
) -> CreditImportReport:
    """Import a file of credit items: all or nothing, each row once (origin per line)."""
    content = path.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    report = CreditImportReport()
    act = Act(actor, at, f"导入其他部门信用信息 {path.name}")
    with session_scope(engine, write=True) as session:
        try:
            rows = list(read_rows(path, content, COLUMNS))
        except ServiceError as exc:
            report.problems.append(Problem(0, LABEL.get(exc.field, exc.field), exc.message))
            return report
        present = {key for _line, row in rows for key in row}
        missing = [LABEL[k] for k in REQUIRED if k not in present]
        if "subject_key" not in present and "id_number" not in present:
            missing.append(f"{LABEL['subject_key']}或{LABEL['id_number']}")
        if rows and missing:
            report.problems.append(Problem(1, "表头", f"缺少必填列：{'、'.join(missing)}"))
            report.rows = len(rows)
            return report
        origins = [f"import:{digest}:{line}" for line, _ in rows]
        done = set(
            session.exec(select(CreditItem.origin).where(col(CreditItem.origin).in_(origins)))
        ) if origins else set()  # fmt: skip
        for line, row in rows:
            report.rows += 1
            problems = _row(session, act, line, row, digest, secret, sees, done, report)
            report.problems += problems
            if progress is not None:
                progress(1)
        if report.problems:
            session.rollback()
            report.imported = 0
            return report
        report.committed = True
    return report


def _row(
    session: Session,
    act: Act,
    line: int,
    row: dict[str, str],
    digest: str,
    secret: str,
    sees: Callable[[SubjectInfo], bool] | None,
    done: set[str | None],
    report: CreditImportReport,
) -> list[Problem]:
    problems = [Problem(line, LABEL[k], "必填") for k in REQUIRED if not row.get(k, "").strip()]
    kind = _code(row.get("subject_kind", "").strip(), KIND_ZH)
    if row.get("subject_kind") and kind is None:
        problems.append(Problem(line, LABEL["subject_kind"], "应为第三条所列信用主体类型之一"))
    category = _code(row.get("category", "").strip(), CATEGORY_ZH)
    if row.get("category") and category is None:
        problems.append(Problem(line, LABEL["category"], "应为第十四条所列十二类信息之一"))
    polarity = _POLARITY.get(row.get("polarity", "").strip(), row.get("polarity", "").strip())
    if row.get("polarity") and polarity not in POLARITY_ZH:
        problems.append(Problem(line, LABEL["polarity"], "应填“良好”或“不良”"))
    public_text = row.get("public", "").strip().lower()
    if public_text and public_text not in YES | NO:
        problems.append(Problem(line, LABEL["public"], f"应填“是”或“否”，而不是“{public_text}”"))
    source = _code(row.get("source", "").strip(), SOURCE_ZH)
    if row.get("source") and source is None:
        problems.append(Problem(line, LABEL["source"], "应为第十六条所列信息来源之一"))
    day = _date(row.get("date", "").strip()) if row.get("date") else None
    if row.get("date") and day is None:
        problems.append(Problem(line, LABEL["date"], f"日期“{row['date']}”应写作 YYYY-MM-DD"))
    elif day is not None and day > act.at.date():
        problems.append(Problem(line, LABEL["date"], "不能晚于导入当天"))
    found = None
    if kind is not None:
        found, trouble = _resolve(session, kind, row, secret, line)
        if found is not None and sees is not None and not sees(found):
            found, trouble = None, [Problem(line, LABEL["subject_key"], OUT_OF_SCOPE)]
        problems += trouble
    if problems or found is None or day is None:
        return problems
    origin = f"import:{digest}:{line}"
    if origin in done:
        report.already += 1
        return []
    try:
        record_item(
            session, act, subject_kind=found.kind, subject_key=found.key,
            category=category or "", polarity=polarity, public=public_text in YES,
            source=source or "", title=row.get("title", ""), occurred_on=day,
            detail=row.get("detail", ""), source_unit=row.get("source_unit", ""), origin=origin,
        )  # fmt: skip
    except ServiceError as exc:
        return [Problem(line, LABEL.get(exc.field, exc.field), exc.message)]
    report.imported += 1
    return []


# --- as a background job ------------------------------------------------------------------


def save_upload(folder: Path, filename: str, content: bytes) -> Path:
    name = Path(filename.replace("\\", "/")).name.strip() or "import.csv"
    if Path(name).suffix.lower() not in (".csv", ".xlsx", ".xlsm"):
        raise ServiceError("file", "请上传 CSV 或 XLSX 格式的信用信息文件")
    return jobs.save_upload(folder, name, content, False).path


def run_import(
    engine: Engine,
    job_id: int,
    path: Path,
    *,
    actor: str,
    secret: str,
    sees: Callable[[SubjectInfo], bool] | None,
) -> threading.Thread:
    """Import in a background thread; the job row says how far it got and what came of it."""
    thread = threading.Thread(
        target=_job, args=(engine, job_id, path, actor, secret, sees),
        name=f"credit-import-{job_id}", daemon=True,
    )  # fmt: skip
    thread.start()
    return thread


def _job(
    engine: Engine,
    job_id: int,
    path: Path,
    actor: str,
    secret: str,
    sees: Callable[[SubjectInfo], bool] | None,
) -> None:
    try:
        try:
            total = sum(1 for _ in read_rows(path, path.read_bytes(), COLUMNS))
        except ServiceError:
            total = 0
        jobs.advance(engine, job_id, 0, total)
        report = import_items(
            engine, path, actor=actor, at=datetime.now(UTC), secret=secret, sees=sees,
            progress=jobs.Progress(engine, job_id, total),
        )  # fmt: skip
        jobs.finish(engine, job_id, report.to_json(path.name))
    except Exception as exc:
        log.exception("credit import job %s failed", job_id)
        message = exc.message if isinstance(exc, ServiceError) else "导入中断：服务器内部错误"
        jobs.finish(engine, job_id, {"error": message, "file": path.name}, ok=False)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
