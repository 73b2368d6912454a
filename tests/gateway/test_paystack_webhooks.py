"""The gateway's Paystack webhook: HMAC-SHA512 over the raw body, compared in constant
time; published with a confirm before 200; refused without a change otherwise."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from gateway.paystack_webhooks import PAYSTACK_PATH, PaystackPayloadError, paystack_event
from gateway.service import build_service
from gateway.settings import GatewaySettings
from shared.events import Envelope, Event, PaystackEventReceived
from shared.messaging import QueueSpec
from shared.messaging.rabbitmq import RabbitBroker
from shared.paystack_signature import paystack_signature
from shared.testing import eventually, free_port, running_app

KEY = "sk_test_gateway_paystack_key"


@dataclass
class Gateway:
    url: str
    received: list[Envelope[Event]]


def settings(**extra: object) -> GatewaySettings:
    return GatewaySettings(paystack_secret_key=KEY, **extra)  # type: ignore[arg-type]


@pytest.fixture
async def gateway(rabbitmq_url: str) -> AsyncIterator[Gateway]:
    exchange = f"gw-ps-{uuid.uuid4().hex[:8]}"
    broker = RabbitBroker(rabbitmq_url, service="gateway", exchange_name=exchange)
    listener = RabbitBroker(rabbitmq_url, service="test", exchange_name=exchange)
    await listener.connect()
    received: list[Envelope[Event]] = []

    async def record(envelope: Envelope[Event]) -> None:
        received.append(envelope)

    await listener.consume(QueueSpec(name=f"spy-{exchange}", routing_keys=("paystack.#",)), record)
    service = build_service(settings(exchange_name=exchange), broker)
    await broker.connect()
    async with running_app(service.app) as url:
        yield Gateway(url, received)
    await service.stop()
    await listener.close()


def charge_success(reference: str = "PAY-GATEWAYTEST1", amount: int = 500000) -> bytes:
    return json.dumps(
        {
            "event": "charge.success",
            "data": {
                "id": 4099260516,
                "status": "success",
                "reference": reference,
                "amount": amount,
                "currency": "NGN",
                "customer": {"email": "2348000000001@students.example.com"},
            },
        }
    ).encode()


async def post(url: str, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["x-paystack-signature"] = signature
    async with httpx.AsyncClient() as client:
        return await client.post(url + PAYSTACK_PATH, content=body, headers=headers)


async def test_signed_charge_success_is_published_keyed_by_reference_then_acknowledged(
    gateway: Gateway,
) -> None:
    body = charge_success("PAY-SIGNED00001", 1_234_567)

    response = await post(gateway.url, body, paystack_signature(KEY, body))

    assert response.status_code == 200
    await eventually(lambda: len(gateway.received) == 1, what="event published")
    [envelope] = gateway.received
    assert envelope.type == "paystack.event.received"
    assert envelope.key == "PAY-SIGNED00001"
    event = envelope.payload
    assert isinstance(event, PaystackEventReceived)
    assert (event.event, event.reference) == ("charge.success", "PAY-SIGNED00001")
    assert event.data["amount"] == 1_234_567 and isinstance(event.data["amount"], int)


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "0" * 128,
        paystack_signature("sk_test_some_other_key", charge_success()),
        paystack_signature(KEY, charge_success(amount=1)),  # signed over another body
    ],
    ids=["missing", "empty", "zeros", "other_key", "other_body"],
)
async def test_bad_or_missing_signature_is_refused_with_401_and_nothing_published(
    gateway: Gateway, signature: str | None
) -> None:
    response = await post(gateway.url, charge_success(), signature)

    assert response.status_code == 401
    assert "x-paystack-signature" in response.json()["detail"]
    async with httpx.AsyncClient() as client:
        metrics = (await client.get(gateway.url + "/metrics")).text
    assert 'tutordesk_gateway_signature_failures_total{provider="paystack"}' in metrics
    assert gateway.received == []


async def test_body_over_one_mebibyte_is_refused_with_413(gateway: Gateway) -> None:
    body = b'{"event":"charge.success","data":{"pad":"' + b"x" * (1024 * 1024) + b'"}}'

    response = await post(gateway.url, body, paystack_signature(KEY, body))

    assert response.status_code == 413
    assert gateway.received == []


async def test_signed_body_that_is_not_a_paystack_event_is_a_400(gateway: Gateway) -> None:
    for body in (b"not json", b'["charge.success"]', b'{"data": {}}'):
        response = await post(gateway.url, body, paystack_signature(KEY, body))
        assert response.status_code == 400, body
    assert gateway.received == []


async def test_broker_unreachable_answers_503_so_paystack_retries() -> None:
    dead_broker = RabbitBroker(
        f"amqp://guest:guest@127.0.0.1:{free_port()}/", service="gateway", publish_timeout=1
    )
    service = build_service(settings(), dead_broker)
    body = charge_success()
    async with running_app(service.app) as url:
        response = await post(url, body, paystack_signature(KEY, body))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


def test_event_reads_the_reference_and_keeps_the_data_as_sent() -> None:
    event = paystack_event(charge_success("PAY-PURE0000001", 250))
    assert (event.event, event.reference, event.data["amount"]) == (
        "charge.success",
        "PAY-PURE0000001",
        250,
    )
    assert paystack_event(b'{"event": "transfer.success", "data": {}}').reference is None
    with pytest.raises(PaystackPayloadError):
        paystack_event(b'{"event": 5}')


def test_production_gateway_refuses_to_start_without_the_paystack_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("PAYSTACK_SECRET_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    # pydantic wraps the settings' MissingSecretsError in its ValidationError (a ValueError).
    with pytest.raises(ValueError, match="without: PAYSTACK_SECRET_KEY"):
        GatewaySettings(
            app_env="production",
            rabbitmq_url="amqp://x",
            public_base_url="https://desk.example.com",
            twilio_account_sid="AC" + "1" * 32,
            twilio_auth_token="t",
        )
