"""The gateway's Cloud API webhook: the handshake, the signature over the raw body, every
message and status of a payload published with a confirm before Meta hears 200."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from gateway.service import build_service
from gateway.settings import GatewaySettings
from shared.events import Channel, DeliveryStatusReceived, Envelope, Event, InboundMessageReceived
from shared.media_links import signed_link
from shared.media_store import MediaStore
from shared.messaging import QueueSpec
from shared.messaging.rabbitmq import RabbitBroker
from shared.testing import eventually, free_port, running_app

APP_SECRET = "test-app-secret"
VERIFY = "test-verify-token"
LINK_SECRET = "test-link-secret"
PATH = "/api/webhook/whatsapp"
STUDENT = "2348000000001"


@dataclass
class Gateway:
    url: str
    received: list[Envelope[Event]]


def settings(tmp: str = "var/media", **extra: Any) -> GatewaySettings:
    return GatewaySettings(
        whatsapp_app_secret=APP_SECRET,
        whatsapp_verify_token=VERIFY,
        media_root=tmp,
        media_link_secret=LINK_SECRET,
        **extra,
    )


@pytest.fixture
async def gateway(rabbitmq_url: str, tmp_path: Any) -> AsyncIterator[Gateway]:
    exchange = f"gw-{uuid.uuid4().hex[:8]}"
    broker = RabbitBroker(rabbitmq_url, service="gateway", exchange_name=exchange)
    listener = RabbitBroker(rabbitmq_url, service="test", exchange_name=exchange)
    await listener.connect()
    received: list[Envelope[Event]] = []

    async def record(envelope: Envelope[Event]) -> None:
        received.append(envelope)

    await listener.consume(QueueSpec(name=f"spy-{exchange}", routing_keys=("message.#",)), record)
    service = build_service(settings(str(tmp_path), exchange_name=exchange), broker)
    await broker.connect()
    async with running_app(service.app) as url:
        yield Gateway(url, received)
    await service.stop()
    await listener.close()


def sign(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": "sha256=" + digest, "Content-Type": "application/json"}


def change(messages: list[dict[str, Any]] = (), statuses: list[dict[str, Any]] = ()) -> dict:  # type: ignore[assignment]
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001234", "phone_number_id": "100000000000001"},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": "Ada"}, "wa_id": STUDENT}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {"value": value, "field": "messages"}


def payload(*changes: dict[str, Any], entries: int = 1) -> bytes:
    per_entry = [list(changes)] if entries == 1 else [[c] for c in changes]
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": group} for group in per_entry],
        }
    ).encode()


def message(kind: str, body: dict[str, Any], sender: str = STUDENT) -> dict[str, Any]:
    return {
        "from": sender,
        "id": "wamid." + uuid.uuid4().hex,
        "timestamp": "1760000000",
        "type": kind,
        kind: body,
    }


def status(wamid: str, state: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": wamid,
        "status": state,
        "timestamp": "1760000100",
        "recipient_id": STUDENT,
        **extra,
    }


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_verification_echoes_the_challenge_only_for_the_right_token(
    gateway: Gateway,
) -> None:
    async with httpx.AsyncClient() as client:
        good = await client.get(
            gateway.url + PATH,
            params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "8172"},
        )
        wrong = await client.get(
            gateway.url + PATH,
            params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"},
        )
        no_mode = await client.get(
            gateway.url + PATH, params={"hub.verify_token": VERIFY, "hub.challenge": "1"}
        )
    assert (good.status_code, good.text) == (200, "8172")
    assert good.headers["content-type"].startswith("text/plain")
    assert (wrong.status_code, no_mode.status_code) == (403, 403)


async def test_three_messages_and_two_statuses_in_one_post_are_all_published(
    gateway: Gateway,
) -> None:
    text = message("text", {"body": "hi there"})
    image = message(
        "image",
        {"caption": "question 4", "mime_type": "image/jpeg", "sha256": "x", "id": "MEDIA123"},
    )
    button = message(
        "interactive",
        {"type": "button_reply", "button_reply": {"id": "menu.shop", "title": "Shop"}},
    )
    failed = status(
        "wamid.OUT2",
        "failed",
        errors=[
            {
                "code": 131047,
                "title": "Re-engagement message",
                "error_data": {"details": "More than 24 hours have passed"},
            }
        ],
    )
    body = payload(
        change(messages=[text, image]),
        change(messages=[button], statuses=[status("wamid.OUT1", "read")]),
        change(statuses=[failed]),
        entries=3,
    )
    before = counter(
        "tutordesk_gateway_webhook_requests_total",
        provider="cloud_api",
        route="messages",
        outcome="accepted",
    )
    async with httpx.AsyncClient() as client:
        response = await client.post(gateway.url + PATH, content=body, headers=sign(body))
    assert response.status_code == 200
    assert response.json() == {"accepted": 5}
    await eventually(lambda: len(gateway.received) == 5, what="five events")
    by_id = {getattr(e.payload, "provider_message_id", ""): e for e in gateway.received}

    first = by_id[text["id"]].payload
    assert isinstance(first, InboundMessageReceived)
    assert (first.channel, first.text, first.from_number, first.to_number) == (
        Channel.CLOUD_API,
        "hi there",
        "+" + STUDENT,
        "+15550001234",
    )
    assert first.profile_name == "Ada"
    assert by_id[text["id"]].key == "+" + STUDENT

    photo = by_id[image["id"]].payload
    assert isinstance(photo, InboundMessageReceived)
    assert photo.text == "question 4"
    assert photo.media[0].provider_media_id == "MEDIA123"
    assert photo.media[0].content_type == "image/jpeg"

    tapped = by_id[button["id"]].payload
    assert isinstance(tapped, InboundMessageReceived)
    assert (tapped.selected_option_id, tapped.text) == ("menu.shop", "Shop")

    read = by_id["wamid.OUT1"].payload
    assert isinstance(read, DeliveryStatusReceived)
    assert (read.status, read.recipient) == ("read", "+" + STUDENT)
    refused = by_id["wamid.OUT2"].payload
    assert isinstance(refused, DeliveryStatusReceived)
    assert (refused.status, refused.error_code) == ("failed", "131047")
    assert refused.error_message is not None
    assert "Re-engagement" in refused.error_message
    assert "24 hours" in refused.error_message
    assert (
        counter(
            "tutordesk_gateway_webhook_requests_total",
            provider="cloud_api",
            route="messages",
            outcome="accepted",
        )
        == before + 1
    )


async def test_list_replies_and_template_buttons_carry_the_option_id(gateway: Gateway) -> None:
    row = message(
        "interactive",
        {
            "type": "list_reply",
            "list_reply": {"id": "pack.2", "title": "Physics Pack", "description": "₦4,000"},
        },
    )
    quick = message("button", {"payload": "renew.yes", "text": "Renew now"})
    body = payload(change(messages=[row, quick]))
    async with httpx.AsyncClient() as client:
        response = await client.post(gateway.url + PATH, content=body, headers=sign(body))
    assert response.status_code == 200
    await eventually(lambda: len(gateway.received) == 2)
    events = [e.payload for e in gateway.received]
    assert [(e.selected_option_id, e.text) for e in events] == [  # type: ignore[attr-defined]
        ("pack.2", "Physics Pack"),
        ("renew.yes", "Renew now"),
    ]


async def test_kinds_we_do_not_handle_arrive_marked_unsupported(gateway: Gateway) -> None:
    kinds = [
        message("audio", {"id": "A1", "mime_type": "audio/ogg"}),
        message("location", {"latitude": 6.5, "longitude": 3.4}),
        message("sticker", {"id": "S1", "mime_type": "image/webp"}),
        message("reaction", {"message_id": "wamid.X", "emoji": "👍"}),
    ]
    body = payload(change(messages=kinds))
    async with httpx.AsyncClient() as client:
        response = await client.post(gateway.url + PATH, content=body, headers=sign(body))
    assert response.status_code == 200
    await eventually(lambda: len(gateway.received) == 4)
    assert [e.payload.unsupported_kind for e in gateway.received] == [  # type: ignore[attr-defined]
        "audio",
        "location",
        "sticker",
        "reaction",
    ]
    assert all(e.payload.text == "" for e in gateway.received)  # type: ignore[attr-defined]


async def test_a_bad_or_missing_signature_is_refused_and_nothing_is_published(
    gateway: Gateway,
) -> None:
    body = payload(change(messages=[message("text", {"body": "hi"})]))
    before = counter("tutordesk_gateway_signature_failures_total", provider="cloud_api")
    async with httpx.AsyncClient() as client:
        wrong = await client.post(gateway.url + PATH, content=body, headers=sign(body, "other"))
        missing = await client.post(
            gateway.url + PATH, content=body, headers={"Content-Type": "application/json"}
        )
        tampered = await client.post(
            gateway.url + PATH, content=body.replace(b"hi", b"yo"), headers=sign(body)
        )
        good = payload(change(messages=[message("text", {"body": "after"})]))
        await client.post(gateway.url + PATH, content=good, headers=sign(good))
    assert (wrong.status_code, missing.status_code, tampered.status_code) == (401, 401, 401)
    await eventually(lambda: len(gateway.received) >= 1)
    assert [e.payload.text for e in gateway.received] == ["after"]  # type: ignore[attr-defined]
    assert counter("tutordesk_gateway_signature_failures_total", provider="cloud_api") == before + 3


async def test_a_body_over_one_mebibyte_is_refused_with_413(gateway: Gateway) -> None:
    body = payload(change(messages=[message("text", {"body": "x" * (1024 * 1024)})]))
    async with httpx.AsyncClient() as client:
        response = await client.post(gateway.url + PATH, content=body, headers=sign(body))
    assert response.status_code == 413
    assert gateway.received == []


async def test_the_broker_down_answers_503_so_meta_retries(tmp_path: Any) -> None:
    dead = RabbitBroker(
        f"amqp://guest:guest@127.0.0.1:{free_port()}/", service="gateway", publish_timeout=1
    )
    service = build_service(settings(str(tmp_path)), dead)
    body = payload(change(messages=[message("text", {"body": "hi"})]))
    async with running_app(service.app) as url, httpx.AsyncClient() as client:
        response = await client.post(url + PATH, content=body, headers=sign(body))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


async def test_stored_media_is_served_only_by_a_valid_unexpired_link(
    gateway: Gateway, tmp_path: Any
) -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"rest-of-a-picture"
    sha = MediaStore(tmp_path).save(data)
    later = datetime.now(UTC) + timedelta(minutes=5)
    good = signed_link(gateway.url, LINK_SECRET, sha, later)
    expired = signed_link(gateway.url, LINK_SECRET, sha, datetime.now(UTC) - timedelta(seconds=5))
    forged = signed_link(gateway.url, "not-the-secret", sha, later)
    async with httpx.AsyncClient() as client:
        served = await client.get(good)
        refused = [(await client.get(u)).status_code for u in (expired, forged)]
        traversal = await client.get(gateway.url + "/media/..%2F..%2Fetc%2Fpasswd?expires=1&sig=x")
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["content-type"] == "image/png"
    assert refused == [403, 403]
    assert traversal.status_code in (403, 404)
