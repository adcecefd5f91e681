"""An officer on a laptop: log in → record a case → see the preview → save → issue and
print the notice; the PDF rendered to PNG (pdftoppm) lands in test-artifacts/."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
from sqlalchemy import select

from portal.clock import china_today
from portal.db import make_engine
from portal.models import Institution, Practitioner, Registration, table
from tests.browser.conftest import ARTIFACTS, OFFICER

pytestmark = pytest.mark.asyncio(loop_scope="session")
LAPTOP = {"width": 1280, "height": 900}


def _normal_doctor(url: str) -> tuple[str, str]:
    """A doctor registered, normal, at one hospital (code, hospital code)."""
    engine = make_engine(url)
    people, regs, places = table(Practitioner), table(Registration), table(Institution)
    with engine.connect() as conn:
        code, hospital = conn.execute(
            select(people.c.national_code, places.c.code)
            .join(regs, regs.c.practitioner_id == people.c.id)
            .join(places, places.c.id == regs.c.institution_id)
            .where(regs.c.status == "normal", people.c.practice_type == "doctor")
            .where(places.c.kind == "hospital")
            .limit(1)
        ).one()
    engine.dispose()
    return code, hospital


async def test_record_a_case_see_the_preview_save_and_print_the_notice(
    browser: Any, site: str, site_db: str
) -> None:
    code, hospital = _normal_doctor(site_db)
    page = await browser.new_page(viewport=LAPTOP, locale="zh-CN")
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    await page.goto(site + "/admin/")
    assert "/admin/login" in page.url  # not signed in: to the login page
    await page.fill("#username", OFFICER[0])
    await page.fill("#password", OFFICER[1])
    await page.click("button[type=submit]")
    await page.wait_for_url(site + "/admin")
    assert "待办事项" in await page.inner_text("main")

    await page.goto(site + f"/admin/cases/new?code={code}")
    await page.select_option("#institution_code", hospital)
    await page.fill("#legal_basis", "服务协议第三十八条")
    await page.fill("#document_no", "湘医保协〔2026〕901号")
    await page.fill("#decision_date", china_today().isoformat())
    await page.fill("#p0_points", "10")  # the preview follows the typing (htmx)
    await page.locator("#preview").get_by_text("本次记分").wait_for()
    preview = await page.inner_text("#preview")
    assert "10" in preview and "暂停" in preview
    await page.screenshot(path=str(ARTIFACTS / "admin-case-preview.png"), full_page=True)

    await page.click("#case-form button[type=submit]")
    await page.wait_for_url("**/admin/cases/*")
    assert "湘医保协〔2026〕901号" in await page.inner_text("main")
    await page.click("text=出具通知书")
    await page.wait_for_url("**/notices/new*")
    await page.fill("#document_no", "长医保通〔2026〕901号")
    await page.click("button[value=issue]")
    await page.wait_for_url("**/admin/notices/*")
    notice_url = page.url
    text = await page.inner_text("main")
    assert "处理通知书" in text and "长医保通〔2026〕901号" in text
    await page.emulate_media(media="print")
    await page.screenshot(path=str(ARTIFACTS / "admin-notice-print.png"), full_page=True)

    pdf = await page.request.get(notice_url + "/notice.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    body = await pdf.body()
    assert body.startswith(b"%PDF")
    (ARTIFACTS / "admin-notice.pdf").write_bytes(body)
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-singlefile", str(ARTIFACTS / "admin-notice.pdf"),
             str(ARTIFACTS / "admin-notice")],
            check=True,
        )  # fmt: skip
        assert (ARTIFACTS / "admin-notice.png").stat().st_size > 10_000
    assert refused == [], refused
