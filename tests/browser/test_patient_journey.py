"""A patient on a phone: search → the doctor's page; a hospital page shows the live badge."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.asyncio(loop_scope="session")
PHONE = {"width": 390, "height": 844}


async def _suspended_code(page: Any, site: str) -> str:
    await page.goto(f"{site}/disclosures?status=suspended")
    link = page.locator("table a").first
    href: str = await link.get_attribute("href")
    return href.rsplit("/", 1)[1]


async def test_search_then_the_doctor_s_page_in_two_taps(browser: Any, site: str) -> None:
    page = await browser.new_page(viewport=PHONE, locale="zh-CN")
    code = await _suspended_code(page, site)
    await page.goto(site + "/")
    await page.fill("#q", code)  # live results arrive without pressing 查询 (htmx)
    result = page.locator("#results a").first
    await result.wait_for()
    assert "暂停" in await page.inner_text("#results")
    await page.screenshot(path=str(ARTIFACTS / "search.png"), full_page=True)
    await result.click()  # tap 2
    await page.wait_for_url(f"**/practitioners/{code}")
    text = await page.inner_text("main")
    assert "暂停" in text and "自费" in text
    await page.screenshot(path=str(ARTIFACTS / "practitioner.png"), full_page=True)


async def test_search_works_without_javascript(browser: Any, site: str) -> None:
    context = await browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = await context.new_page()
    await page.goto(site + "/")
    await page.fill("#q", "王")
    await page.click("button[type=submit]")
    await page.wait_for_url("**/?q=*")
    assert "找到" in await page.inner_text("#results")
    await context.close()


async def test_a_hospital_page_shows_the_live_badge_and_card(
    browser: Any, site: str, hospital_page: Any
) -> None:
    page = await browser.new_page(viewport={"width": 800, "height": 600})
    code = await _suspended_code(page, site)
    await page.goto(hospital_page(code))
    frame_element = page.locator("iframe[title='医保支付资格']")
    await frame_element.wait_for()
    frame = page.frame_locator("iframe[title='医保支付资格']")
    await frame.locator("text=暂停").first.wait_for()
    width = await page.evaluate("document.getElementById('badge').naturalWidth")
    assert width == 96  # the SVG badge loaded across origins
    await page.screenshot(path=str(ARTIFACTS / "hospital-embed.png"))


async def test_the_pages_satisfy_their_content_security_policy(
    browser: Any, site: str, hospital_page: Any
) -> None:
    """No inline script or style anywhere: the CSP is strict and nothing breaks under it."""
    page = await browser.new_page(viewport=PHONE, locale="zh-CN")
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    code = await _suspended_code(page, site)
    for path in ("/", f"/practitioners/{code}", "/disclosures", "/blacklist", "/about", "/nope"):
        await page.goto(site + path)
    await page.goto(site + "/")
    await page.fill("#q", code)
    await page.locator("#results a").first.wait_for()
    styled = await page.evaluate("getComputedStyle(document.querySelector('header')).color")
    assert styled == "rgb(255, 255, 255)", "the stylesheet applies"
    await page.goto(hospital_page(code))
    frame = page.frame_locator("iframe")
    await frame.locator(".c").wait_for()
    assert refused == [], refused


async def test_search_pages_and_back_returns_to_the_page_of_results(
    browser: Any, site: str
) -> None:
    """A common surname has many pages: 下一页 shows the second (its address follows, htmx
    history), a doctor opens from it, and Back lands on that same second page."""
    page = await browser.new_page(viewport=PHONE, locale="zh-CN")
    await page.goto(site + "/")
    await page.fill("#q", "王")
    await page.locator("#results .pager a[rel=next]").wait_for()
    first_page = await page.inner_text("#results")
    assert "第 1 /" in first_page
    await page.click("#results .pager a[rel=next]")
    await page.wait_for_function("document.querySelector('#results').innerText.includes('第 2 /')")
    await page.wait_for_url("**/?q=*page=2*")
    second: str = await page.locator("#results .card a").first.get_attribute("href")
    assert second.rsplit("/", 1)[1] not in first_page  # other people than page 1's
    colour = await page.eval_on_selector("#results .pager a", "a => getComputedStyle(a).color")
    assert colour != "rgb(255, 255, 255)"  # the pager's links are not the header's white ones
    await page.screenshot(path=str(ARTIFACTS / "search-page-2.png"), full_page=True)
    await page.locator("#results .card a").first.click()
    await page.wait_for_url("**/practitioners/*")
    await page.go_back()
    await page.wait_for_url("**/?q=*page=2*")
    await page.wait_for_function("document.querySelector('#results').innerText.includes('第 2 /')")
    assert await page.locator(f'#results a[href="{second}"]').count() == 1
