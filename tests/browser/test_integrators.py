"""What an integrator sees in a real browser: the embed card sizes its frame to itself (a
two-line card is no longer clipped at 96 px), and the API reference loads with every
request kept on the portal (no CDN: offline or behind a firewall it still renders)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _suspended_code(page: Any, site: str) -> str:
    await page.goto(f"{site}/disclosures?status=suspended")
    href: str = await page.locator("table a").first.get_attribute("href")
    return href.rsplit("/", 1)[1]


async def test_the_embed_card_resizes_its_frame_to_its_content(
    browser: Any, site: str, hospital_page: Any
) -> None:
    page = await browser.new_page(viewport={"width": 280, "height": 700})  # a narrow column
    code = await _suspended_code(page, site)
    await page.goto(hospital_page(code))
    frame = page.locator("iframe[title='医保支付资格']")
    await frame.wait_for()
    await page.frame_locator("iframe[title='医保支付资格']").locator("text=暂停").first.wait_for()
    await page.wait_for_function(
        "() => document.querySelector('iframe').style.height !== '96px'", timeout=10_000
    )
    inner = (
        await page.frame_locator("iframe")
        .locator("html")
        .evaluate("el => Math.ceil(el.getBoundingClientRect().height)")
    )
    outer = await frame.evaluate("el => Math.round(el.getBoundingClientRect().height)")
    assert outer >= inner > 0 and abs(outer - inner) <= 2  # the frame is the card's height
    await page.screenshot(path=str(ARTIFACTS / "embed-resized.png"), full_page=True)


async def test_the_api_reference_loads_with_nothing_from_outside(browser: Any, site: str) -> None:
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    outside: list[str] = []

    async def only_the_portal(route: Any) -> None:
        if route.request.url.startswith(site):
            await route.continue_()
        else:  # as behind a firewall: anything else fails
            outside.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_the_portal)
    page = await context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    await page.goto(site + "/docs/api")
    await page.get_by_text("/api/v1/status:batch").first.wait_for(timeout=20_000)
    assert await page.get_by_text("/api/v1/receipts").count() > 0
    await page.screenshot(path=str(ARTIFACTS / "docs-api.png"))
    # Redoc's own "by Redocly" logo points at its CDN: the page's CSP refuses it before any
    # request leaves, which is the point. Nothing else may be refused or go outside.
    assert outside == []
    assert [r for r in refused if "cdn.redoc.ly/redoc/logo-mini.svg" not in r] == []
    await page.goto(site + "/docs")
    assert "接入说明" in await page.inner_text("main")
    await context.close()
