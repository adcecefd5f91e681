"""Importing registrations from CSV and XLSX (National-Procedure Annex 2 columns)."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from portal.identifiers import make_resident_id
from portal.models import Practitioner, Registration
from portal.services.imports import import_registrations
from tests.portal.conftest import SECRET, Cast

HEADER = ["姓名", "医保代码", "身份证件号码", "出生日期", "性别", "联系电话", "医药机构名称",
          "医药机构代码", "医保区划", "执业类型", "执业类别", "执业范围", "专业技术职务",
          "登记备案状态", "服务承诺签订", "登记备案日期"]  # fmt: skip
AT = datetime(2025, 7, 1, 2, 0, tzinfo=UTC)


def person_row(n: int, cast: Cast, **changes: str) -> list[str]:
    born = date(1985, 1, 1 + n)
    row = {
        "姓名": f"刘{'一二三四五六七八九十'[n]}", "医保代码": f"D43010200{100 + n}",
        "身份证件号码": make_resident_id("430102", born, n, "female"),
        "出生日期": f"{born.year}年{born.month}月", "性别": "女", "联系电话": "13800138000",
        "医药机构名称": "长沙市第一医院", "医药机构代码": cast.hospital_a, "医保区划": "430102",
        "执业类型": "医师", "执业类别": "临床", "执业范围": "内科", "专业技术职务": "主治医师",
        "登记备案状态": "正常", "服务承诺签订": "是", "登记备案日期": "2025-06-01",
    } | changes  # fmt: skip
    return [row[h] for h in HEADER]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows([HEADER, *rows])
    return path


def counts(engine: Engine) -> tuple[int, int]:
    with Session(engine) as s:
        people = s.exec(select(func.count()).select_from(Practitioner)).one()
        regs = s.exec(select(func.count()).select_from(Registration)).one()
    return int(people), int(regs)


def test_a_good_file_imports_and_a_second_time_imports_nothing(
    engine: Engine, cast: Cast, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "登记备案.csv", [person_row(n, cast) for n in range(3)])
    before = counts(engine)
    first = import_registrations(engine, path, actor="admin-li", at=AT, secret=SECRET)
    assert (first.imported, first.problems, first.committed) == (3, [], True)
    assert counts(engine) == (before[0] + 3, before[1] + 3)
    again = import_registrations(engine, path, actor="admin-li", at=AT, secret=SECRET)
    assert (again.imported, again.already, again.repeated_file) == (0, 3, True)
    assert counts(engine) == (before[0] + 3, before[1] + 3)


def test_every_bad_row_is_reported_and_nothing_is_half_imported(
    engine: Engine, cast: Cast, tmp_path: Path
) -> None:
    rows = [
        person_row(0, cast),
        person_row(1, cast, 身份证件号码="430102198501020001"),
        person_row(2, cast, 服务承诺签订="否"),
        person_row(3, cast, 医药机构代码="H43019999999"),
        person_row(4, cast, 登记备案日期="2025/13/01"),
        person_row(5, cast, 性别="男"),
    ]
    path = write_csv(tmp_path / "bad.csv", rows)
    before = counts(engine)
    report = import_registrations(engine, path, actor="admin-li", at=AT, secret=SECRET)
    assert {(p.line, p.column) for p in report.problems} == {
        (3, "身份证件号码"), (4, "服务承诺签订"), (5, "医药机构代码"), (6, "登记备案日期"),
        (7, "性别"),
    }  # fmt: skip
    assert not report.committed and counts(engine) == before
    assert "未导入任何数据" in report.summary()
    chosen = import_registrations(engine, path, actor="admin-li", at=AT, secret=SECRET,
                                  good_rows=True)  # fmt: skip
    assert chosen.imported == 1 and counts(engine) == (before[0] + 1, before[1] + 1)


def test_an_xlsx_file_imports_the_same_way(engine: Engine, cast: Cast, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    row = person_row(6, cast)
    row[HEADER.index("登记备案日期")] = datetime(2025, 6, 2)  # type: ignore[call-overload]
    sheet.append(row)
    path = tmp_path / "登记备案.xlsx"
    book.save(path)
    report = import_registrations(engine, path, actor="admin-li", at=AT, secret=SECRET)
    assert (report.imported, report.problems) == (1, [])
    with Session(engine) as s:
        reg = s.exec(select(Registration).order_by(Registration.id.desc())).first()  # type: ignore[union-attr]
        assert reg is not None and reg.registered_on == date(2025, 6, 2)


def test_a_known_code_with_another_id_number_is_refused(
    engine: Engine, cast: Cast, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "clash.csv", [person_row(7, cast, 医保代码=cast.doctor)])
    report = import_registrations(engine, path, actor="admin-li", at=AT, secret=SECRET)
    assert [p.column for p in report.problems] == ["身份证件号码"]


def test_a_file_without_the_annex_2_columns_is_one_clear_error(
    engine: Engine, cast: Cast, tmp_path: Path
) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("name,code\n刘一,D43010200100\n", encoding="utf-8")
    report = import_registrations(engine, path, actor="admin-li", at=AT, secret=SECRET)
    assert len(report.problems) == 1
    assert report.problems[0].column == "表头" and "医保代码" in report.problems[0].message


def test_a_broken_xlsx_is_a_clear_error(engine: Engine, cast: Cast, tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip file")
    report = import_registrations(engine, path, actor="admin-li", at=AT, secret=SECRET)
    assert [p.column for p in report.problems] == ["文件"]


def test_dates_birth_dates_and_names_are_checked_strictly(
    engine: Engine, cast: Cast, tmp_path: Path
) -> None:
    rows = [
        person_row(0, cast, 登记备案日期="2025-05-03junk"),
        person_row(1, cast, 登记备案日期="2099-01-01"),
        person_row(2, cast, 出生日期="1985-01-27"),
        person_row(
            3,
            cast,
            医保代码=cast.doctor,
            身份证件号码=cast.doctor_id,
            姓名="张三",
            出生日期="1980年5月",
            性别="男",
        ),
    ]
    report = import_registrations(
        engine, write_csv(tmp_path / "strict.csv", rows), actor="admin-li", at=AT, secret=SECRET
    )
    assert {(p.line, p.column) for p in report.problems} == {
        (2, "登记备案日期"),
        (3, "登记备案日期"),
        (4, "出生日期"),
        (5, "姓名"),
    }
