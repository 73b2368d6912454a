"""The gateway verifies Twilio's signature, publishes with a confirm, and only then says 200."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from twilio.request_validator import RequestValidator

from gateway.service import build_service
from gateway.settings import GatewaySettings
from shared import sandbox_defaults
from shared.events import DeliveryStatusReceived, Envelope, Event, InboundMessageReceived
from shared.messaging import QueueSpec
from shared.messaging.rabbitmq import RabbitBroker
from shared.testing import eventually, free_port, running_app

TOKEN = "test-auth-token"
PUBLIC = "https://desk.example.com"


@dataclass
class Gateway:
    url: str
    received: list[Envelope[Event]]


def settings(**extra: object) -> GatewaySettings:
    return GatewaySettings(
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token=TOKEN,
        public_base_url=PUBLIC,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
async def gateway(rabbitmq_url: str) -> AsyncIterator[Gateway]:
    exchange = f"gw-{uuid.uuid4().hex[:8]}"
    broker = RabbitBroker(rabbitmq_url, service="gateway", exchange_name=exchange)
    listener = RabbitBroker(rabbitmq_url, service="test", exchange_name=exchange)
    await listener.connect()
    received: list[Envelope[Event]] = []

    async def record(envelope: Envelope[Event]) -> None:
        received.append(envelope)

    await listener.consume(QueueSpec(name=f"spy-{exchange}", routing_keys=("message.#",)), record)
    service = build_service(settings(exchange_name=exchange), broker)
    await broker.connect()
    async with running_app(service.app) as url:
        yield Gateway(url, received)
    await service.stop()
    await listener.close()


def signed(path: str, form: dict[str, str], token: str = TOKEN) -> dict[str, str]:
    signature = RequestValidator(token).compute_signature(PUBLIC + path, form)
    return {"X-Twilio-Signature": signature}


def inbound_form(body: str = "hi", sid: str | None = None) -> dict[str, str]:
    return {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "1" * 32,
        "From": "whatsapp:+2348000000001",
        "To": sandbox_defaults.TWILIO_WHATSAPP_FROM,
        "Body": body,
        "NumMedia": "0",
        "ProfileName": "Ada",
    }


async def test_signed_inbound_message_is_published_then_acknowledged(gateway: Gateway) -> None:
    form = inbound_form("1 x 10")
    path = "/api/v1/whatsapp/webhook"
    async with httpx.AsyncClient() as client:
        response = await client.post(gateway.url + path, data=form, headers=signed(path, form))
    assert response.status_code == 200
    assert "<Response>" in response.text
    await eventually(lambda: len(gateway.received) == 1, what="event on the broker")
    event = gateway.received[0].payload
    assert isinstance(event, InboundMessageReceived)
    assert event.text == "1 x 10"
    assert event.from_number == "+2348000000001"
    assert event.provider_message_id == form["MessageSid"]
    assert gateway.received[0].key == "+2348000000001"


async def test_bad_signature_is_refused_and_nothing_is_published(gateway: Gateway) -> None:
    form = inbound_form()
    path = "/api/v1/whatsapp/webhook"
    async with httpx.AsyncClient() as client:
        wrong = await client.post(
            gateway.url + path, data=form, headers=signed(path, form, token="not-the-token")
        )
        missing = await client.post(gateway.url + path, data=form)
        tampered = await client.post(
            gateway.url + path, data={**form, "Body": "changed"}, headers=signed(path, form)
        )
    assert [wrong.status_code, missing.status_code, tampered.status_code] == [401, 401, 401]
    # A valid message after them is the only thing on the queue.
    good = inbound_form("after")
    async with httpx.AsyncClient() as client:
        await client.post(gateway.url + path, data=good, headers=signed(path, good))
    await eventually(lambda: len(gateway.received) >= 1)
    assert [e.payload.text for e in gateway.received] == ["after"]  # type: ignore[attr-defined]


async def test_status_callback_becomes_a_delivery_status_event(gateway: Gateway) -> None:
    path = "/api/v1/whatsapp/status"
    form = {
        "MessageSid": "SM" + "a" * 32,
        "MessageStatus": "delivered",
        "To": "whatsapp:+2348000000001",
        "From": sandbox_defaults.TWILIO_WHATSAPP_FROM,
        "AccountSid": "AC" + "1" * 32,
    }
    async with httpx.AsyncClient() as client:
        response = await client.post(gateway.url + path, data=form, headers=signed(path, form))
    assert response.status_code == 200
    await eventually(lambda: len(gateway.received) == 1)
    event = gateway.received[0].payload
    assert isinstance(event, DeliveryStatusReceived)
    assert (event.status, event.recipient) == ("delivered", "+2348000000001")


async def test_body_over_one_mebibyte_is_refused_with_413(gateway: Gateway) -> None:
    form = inbound_form("x" * (1024 * 1024 + 10))
    path = "/api/v1/whatsapp/webhook"
    async with httpx.AsyncClient() as client:
        response = await client.post(gateway.url + path, data=form, headers=signed(path, form))
    assert response.status_code == 413
    assert gateway.received == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"\xff\xfe\xfd", 400),
        (b"MessageSid=SM1&Body=hi", 401),
    ],
)
async def test_broken_bodies_get_a_clear_error(gateway: Gateway, body: bytes, status: int) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            gateway.url + "/api/v1/whatsapp/webhook",
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": "abc",
            },
        )
    assert response.status_code == status
    assert "detail" in response.json()


async def test_signed_form_missing_the_sender_is_a_400(gateway: Gateway) -> None:
    form = {"MessageSid": "SM" + "b" * 32, "Body": "hi"}
    path = "/api/v1/whatsapp/webhook"
    async with httpx.AsyncClient() as client:
        response = await client.post(gateway.url + path, data=form, headers=signed(path, form))
    assert response.status_code == 400
    assert "From" in response.json()["detail"]


async def test_broker_unreachable_answers_503_so_twilio_retries() -> None:
    dead_broker = RabbitBroker(
        f"amqp://guest:guest@127.0.0.1:{free_port()}/", service="gateway", publish_timeout=1
    )
    service = build_service(settings(), dead_broker)
    form = inbound_form()
    path = "/api/v1/whatsapp/webhook"
    async with running_app(service.app) as url, httpx.AsyncClient() as client:
        response = await client.post(url + path, data=form, headers=signed(path, form))
        health = await client.get(url + "/health")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert health.status_code == 503
    assert health.json()["dependencies"] == {"broker": "down"}


async def test_a_quick_reply_tap_and_a_voice_note_arrive_normalised(gateway: Gateway) -> None:
    path = "/api/v1/whatsapp/webhook"
    tap = {
        **inbound_form("Renew now"),
        "MessageType": "button",
        "ButtonText": "Renew now",
        "ButtonPayload": "renew.yes",
    }
    voice = {
        **inbound_form(""),
        "MessageType": "audio",
        "NumMedia": "1",
        "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        "MediaContentType0": "audio/ogg",
    }
    async with httpx.AsyncClient() as client:
        for form in (tap, voice):
            response = await client.post(gateway.url + path, data=form, headers=signed(path, form))
            assert response.status_code == 200
    await eventually(lambda: len(gateway.received) == 2)
    first, second = (e.payload for e in gateway.received)
    assert isinstance(first, InboundMessageReceived)
    assert isinstance(second, InboundMessageReceived)
    assert (first.selected_option_id, first.text, first.unsupported_kind) == (
        "renew.yes",
        "Renew now",
        None,
    )
    assert (second.unsupported_kind, second.media) == ("audio", ())
