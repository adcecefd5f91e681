"""Bulk import of registrations from CSV or XLSX with the columns of National-Procedure
Annex 2 (定点医药机构相关人员登记备案表).

Every bad row is reported with its line and column. A file is all or nothing unless the
officer asks for the good rows; the same file twice imports nothing twice (rows already
registered are recognised and skipped).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from portal.db import session_scope
from portal.identifiers import IdentifierError, check_resident_id
from portal.models import ImportBatch, Registration
from portal.services.errors import ServiceError
from portal.services.registrations import register
from portal.services.registry import (
    Act,
    create_practitioner,
    find_by_id_number,
    get_institution,
    get_practitioner,
    reenter_id_number,
)

# Annex 2 column → our field; English names are accepted too.
COLUMNS: dict[str, str] = {
    "姓名": "name",
    "医保代码": "national_code",
    "医保相关人员代码": "national_code",
    "身份证件号码": "id_number",
    "身份证号": "id_number",
    "出生日期": "birth",
    "性别": "gender",
    "联系电话": "phone",
    "医药机构名称": "institution_name",
    "医药机构代码": "institution_code",
    "医保区划": "region",
    "执业类型": "practice_type",
    "执业类别": "category",
    "执业范围": "scope",
    "专业技术职务": "title",
    "登记备案状态": "status",
    "服务承诺签订": "commitment",
    "承诺签订日期": "commitment_date",
    "登记备案日期": "registered_on",
    "主要负责人": "principal",
    "多点执业": "multi_site",
}
REQUIRED = ("name", "national_code", "id_number", "institution_code", "commitment", "registered_on")
LABEL = {field: label for label, field in reversed(list(COLUMNS.items()))} | {
    "commitment_signed_on": "服务承诺签订",
    "institution_name": "医药机构名称",
    "file": "文件",
}
YES = {"是", "yes", "y", "true", "1", "☑", "√"}
NO = {"否", "no", "n", "false", "0", ""}


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    already: int = 0
    problems: list[Problem] = field(default_factory=list)
    committed: bool = False
    repeated_file: bool = False

    def summary(self) -> str:
        bad = len({p.line for p in self.problems})
        head = (
            f"共 {self.rows} 行：导入 {self.imported} 行，已存在 {self.already} 行，有误 {bad} 行"
        )
        if self.repeated_file:
            head += "（此文件以前导入过）"
        if self.problems and not self.committed:
            head += "；文件有误，未导入任何数据（可修改后重新导入，或选择只导入正确的行）"
        return head


def read_rows(
    path: Path, content: bytes, columns: dict[str, str] | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, {field: text}) for every data row; the header names the columns (``columns``:
    header → field, Annex 2's by default; other imports pass their own)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException…
            raise ServiceError(
                "file", "无法读取该 Excel 文件，请确认是 .xlsx 格式且未损坏"
            ) from exc
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [str(c or "").strip() for c in next(rows, ())]
        for n, values in enumerate(rows, start=2):
            if values and any(v not in (None, "") for v in values):
                yield n, _by_field(header, [_cell(v) for v in values], columns)
        return
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ServiceError("file", "无法识别文件编码，请另存为 UTF-8 的 CSV 或 XLSX")
    reader = csv.reader(io.StringIO(text))
    header = [c.strip() for c in next(reader, [])]
    for values in reader:
        if any(v.strip() for v in values):
            yield reader.line_num, _by_field(header, values, columns)


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value).strip()


def _by_field(
    header: list[str], values: list[str], columns: dict[str, str] | None = None
) -> dict[str, str]:
    row: dict[str, str] = {}
    for name, value in zip(header, values, strict=False):
        key = (COLUMNS if columns is None else columns).get(name, name)
        row[key] = value.strip()
    return row


def _date(row: dict[str, str], key: str, problems: list[Problem], line: int) -> date | None:
    text = row.get(key, "").replace("/", "-").replace(".", "-")
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text, re.ASCII)
    try:
        if match is None:
            raise ValueError(text)
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        problems.append(Problem(line, LABEL.get(key, key), f"日期“{text}”应写作 YYYY-MM-DD"))
        return None


def _flag(row: dict[str, str], key: str, problems: list[Problem], line: int) -> bool:
    text = row.get(key, "").strip().lower()
    if text in YES:
        return True
    if text not in NO:
        problems.append(Problem(line, LABEL.get(key, key), f"应填“是”或“否”，而不是“{text}”"))
    return False


def _check_row(line: int, row: dict[str, str]) -> tuple[list[Problem], dict[str, Any]]:
    """Everything that can be checked without the database."""
    problems: list[Problem] = []
    for key in REQUIRED:
        if not row.get(key):
            problems.append(Problem(line, LABEL[key], "必填"))
    values: dict[str, Any] = {}
    if row.get("id_number"):
        try:
            resident = check_resident_id(row["id_number"])
            values["resident"] = resident
            born = [int(n) for n in re.findall(r"\d+", row.get("birth", ""), re.ASCII)][:3]
            actual = [resident.birth_date.year, resident.birth_date.month, resident.birth_date.day]
            if born and born != actual[: len(born)]:
                problems.append(Problem(line, "出生日期", "与身份证件号码不一致"))
            gender = {"男": "male", "女": "female"}.get(
                row.get("gender", ""), row.get("gender", "")
            )
            if gender and gender != resident.gender:
                problems.append(Problem(line, "性别", "与身份证件号码不一致"))
        except IdentifierError as exc:
            problems.append(Problem(line, LABEL["id_number"], str(exc)))
    commitment = row.get("commitment", "").strip().lower()
    if commitment and commitment in NO:
        message = "未签订服务承诺，不得登记备案（经办规程第二十一条）"
        problems.append(Problem(line, LABEL["commitment"], message))
    elif commitment:
        _flag(row, "commitment", problems, line)
    values["registered_on"] = _date(row, "registered_on", problems, line)
    values["commitment_date"] = _date(row, "commitment_date", problems, line)
    values["principal"] = _flag(row, "principal", problems, line)
    values["multi_site"] = _flag(row, "multi_site", problems, line)
    return problems, values


def import_registrations(
    engine: Engine,
    path: Path,
    *,
    actor: str,
    at: datetime,
    secret: str,
    good_rows: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    content = path.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    report = ImportReport()
    act = Act(actor, at, f"批量导入 {path.name}")
    with session_scope(engine, write=True) as session:
        report.repeated_file = (
            session.exec(select(ImportBatch.id).where(ImportBatch.file_sha256 == digest)).first()
            is not None
        )
        try:
            rows = list(read_rows(path, content))
        except ServiceError as exc:
            report.problems.append(Problem(0, LABEL.get(exc.field, exc.field), exc.message))
            return report
        present = {key for _line, row in rows for key in row}
        missing = [LABEL[key] for key in REQUIRED if key not in present]
        if rows and missing:
            message = f"缺少必填列：{'、'.join(missing)}（请使用登记备案表的列名）"
            report.problems.append(Problem(1, "表头", message))
            report.rows = len(rows)
            return report
        for line, row in rows:
            report.rows += 1
            problems, values = _check_row(line, row)
            if values.get("registered_on") and values["registered_on"] > at.date():
                problems.append(Problem(line, "登记备案日期", "不能晚于导入当天"))
            if not problems:
                savepoint = session.begin_nested()
                try:
                    if _import_row(session, act, row, values, secret):
                        report.imported += 1
                    else:
                        report.already += 1
                    savepoint.commit()
                except ServiceError as exc:
                    savepoint.rollback()
                    problems.append(Problem(line, LABEL.get(exc.field, exc.field), exc.message))
            report.problems += problems
            if progress is not None:
                progress(1)
        if report.problems and not good_rows:
            session.rollback()
            report.imported = 0
            return report
        session.add(
            ImportBatch(
                file_sha256=digest,
                filename=path.name[:200],
                rows=report.rows,
                imported=report.imported,
                at=at,
                actor=actor,
            )
        )
        report.committed = True
    return report


def _import_row(
    session: Session, act: Act, row: dict[str, str], values: dict[str, Any], secret: str
) -> bool:
    """One row; False when the registration is already there (a repeated import)."""
    institution = get_institution(session, row["institution_code"])
    if row.get("institution_name") and row["institution_name"] != institution.name:
        raise ServiceError("institution_name", f"与机构代码不符（系统中为“{institution.name}”）")
    resident = values["resident"]
    try:
        person = get_practitioner(session, row["national_code"])
        if not person.id_reentry:
            known = find_by_id_number(session, resident.number, secret)
            if known is None or known.id != person.id:
                raise ServiceError("id_number", "与该医保代码已登记的身份证件号码不一致")
        if row["name"] != person.name:
            raise ServiceError("name", f"与该医保代码已登记的姓名（{person.name}）不一致")
        if person.id_reentry:  # recorded before sealing: this import stores it (0005)
            reenter_id_number(session, act, person, resident.number, secret, row.get("phone", ""))
    except ServiceError as exc:
        if exc.code != "not_found":
            raise
        person = create_practitioner(
            session, act, national_code=row["national_code"], name=row["name"],
            id_number=resident.number, secret=secret, category=row.get("category", ""),
            scope=row.get("scope", ""), title=row.get("title", ""), phone=row.get("phone", ""),
        )  # fmt: skip
    existing = session.exec(
        select(Registration.id)
        .where(Registration.practitioner_id == person.id)
        .where(Registration.institution_id == institution.id)
        .where(Registration.registered_on == values["registered_on"])
    ).first()
    if existing is not None:
        return False
    register(
        session, act, national_code=person.national_code, institution_code=institution.code,
        registered_on=values["registered_on"],
        commitment_signed_on=values["commitment_date"] or values["registered_on"],
        principal=values["principal"], multi_site=values["multi_site"],
    )  # fmt: skip
    return True
