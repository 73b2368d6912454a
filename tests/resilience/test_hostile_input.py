"""Hostile requests to the gateway and an admin API, each answered cleanly: the right 4xx,
nothing published, and what is accepted is carried verbatim, never interpreted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from twilio.request_validator import RequestValidator

from gateway.service import build_service
from gateway.settings import GatewaySettings
from shared import sandbox_defaults
from shared.events import Envelope, Event, InboundMessageReceived
from shared.messaging import QueueSpec
from shared.messaging.memory import InMemoryBroker
from shared.testing import eventually, running_app

TOKEN = "hostile-test-token"
PUBLIC = "https://desk.example.com"
PATH = "/api/v1/whatsapp/webhook"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Gateway:
    url: str
    received: list[Envelope[Event]]


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    broker = InMemoryBroker(service="gateway")
    received: list[Envelope[Event]] = []

    async def record(envelope: Envelope[Event]) -> None:
        received.append(envelope)

    await broker.connect()
    await broker.consume(QueueSpec(name="spy", routing_keys=("message.#",)), record)
    settings = GatewaySettings(
        twilio_account_sid="AC" + "1" * 32, twilio_auth_token=TOKEN, public_base_url=PUBLIC
    )
    service = build_service(settings, broker)
    async with running_app(service.app) as url:
        yield Gateway(url, received)
    await broker.close()


def form(body: str, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": "SM" + "7" * 32,
        "AccountSid": "AC" + "1" * 32,
        "From": "whatsapp:+2348000000009",
        "To": sandbox_defaults.TWILIO_WHATSAPP_FROM,
        "Body": body,
        "NumMedia": "0",
        **extra,
    }


def signed(fields: dict[str, str]) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(PUBLIC + PATH, fields)}


async def test_an_oversized_webhook_is_refused_413_and_nothing_is_published(
    gateway: Gateway,
) -> None:
    fields = form("x" * (1024 * 1024 + 1))
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(gateway.url + PATH, data=fields, headers=signed(fields))
    assert response.status_code == 413
    assert gateway.received == []


async def test_invalid_utf8_is_refused_400(gateway: Gateway) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            gateway.url + PATH,
            content=b"Body=\xff\xfe\xc3\x28&From=whatsapp%3A%2B2348000000009",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": "x",
            },
        )
    assert response.status_code == 400
    assert response.json() == {"detail": "the body is not a UTF-8 form"}
    assert gateway.received == []


async def test_deeply_nested_json_is_refused_without_a_crash(gateway: Gateway) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    async with httpx.AsyncClient() as client:
        response = await client.post(
            gateway.url + PATH,
            content=nested,
            headers={"Content-Type": "application/json", "X-Twilio-Signature": "x"},
        )
        health = await client.get(gateway.url + "/health")
    assert response.status_code in (400, 401)
    assert health.status_code == 200  # still serving
    assert gateway.received == []


@pytest.mark.parametrize(
    "body",
    [
        "'; DROP TABLE conversation.inbox; --",
        "1 OR 1=1; SELECT pg_sleep(10)",
        "{{7*7}} ${7*7} <%= 7*7 %> #{7*7}",
        "<script>alert(document.cookie)</script>",
        "\u202egnp.exe",
    ],
)
async def test_injection_strings_are_carried_verbatim_not_interpreted(
    gateway: Gateway, body: str
) -> None:
    fields = form(body)
    async with httpx.AsyncClient() as client:
        response = await client.post(gateway.url + PATH, data=fields, headers=signed(fields))
    assert response.status_code == 200
    await eventually(lambda: len(gateway.received) == 1)
    payload = gateway.received[0].payload
    assert isinstance(payload, InboundMessageReceived)
    assert payload.text == body


@pytest.mark.parametrize(
    "media_url",
    ["../../../../etc/passwd", "file:///etc/passwd", "http://127.0.0.1:5432/%2e%2e/x"],
)
async def test_path_tricks_in_media_are_carried_as_data_and_fetch_nothing(
    gateway: Gateway, media_url: str
) -> None:
    fields = form("see attached", NumMedia="1", MediaUrl0=media_url, MediaContentType0="image/png")
    async with httpx.AsyncClient() as client:
        response = await client.post(gateway.url + PATH, data=fields, headers=signed(fields))
    # The gateway never fetches media itself; the URL travels as an opaque string.
    assert response.status_code == 200
    await eventually(lambda: len(gateway.received) == 1)
    payload = gateway.received[0].payload
    assert isinstance(payload, InboundMessageReceived)
    assert [m.url for m in payload.media] == [media_url]


async def test_a_signature_over_other_fields_is_refused_401(gateway: Gateway) -> None:
    fields = form("hello")
    headers = signed(fields)
    async with httpx.AsyncClient() as client:
        response = await client.post(
            gateway.url + PATH, data={**fields, "Body": "'; DROP TABLE x; --"}, headers=headers
        )
    assert response.status_code == 401
    assert gateway.received == []
