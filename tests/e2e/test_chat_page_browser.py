"""The sandbox chat page in a real browser (Debian's chromium, headless, driven by
Playwright): a student and a support agent hold a whole support chat side by side."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Locator, Page, async_playwright, expect

from stack.testing import Stack

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Closed network here: no background calls home, no first-run work.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 30_000


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not os.path.exists(CHROMIUM):
        message = "chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI requires it", pytrace=False)
        print(f"\n!!! SKIPPING the browser test: {message} !!!\n")
        pytest.skip(message)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context()
    opened = await context.new_page()
    yield opened
    await context.close()


async def say(pane: Locator, text: str) -> None:
    box = pane.locator("textarea.text")
    await box.fill(text)
    await box.press("Enter")


async def shows(pane: Locator, text: str) -> None:
    await expect(pane.locator("ol.log li", has_text=text).last).to_be_visible(timeout=WAIT_MS)


async def test_a_student_and_an_agent_hold_a_support_chat_on_the_chat_page(
    embedded_stack: Stack, page: Page
) -> None:
    await page.goto(embedded_stack.sandbox + "/")
    panes = page.locator("section.pane")
    await expect(panes).to_have_count(3)
    student, agent = panes.nth(0), panes.nth(2)
    await expect(agent.locator("select.role")).to_have_value("agent")
    # The page registers the agent's phone through the conversation admin API.
    await expect(agent.locator(".note")).to_contain_text("support agent", timeout=WAIT_MS)

    await say(agent, "hi")
    await shows(agent, "Support desk: no open tickets")
    await say(student, "hi")
    await shows(student, "1. Shop study packs")
    await say(student, "3")
    await shows(student, "describe the problem")
    await say(student, "I paid but got no pack")
    await shows(student, "Send END")
    await shows(agent, "I paid but got no pack")

    await say(agent, "hi")
    await shows(agent, "1. TCK-")
    await say(agent, "1")
    await shows(agent, "goes to the student")
    await say(agent, "Found it, resending now")
    await shows(student, "Support: Found it, resending now")
    await say(student, "end")
    await shows(student, "closed")
    # What the person typed is shown as text, never run as markup.
    await say(student, "<img src=x onerror=alert(1)>")
    await shows(student, "<img src=x onerror=alert(1)>")
    assert await page.locator("ol.log img").count() == 0
