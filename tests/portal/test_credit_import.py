"""Credit information from other departments by CSV or XLSX (Hunan-Credit Art. 14, 16(三)):
every bad row by line and column, all or nothing, the same file twice imports nothing twice."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import Engine
from sqlmodel import Session, select

from portal.credit_models import CreditItem
from portal.identifiers import make_credit_code, make_resident_id
from portal.services import credit_archive as archive
from portal.services import credit_subjects as subjects
from portal.services.credit_import import import_items
from tests.portal.conftest import OFFICER, SECRET, Cast

AT = datetime(2025, 6, 10, 2, 0, tzinfo=UTC)
HEADER = (
    "主体类型,主体代码,身份证件号码,信息类别,信息性质,是否公开,信息来源,提供单位,信息内容,"
    "认定日期,说明"
)
PERSON_ID = make_resident_id("430104", date(1966, 1, 2), 41, "male")


def _write(tmp_path: Path, lines: list[str], name: str = "税务.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def _people(session: Session) -> None:
    subjects.create_subject(session, OFFICER, kind="insured_person", name="钱七",
                            region="430104", number=PERSON_ID, secret=SECRET)  # fmt: skip
    session.commit()


def _items(session: Session) -> list[CreditItem]:
    session.expire_all()
    return list(session.exec(select(CreditItem).where(CreditItem.origin.like("import:%"))))  # type: ignore[union-attr]


def test_a_good_file_imports_once(
    engine: Engine, session: Session, cast: Cast, tmp_path: Path
) -> None:
    _people(session)
    credit_code = make_credit_code("430102", "MB1A00001")  # 长沙市第一医院's credit code
    path = _write(tmp_path, [
        f"定点医疗机构,{credit_code},,司法裁判及执行信息,不良,是,公共信用信息平台等数据共享,"
        "长沙市中级人民法院,欠薪被强制执行,2025-03-02,（2025）湘01执12号",
        "参保人,," + PERSON_ID + ",violation,bad,否,shared_platform,公安局,骗保被处罚,2025/4/1,",
        f"designated_hospital,{cast.hospital_a},,honour,good,是,other,省卫健委,诚信示范,2025-01-01,",
    ])  # fmt: skip
    report = import_items(engine, path, actor="chenjing", at=AT, secret=SECRET)
    assert report.problems == [] and report.committed and report.imported == 3
    views = archive.current_items(session, "designated_hospital", cast.hospital_a)
    assert {v.item.title for v in views} == {"欠薪被强制执行", "诚信示范"}
    judicial = next(v for v in views if v.item.category == "judicial")
    assert judicial.item.public and judicial.item.source_unit == "长沙市中级人民法院"
    again = import_items(engine, path, actor="chenjing", at=AT, secret=SECRET)
    assert (again.imported, again.already) == (0, 3) and "以前导入过" in again.summary()
    assert len(_items(session)) == 3


def test_every_bad_row_by_line_and_column_and_nothing_imported(
    engine: Engine, session: Session, cast: Cast, tmp_path: Path
) -> None:
    path = _write(tmp_path, [
        f"designated_hospital,{cast.hospital_a},,honour,good,是,other,省卫健委,诚信示范,2025-01-01,",
        f"外星机构,{cast.hospital_a},,honour,good,是,other,x,y,2025-01-01,",
        f"designated_hospital,{cast.hospital_a},,八卦,好坏,也许,传闻,x,y,2025-13-01,",
        "designated_hospital,H99999999999,,honour,good,是,other,x,,2025-01-01,",
    ])  # fmt: skip
    report = import_items(engine, path, actor="chenjing", at=AT, secret=SECRET)
    found = {(p.line, p.column) for p in report.problems}
    assert (3, "主体类型") in found
    assert {
        (4, "信息类别"),
        (4, "信息性质"),
        (4, "是否公开"),
        (4, "信息来源"),
        (4, "认定日期"),
    } <= found
    assert {(5, "主体代码"), (5, "信息内容")} <= found
    assert not any(p.line == 2 for p in report.problems)
    assert report.committed is False and report.imported == 0
    assert _items(session) == []  # the good row did not go in either
    assert "未导入任何数据" in report.summary()


def test_outside_the_officers_scope_is_refused_like_an_unknown_subject(
    engine: Engine, session: Session, cast: Cast, tmp_path: Path
) -> None:
    path = _write(tmp_path, [
        f"designated_hospital,{cast.hospital_b},,honour,good,是,other,省卫健委,诚信示范,2025-01-01,",
    ])  # fmt: skip
    report = import_items(engine, path, actor="x", at=AT, secret=SECRET,
                          sees=lambda s: s.region.startswith("430102"))  # fmt: skip
    assert [(p.line, p.column) for p in report.problems] == [(2, "主体代码")]
    assert "管辖范围" in report.problems[0].message


def test_xlsx_with_the_same_columns(
    engine: Engine, session: Session, cast: Cast, tmp_path: Path
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER.split(","))
    row = ["designated_pharmacy", cast.pharmacies[0], None, "abnormal_operation", "bad", "否"]
    sheet.append([*row, "shared_platform", "市场监管局", "列入经营异常名录", date(2025, 2, 3)])
    path = tmp_path / "市场监管.xlsx"
    book.save(path)
    report = import_items(engine, path, actor="x", at=AT, secret=SECRET)
    assert report.imported == 1, report.problems
    [view] = archive.current_items(session, "designated_pharmacy", cast.pharmacies[0])
    assert view.item.occurred_on == date(2025, 2, 3) and view.item.public is False


def test_a_file_missing_a_required_column_is_refused_at_the_header(
    engine: Engine, cast: Cast, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("主体类型,主体代码\ndesignated_hospital,H43010200001\n", encoding="utf-8")
    report = import_items(engine, path, actor="x", at=AT, secret=SECRET)
    assert report.problems[0].line == 1 and "信息类别" in report.problems[0].message
