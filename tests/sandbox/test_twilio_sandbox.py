"""The sandbox speaks Twilio's Messages API well enough for the real twilio package, and
signs its callbacks and webhooks as Twilio does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from sandbox.app import create_app
from sandbox.settings import SandboxSettings
from shared import sandbox_defaults
from shared.testing import eventually, free_port, running_app


@dataclass
class Receiver:
    """Stands in for the gateway: records what the sandbox posts to it."""

    url: str = ""
    posts: list[tuple[str, dict[str, str], str]] = field(default_factory=list)


@dataclass
class Sandbox:
    url: str
    receiver: Receiver


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    receiver = Receiver()
    gateway = FastAPI()

    @gateway.post("/{path:path}")
    async def record(path: str, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        receiver.posts.append(
            (str(request.url), form, request.headers.get("x-twilio-signature", ""))
        )
        return Response(status_code=200)

    async with running_app(gateway) as gateway_url:
        receiver.url = gateway_url
        settings = SandboxSettings(gateway_url=gateway_url, sandbox_callback_delay=0.01)
        async with running_app(create_app(settings)) as url:
            yield Sandbox(url, receiver)


def twilio_client(base_url: str, token: str = sandbox_defaults.TWILIO_AUTH_TOKEN) -> Client:
    client = Client(sandbox_defaults.TWILIO_ACCOUNT_SID, token)
    client.api.base_url = base_url + "/twilio"
    return client


async def outbound(sandbox: Sandbox, to: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient() as http:
        response = await http.get(sandbox.url + "/sandbox/twilio/messages", params={"to": to})
    return response.json()["messages"]  # type: ignore[no-any-return]


async def test_real_twilio_client_sends_and_the_sandbox_records_it(sandbox: Sandbox) -> None:
    client = twilio_client(sandbox.url)
    message = await asyncio.to_thread(
        client.messages.create,
        to="whatsapp:+2348000000001",
        from_=sandbox_defaults.TWILIO_WHATSAPP_FROM,
        body="Hello from the desk",
    )
    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert message.status == "queued"
    stored = await outbound(sandbox, "+2348000000001")
    assert [(m["sid"], m["body"]) for m in stored] == [(message.sid, "Hello from the desk")]


async def test_real_twilio_client_lists_a_numbers_messages_newest_first(
    sandbox: Sandbox,
) -> None:
    client = twilio_client(sandbox.url)
    sender = sandbox_defaults.TWILIO_WHATSAPP_FROM
    for to, body in (
        ("+2348000000011", "first"),
        ("+2348000000012", "other"),
        ("+2348000000011", "second"),
    ):
        await asyncio.to_thread(
            client.messages.create, to=f"whatsapp:{to}", from_=sender, body=body
        )
    listed = await asyncio.to_thread(
        client.messages.list, to="whatsapp:+2348000000011", from_=sender, limit=20
    )
    assert [m.body for m in listed] == ["second", "first"]
    assert all(m.date_created is not None and m.sid.startswith("SM") for m in listed)
    assert await asyncio.to_thread(client.messages.list, to="whatsapp:+2348000000013") == []


async def test_wrong_credentials_are_refused_like_twilio(sandbox: Sandbox) -> None:
    client = twilio_client(sandbox.url, token="wrong")
    with pytest.raises(TwilioRestException) as error:
        await asyncio.to_thread(
            client.messages.create, to="whatsapp:+2348000000001", from_="x", body="hi"
        )
    assert (error.value.status, error.value.code) == (401, 20003)


async def test_invalid_number_is_a_400_with_code_21211(sandbox: Sandbox) -> None:
    client = twilio_client(sandbox.url)
    with pytest.raises(TwilioRestException) as error:
        await asyncio.to_thread(client.messages.create, to="whatsapp:12", from_="x", body="hi")
    assert (error.value.status, error.value.code) == (400, 21211)


async def test_injected_faults_answer_then_clear(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        await http.post("/sandbox/twilio/faults", json={"status": 429, "count": 2})
    client = twilio_client(sandbox.url)
    statuses = []
    for _ in range(3):
        try:
            await asyncio.to_thread(
                client.messages.create, to="whatsapp:+2348000000002", from_="x", body="hi"
            )
            statuses.append(201)
        except TwilioRestException as error:
            statuses.append(error.status)
    assert statuses == [429, 429, 201]
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        count = (await http.get("/sandbox/twilio/requests/count")).json()["count"]
    assert count == 3
    assert len(await outbound(sandbox, "+2348000000002")) == 1


async def test_status_callbacks_arrive_in_order_and_are_signed(sandbox: Sandbox) -> None:
    client = twilio_client(sandbox.url)
    callback = sandbox.receiver.url + "/status-here"
    message = await asyncio.to_thread(
        client.messages.create,
        to="whatsapp:+2348000000003",
        from_=sandbox_defaults.TWILIO_WHATSAPP_FROM,
        body="track me",
        status_callback=callback,
    )
    await eventually(lambda: len(sandbox.receiver.posts) == 3, what="three callbacks")
    validator = RequestValidator(sandbox_defaults.TWILIO_AUTH_TOKEN)
    assert [form["MessageStatus"] for _, form, _ in sandbox.receiver.posts] == [
        "sent",
        "delivered",
        "read",
    ]
    for url, form, signature in sandbox.receiver.posts:
        assert url == callback
        assert form["MessageSid"] == message.sid
        assert validator.validate(url, form, signature)


async def test_simulated_inbound_is_a_signed_twilio_webhook_to_the_gateway(
    sandbox: Sandbox,
) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        result = await http.post(
            "/sandbox/twilio/inbound", json={"from": "+2348000000004", "body": "hi"}
        )
        conversation = await http.get("/sandbox/conversations/+2348000000004")
    assert result.json()["gateway_status"] == 200
    [(url, form, signature)] = sandbox.receiver.posts
    assert url == sandbox.receiver.url + "/api/v1/whatsapp/webhook"
    assert (form["From"], form["Body"], form["WaId"]) == (
        "whatsapp:+2348000000004",
        "hi",
        "2348000000004",
    )
    assert RequestValidator(sandbox_defaults.TWILIO_AUTH_TOKEN).validate(url, form, signature)
    assert [m["direction"] for m in conversation.json()["messages"]] == ["in"]


async def test_inbound_with_the_gateway_down_is_a_clear_502() -> None:
    settings = SandboxSettings(gateway_url=f"http://127.0.0.1:{free_port()}")
    async with running_app(create_app(settings)) as url, httpx.AsyncClient() as http:
        result = await http.post(url + "/sandbox/twilio/inbound", json={"from": "+2348000000005"})
    assert result.status_code == 502
    assert "gateway" in result.json()["detail"]


async def test_chat_page_is_served_with_a_strict_content_security_policy(
    sandbox: Sandbox,
) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        page = await http.get("/")
        script = await http.get("/static/chat.js")
        huge = await http.post("/sandbox/twilio/inbound", content=b"x" * (1024 * 1024 + 1))
    assert '<form class="composer">' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert "textContent" in script.text and "innerHTML" not in script.text
    assert huge.status_code == 413
