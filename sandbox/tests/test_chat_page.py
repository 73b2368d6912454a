"""The chat page and what every response carries: a strict CSP on the page, security
headers everywhere, and a 413 for bodies over 1 MiB."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sandbox.testing import RunningSandbox
from shared import sandbox_defaults

MIB = 1024 * 1024


async def test_the_chat_page_is_html_with_the_send_form_and_a_self_only_csp(
    sandbox: RunningSandbox,
) -> None:
    page = await sandbox.http.get("/")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<form class="composer">' in page.text
    assert '<script src="/static/chat.js"></script>' in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp
    assert "<script>" not in page.text and "style=" not in page.text


async def test_the_chat_script_treats_bodies_as_text_and_talks_only_to_the_sandbox(
    sandbox: RunningSandbox,
) -> None:
    script = await sandbox.http.get("/static/chat.js")

    assert script.status_code == 200
    assert "textContent" in script.text
    assert "innerHTML" not in script.text and "insertAdjacentHTML" not in script.text
    assert "/sandbox/twilio/inbound" in script.text
    assert "/sandbox/conversations/" in script.text
    style = await sandbox.http.get("/static/chat.css")
    assert "white-space: pre-wrap" in style.text


async def test_every_response_carries_the_security_headers(sandbox: RunningSandbox) -> None:
    for response in (
        await sandbox.http.get("/"),
        await sandbox.http.get("/sandbox/twilio/messages"),
        await sandbox.http.get("/static/chat.js"),
        await sandbox.http.get("/no-such-page"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"


async def test_a_body_over_1_mib_is_refused_with_413(sandbox: RunningSandbox) -> None:
    declared = await sandbox.http.post("/sandbox/twilio/inbound", content=b"x" * (MIB + 1))

    async def undeclared_chunks() -> AsyncIterator[bytes]:
        for _ in range(17):
            yield b"x" * (64 * 1024)

    streamed = await sandbox.http.post("/sandbox/twilio/inbound", content=undeclared_chunks())
    account, token = sandbox_defaults.TWILIO_ACCOUNT_SID, sandbox_defaults.TWILIO_AUTH_TOKEN
    create = await sandbox.http.post(
        f"/twilio/2010-04-01/Accounts/{account}/Messages.json",
        content=undeclared_chunks(),
        auth=(account, token),
    )

    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert create.status_code == 413
    assert sandbox.receiver.posts == []


async def test_the_sandbox_reports_itself_healthy(sandbox: RunningSandbox) -> None:
    health = await sandbox.http.get("/health")

    assert (health.status_code, health.json()["status"]) == (200, "ok")
