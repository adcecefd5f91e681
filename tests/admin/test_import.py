"""Bulk import from the admin: the upload, the background job and its polled progress,
the report of every bad row by line and column, scope, rights, CSRF, double submission."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import UTC, date, datetime
from typing import Any

from litestar.testing import AsyncTestClient
from openpyxl import Workbook
from sqlalchemy import func
from sqlmodel import Session, select

from portal.db import make_engine, session_scope
from portal.identifiers import make_resident_id
from portal.models import Job, Registration
from portal.services import jobs
from portal.services.registry import Act
from tests.admin.conftest import Places, post_form, token_in

HEADER = ["姓名", "医保代码", "身份证件号码", "性别", "医药机构名称", "医药机构代码",
          "服务承诺签订", "登记备案日期"]  # fmt: skip


def row(n: int, institution: str = "H43010200001", **changes: str) -> list[str]:
    values = {
        "姓名": f"刘{'一二三四五六七八九十'[n]}", "医保代码": f"D43010200{100 + n}",
        "身份证件号码": make_resident_id("430102", date(1985, 1, 1 + n), n, "female"),
        "性别": "女", "医药机构名称": "", "医药机构代码": institution, "服务承诺签订": "是",
        "登记备案日期": "2025-06-01",
    } | changes  # fmt: skip
    return [values[h] for h in HEADER]


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    return out.getvalue().encode("utf-8-sig")


def registrations(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        n = int(session.exec(select(func.count()).select_from(Registration)).one())
    engine.dispose()
    return n


def job_count(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        n = int(session.exec(select(func.count()).select_from(Job)).one())
    engine.dispose()
    return n


async def upload(
    site: AsyncTestClient[Any],
    content: bytes,
    name: str = "登记备案.csv",
    good_rows: bool = False,
    token: str | None = None,
    csrf: bool = True,
) -> Any:
    if token is None:
        page = await site.get("/admin/imports")
        assert page.status_code == 200
        token = token_in(page.text)
    data = {"form_token": token, **({"good_rows": "1"} if good_rows else {})}
    if csrf:
        data["_csrf_token"] = str(site.cookies.get("csrftoken"))
    return await site.post(
        "/admin/imports", data=data, files={"file": (name, content, "text/csv")},
        follow_redirects=False,
    )  # fmt: skip


async def finished(site: AsyncTestClient[Any], path: str) -> str:
    """Poll as htmx does until the fragment no longer asks to be polled."""
    for _ in range(200):
        fragment = await site.get(path, headers={"HX-Request": "true"})
        assert fragment.status_code == 200 and "<html" not in fragment.text
        if 'hx-trigger="every 1s"' not in fragment.text:
            return str(fragment.text)
        await asyncio.sleep(0.05)
    raise AssertionError("the import did not finish")


async def test_import_reports_every_bad_row(as_user: Any, admin_url: str) -> None:
    site = await as_user("liming")
    before = registrations(admin_url)
    content = as_csv(
        [
            row(0),
            row(1, 身份证件号码="430102198501020001"),
            row(2, 服务承诺签订="否"),
            row(3, 登记备案日期="2025/13/01"),
            row(4, 性别="男"),
            row(5, institution="H43019999999"),
        ]
    )
    started = await upload(site, content)
    assert started.status_code == 303
    path = started.headers["location"]
    assert re.fullmatch(r"/admin/imports/\d+", path)
    report = await finished(site, path)
    cells = re.findall(r'<td data-label="行号">(\d+)</td><td data-label="列">([^<]+)</td>', report)
    assert set(cells) == {
        ("3", "身份证件号码"), ("4", "服务承诺签订"), ("5", "登记备案日期"), ("6", "性别"),
        ("7", "医药机构代码"),
    }  # fmt: skip
    assert "未导入任何数据" in report and registrations(admin_url) == before
    page = await site.get(path)  # the whole page, as without JavaScript
    assert page.status_code == 200 and "导入完成" in page.text and "<html" in page.text


async def test_import_progress_is_polled_until_done(as_user: Any, admin_url: str) -> None:
    site = await as_user("liming")
    engine = make_engine(admin_url)
    with session_scope(engine, write=True) as session:
        job = jobs.start(session, Act("liming", datetime.now(UTC), "测试"), "import", total=10,
                         note={"file": "大文件.csv"})  # fmt: skip
        job_id = job.id or 0
    jobs.advance(engine, job_id, 3)
    path = f"/admin/imports/{job_id}"
    running = await site.get(path, headers={"HX-Request": "true"})
    assert running.status_code == 200 and "<html" not in running.text
    assert f'hx-get="{path}"' in running.text and 'hx-trigger="every 1s"' in running.text
    assert 'hx-swap="outerHTML"' in running.text and "已处理 3 / 10 行" in running.text
    assert '<progress max="10" value="3">' in running.text
    whole = await site.get(path)  # without JavaScript: the page, with a link to reload
    assert "<html" in whole.text and f'<a href="{path}">刷新查看</a>' in whole.text
    jobs.finish(engine, job_id, {"file": "大文件.csv", "text": "共 10 行：导入 10 行", "rows": 10,
                                 "imported": 10, "already": 0, "problems": []})  # fmt: skip
    engine.dispose()
    done = await site.get(path, headers={"HX-Request": "true"})
    assert "hx-trigger" not in done.text and "导入完成" in done.text  # polling stops
    # And a real upload runs in the background until its fragment stops polling.
    started = await upload(site, as_csv([row(0), row(1)]))
    report = await finished(site, started.headers["location"])
    assert "共 2 行：导入 2 行" in report and registrations(admin_url) == 5


async def test_an_xlsx_file_imports_too(as_user: Any, admin_url: str) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(row(6))
    out = io.BytesIO()
    book.save(out)
    site = await as_user("liming")
    started = await upload(site, out.getvalue(), name="登记备案.xlsx")
    report = await finished(site, started.headers["location"])
    assert "导入 1 行" in report and registrations(admin_url) == 4


async def test_institution_admin_imports_only_its_own(
    as_user: Any, admin_url: str, places: Places
) -> None:
    site = await as_user("liuyang")
    content = as_csv([row(0), row(1, institution=places.yueyang_hospital)])
    report = await finished(site, (await upload(site, content)).headers["location"])
    assert "未找到机构代码 H43060200001，或该机构不在您的管辖范围内" in report
    assert '<td data-label="行号">3</td><td data-label="列">医药机构代码</td>' in report
    assert registrations(admin_url) == 3
    chosen = await upload(site, content, good_rows=True)
    report = await finished(site, chosen.headers["location"])
    assert "导入 1 行" in report and "不在您的管辖范围内" in report
    assert registrations(admin_url) == 4  # its own row only
    book = Workbook()  # the same for a workbook, its line numbers kept
    sheet = book.active
    assert sheet is not None
    for values in (HEADER, row(2), row(3, institution=places.changsha_pharmacy)):
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    started = await upload(site, out.getvalue(), name="药店.xlsx")
    report = await finished(site, started.headers["location"])
    assert '<td data-label="行号">3</td><td data-label="列">医药机构代码</td>' in report
    assert "P43010300001，或该机构不在您的管辖范围内" in report
    assert registrations(admin_url) == 4


async def test_auditor_cannot_post(as_user: Any, admin_url: str) -> None:
    site = await as_user("sunli")
    assert (await site.get("/admin/imports")).status_code == 403
    refused = await upload(site, as_csv([row(0)]), token="t" * 20)
    assert refused.status_code == 403 and registrations(admin_url) == 3


async def test_it_requires_csrf(as_user: Any, admin_url: str) -> None:
    site = await as_user("liming")
    refused = await upload(site, as_csv([row(0)]), csrf=False)
    assert refused.status_code == 403 and job_count(admin_url) == 0


async def test_a_double_submission_imports_once(as_user: Any, admin_url: str) -> None:
    site = await as_user("liming")
    page = await site.get("/admin/imports")
    token = token_in(page.text)
    first = await upload(site, as_csv([row(0)]), token=token)
    second = await upload(site, as_csv([row(0)]), token=token)
    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == first.headers["location"]
    await finished(site, first.headers["location"])
    assert job_count(admin_url) == 1 and registrations(admin_url) == 4


async def test_a_wrong_file_is_refused_on_the_form(as_user: Any) -> None:
    site = await as_user("liming")
    refused = await upload(site, b"hello", name="notes.txt", good_rows=True)
    assert refused.status_code == 400 and "请上传 CSV 或 XLSX" in refused.text
    assert 'name="good_rows" value="1" checked' in refused.text
    empty = await upload(site, b"", name="empty.csv")
    assert empty.status_code == 400 and "上传的文件是空的" in empty.text


async def test_another_officer_s_import_is_404(as_user: Any) -> None:
    site = await as_user("liming")
    started = await upload(site, as_csv([row(0)]))
    path = started.headers["location"]
    await finished(site, path)
    await post_form(site, "/admin/logout", {})
    other = await as_user("zhoumin")
    assert (await other.get(path)).status_code == 404
