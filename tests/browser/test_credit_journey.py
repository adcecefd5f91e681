"""A credit officer on a phone: log in → record the health commission's opinion on a
hospital (Hunan-Credit Art. 21) → preview last year → commit it (the htmx progress view
finishes) → publish → an A-grade institution's record shows its grade, score and measures → the
public A-grade list names it (Art. 22, 31(1)). Screenshots at 390 px in test-artifacts/."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from portal.clock import china_today
from portal.db import make_engine, session_scope, upgrade
from portal.models import AgreementAction, Decision, Institution, Registration, table
from portal.services import credit_evaluation as credit
from portal.services.accounts import create_account
from portal.services.demo import generate
from portal.services.registry import Act
from portal.services.verify import refresh_statuses
from tests.browser.conftest import ARTIFACTS, CHROMIUM, PORTAL, _free_port
from tests.portal.conftest import SECRET

pytestmark = pytest.mark.asyncio(loop_scope="session")
PHONE = {"width": 390, "height": 844}
CREDIT_OFFICER = ("xinyong", "Credit-Officer-Pass-42")


def _clean_institution(engine: Any, year: int) -> tuple[str, str, str, int, str]:
    """A hospital (else a pharmacy: the demo's hospitals are all punished) with a full
    year of fund use, no penalty and at most one agreement action in ``year``: (code, name,
    kind, expected score, a hospital to consult). With the three bonus indicators (30
    points) it scores 100, or 90 after one agreement action (−10): grade A either way."""
    places, regs = table(Institution), table(Registration)
    decisions, actions = table(Decision), table(AgreementAction)
    in_year = decisions.c.decision_date.between(date(year, 1, 1), date(year, 12, 31))
    with engine.connect() as conn:
        penalised = select(decisions.c.institution_id).where(
            in_year, decisions.c.decision_type == "administrative_penalty",
            decisions.c.institution_id.is_not(None),
        )  # fmt: skip
        breaches = (
            select(func.count())
            .where(decisions.c.institution_id == places.c.id, in_year)
            .where(decisions.c.decision_type == "agreement_action")
            .scalar_subquery()
        )
        acted = select(actions.c.institution_id).where(actions.c.institution_id.is_not(None))
        found = conn.execute(
            select(places.c.code, places.c.name, places.c.kind, breaches)
            .join(regs, regs.c.institution_id == places.c.id)
            .where(places.c.kind.in_(("hospital", "pharmacy")))
            .where(places.c.id.not_in(penalised))
            .where(places.c.id.not_in(acted))
            .where(breaches <= 1)
            .group_by(places.c.id, places.c.code, places.c.name, places.c.kind)
            .having(func.min(regs.c.registered_on) <= date(year, 1, 31))  # fund use all year
            .order_by(places.c.kind, breaches, places.c.id)
            .limit(1)
        ).one()
        hospital = conn.execute(
            select(places.c.code).where(places.c.kind == "hospital").order_by(places.c.id)
        ).scalar()
    code, name, kind, n = found
    return code, name, kind, 100 - 10 * int(n), code if kind == "hospital" else hospital


@pytest.fixture(scope="module")
def credit_site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str, str, int, str]]:
    """Its own portal (its results must not leak into the other journeys): 3,000 demo
    practitioners, a credit officer of Hunan (region 43), one institution with three bonus
    indicators recorded for last year. Yields (base URL, its code, name, expected score, a
    hospital to consult)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make test installs it)")
    year = china_today().year - 1
    url = f"sqlite:///{tmp_path_factory.mktemp('credit') / 'site.db'}"
    engine = make_engine(url)
    upgrade(engine, SECRET)
    generate(engine, 3000, seed=7, as_of=china_today(), secret=SECRET)
    refresh_statuses(engine, china_today())
    code, name, kind, score, hospital = _clean_institution(engine, year)
    act = Act("setup", datetime.now(UTC), "浏览器测试")
    with session_scope(engine, write=True) as session:
        create_account(session, act, username=CREDIT_OFFICER[0], role="credit_officer",
                       password=CREDIT_OFFICER[1], region="43", display_name="辛勇")  # fmt: skip
        for indicator in ("commitment_kept", "commendation", "assists_supervision"):
            credit.record_fact(session, act, year, credit.KIND_OF_INSTITUTION[kind], code,
                               indicator)  # fmt: skip
    engine.dispose()
    port = _free_port()
    proc = subprocess.Popen(
        [str(PORTAL), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "DATABASE_URL": url, "PORTAL_SECRET": SECRET},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    yield base, code, name, score, hospital
    proc.terminate()
    proc.wait(timeout=10)


async def _run_year(page: Any, site: str, year: int, action: str) -> str:
    """Submit the year form with ``action``; for a preview or a commit, wait until the
    progress view has finished polling; the text of the result."""
    await page.goto(site + "/admin/credit/evaluations")
    await page.fill("#e-year", str(year))
    await page.select_option("#e-action", action)
    await page.click("form[action='/admin/credit/evaluations'] button[type=submit]")
    if action == "publish":
        await page.get_by_text("已发布").first.wait_for()
        return str(await page.inner_text("main"))
    await page.wait_for_url("**/admin/credit/evaluations/jobs/*")
    done = "预览完成" if action == "preview" else "已提交"
    section = page.locator("section[id^=job-]")
    await section.get_by_text(done).wait_for(timeout=60_000)  # htmx polled to the end
    assert await section.get_attribute("hx-trigger") is None  # polling stopped
    return str(await section.inner_text())


async def test_credit_officer_previews_commits_publishes_and_sees_the_grade(
    browser: Any, credit_site: tuple[str, str, str, int, str]
) -> None:
    site, code, name, score, hospital = credit_site
    year = china_today().year - 1
    page = await browser.new_page(viewport=PHONE, locale="zh-CN")
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    await page.goto(site + "/admin/")
    await page.fill("#username", CREDIT_OFFICER[0])
    await page.fill("#password", CREDIT_OFFICER[1])
    await page.click("button[type=submit]")
    await page.wait_for_url(site + "/admin")

    await page.goto(site + "/admin/credit/evaluations")
    assert "尚无年度信用评价" in await page.inner_text("main")
    await page.fill("#c-year", str(year))
    await page.fill("#c-code", hospital)
    await page.fill("#c-opinion", "经征求，卫生健康部门无不同意见。")
    await page.click("form[action='/admin/credit/consultations'] button[type=submit]")
    await page.wait_for_load_state()
    assert page.url.startswith(site + "/admin/credit/evaluations")

    previewed = await _run_year(page, site, year, "preview")
    assert "预览完成（未保存结果）" in previewed and "A 级 1" in previewed
    await page.screenshot(path=str(ARTIFACTS / "credit-preview-phone.png"), full_page=True)

    committed = await _run_year(page, site, year, "commit")
    assert f"{year} 年度" in committed and "新写入" in committed and "A 级 1" in committed
    await page.screenshot(path=str(ARTIFACTS / "credit-commit-phone.png"), full_page=True)

    published = await _run_year(page, site, year, "publish")
    assert f"{year} 年度 43：已发布" in published
    await page.screenshot(path=str(ARTIFACTS / "credit-evaluations-phone.png"), full_page=True)

    await page.goto(site + f"/admin/institutions/{code}")
    record = await page.inner_text("#credit")
    assert "A 级" in record and f"{score} 分" in record and "已发布" in record
    assert "在医疗保障部门官方网站公示、宣传" in record  # Art. 31(1), a measure of grade A
    await page.locator("#credit").screenshot(path=str(ARTIFACTS / "credit-record-phone.png"))

    public = await browser.new_page(viewport=PHONE, locale="zh-CN")
    await public.goto(site + "/credit/a-grade")
    listed = await public.inner_text("main")
    assert f"{year} 年度" in listed and name in listed and code in listed
    await public.screenshot(path=str(ARTIFACTS / "credit-a-grade-phone.png"), full_page=True)
    assert refused == [], refused
