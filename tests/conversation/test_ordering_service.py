"""The conversation service over a real PostgreSQL: the ordering seed's steps, duplicates
and expiry, with replies and events read off the broker."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

import conversation
from conversation.models import Order
from conversation.service import ConversationService
from conversation.settings import ConversationSettings
from shared.events import (
    Channel,
    Envelope,
    Event,
    InboundMessageReceived,
    OrderPlaced,
    OutboundMessageRequested,
)
from shared.messaging import QueueSpec
from shared.messaging.memory import InMemoryBroker
from shared.migrations import upgrade_async
from shared.testing import eventually, running_app

MIGRATIONS = Path(conversation.__file__).parent / "migrations"
_numbers = itertools.count(1)


class Desk:
    def __init__(self, service: ConversationService, broker: InMemoryBroker) -> None:
        self.service = service
        self.broker = broker
        self.seen: list[Envelope[Event]] = []
        self.phone = f"+234800{next(_numbers):07d}"

    async def say(self, text: str, *, sid: str | None = None) -> list[str]:
        """Send one message and return the texts of the replies it caused."""
        before = len(self.replies())
        event = InboundMessageReceived(
            channel=Channel.TWILIO,
            provider_message_id=sid or "SM" + uuid.uuid4().hex,
            from_number=self.phone,
            to_number="+14155238886",
            text=text,
        )
        await self.broker.publish(Envelope.wrap(event, key=self.phone))
        await eventually(lambda: len(self.replies()) > before, what=f"a reply to {text!r}")
        await self.settle()
        return [r.text for r in self.replies()[before:]]

    async def settle(self) -> None:
        await eventually(lambda: self.broker.depth("conversation") == 0)
        # Let in-flight handlers finish their flush.
        for _ in range(20):
            await eventually(lambda: True)

    def replies(self) -> list[OutboundMessageRequested]:
        return [
            e.payload
            for e in self.seen
            if isinstance(e.payload, OutboundMessageRequested) and e.payload.to_number == self.phone
        ]


@pytest.fixture(scope="module")
async def migrated(database_url: str) -> str:
    await upgrade_async(database_url, MIGRATIONS, "conversation")
    return database_url


@pytest.fixture
async def desk(migrated: str) -> AsyncIterator[Desk]:
    broker = InMemoryBroker(service="test")
    settings = ConversationSettings(database_url=migrated, consumer_retry_delay_ms=50)
    service = ConversationService(settings, broker)
    desk = Desk(service, broker)

    async def spy(envelope: Envelope[Event]) -> None:
        desk.seen.append(envelope)

    await broker.connect()
    await broker.consume(QueueSpec(name="spy", routing_keys=("#",)), spy)
    await service.start()
    yield desk
    await service.stop()
    await broker.close()


async def test_ordering_seed_steps_give_menu_list_added_summary_and_processing(
    desk: Desk,
) -> None:
    menu = await desk.say("hi")
    assert "main menu" in menu[0].lower() or "welcome" in menu[0].lower()
    assert [o.title for o in desk.replies()[-1].options][:1] == ["Shop study packs"]

    products = await desk.say("1")
    assert "1 x 10" in products[0]
    listed = desk.replies()[-1].options
    assert listed[0].title == "WAEC Mathematics Pack"
    assert listed[0].description == "₦5,000"

    added = await desk.say("1 x 10")
    assert "Added 10 × WAEC Mathematics Pack" in added[0]
    assert "total ₦50,000" in added[0]

    summary = await desk.say("place order")
    assert "Order summary" in summary[0]
    assert "WAEC Mathematics Pack × 10 — ₦50,000" in summary[0]
    assert [o.id for o in desk.replies()[-1].options] == ["yes", "no"]

    placed = await desk.say("yes")
    assert "is being processed" in placed[0]
    reference = placed[0].split("order ")[1].split(" ")[0]
    orders = [e.payload for e in desk.seen if isinstance(e.payload, OrderPlaced)]
    assert [(o.reference, o.total_minor, o.currency) for o in orders] == [
        (reference, 5_000_000, "NGN")
    ]
    async with desk.service.sessions() as session:
        saved = await session.scalar(select(Order).where(Order.reference == reference))
    assert saved is not None
    assert saved.total_minor == 5_000_000
    assert [(line.sku, line.quantity) for line in saved.lines] == [("WAEC-MATH", 10)]


@pytest.mark.parametrize("phrase", ["1x10", "1 * 10", "add 10 of 1", "1 X 10 ", "1×10"])
async def test_every_way_of_writing_item_times_quantity_adds_ten(desk: Desk, phrase: str) -> None:
    await desk.say("hi")
    reply = await desk.say(phrase)
    assert reply[0].startswith("Added 10 × WAEC Mathematics Pack")


async def test_cart_remove_and_clear(desk: Desk) -> None:
    await desk.say("hi")
    await desk.say("1 x 2")
    await desk.say("3 x 1")
    cart = await desk.say("cart")
    assert "1. WAEC Mathematics Pack × 2 — ₦10,000" in cart[0]
    assert "2. JAMB Physics Pack × 1 — ₦4,000" in cart[0]
    assert "Total: ₦14,000" in cart[0]
    removed = await desk.say("remove 1")
    assert "Removed WAEC Mathematics Pack" in removed[0]
    assert "WAEC" not in removed[0].split("Your cart:")[1]
    cleared = await desk.say("clear")
    assert "empty" in cleared[0]
    summary = await desk.say("place order")
    assert "cart is empty" in summary[0]


async def test_no_at_confirmation_keeps_the_cart(desk: Desk) -> None:
    await desk.say("hi")
    await desk.say("2 x 1")
    await desk.say("place order")
    kept = await desk.say("no")
    assert "cart is kept" in kept[0]
    cart = await desk.say("cart")
    assert "WAEC English Pack × 1" in cart[0]


async def test_same_inbound_message_twice_gives_one_reply(desk: Desk) -> None:
    await desk.say("hi")
    sid = "SM" + uuid.uuid4().hex
    await desk.say("1", sid=sid)
    count = len(desk.replies())
    event = InboundMessageReceived(
        channel=Channel.TWILIO,
        provider_message_id=sid,
        from_number=desk.phone,
        to_number="+14155238886",
        text="1",
    )
    await desk.broker.publish(Envelope.wrap(event, key=desk.phone))
    await desk.settle()
    assert len(desk.replies()) == count, [r.text[:40] for r in desk.replies()]


async def test_unknown_input_gets_a_hint_and_the_current_options(desk: Desk) -> None:
    await desk.say("hi")
    await desk.say("1")
    reply = await desk.say("'; DROP TABLE orders; --")
    assert "didn't catch that" in reply[0]
    assert len(desk.replies()[-1].options) == 6


async def test_idle_thirty_minutes_expires_the_flow_and_shows_the_menu(desk: Desk) -> None:
    await desk.say("hi")
    await desk.say("1")
    handler = desk.service.consumers[0].handler
    later = datetime.now(UTC) + timedelta(minutes=31)
    handler.clock = lambda: later  # type: ignore[attr-defined]
    reply = await desk.say("1 x 1")
    assert "30 minutes" in reply[0]
    assert desk.replies()[-1].options[0].id == "shop"


async def test_admin_api_needs_the_token_and_lists_orders(desk: Desk) -> None:
    await desk.say("hi")
    await desk.say("1 x 1")
    await desk.say("place order")
    await desk.say("yes")
    async with running_app(desk.service.app) as url, httpx.AsyncClient(base_url=url) as client:
        refused = await client.get("/api/orders")
        wrong = await client.get("/api/orders", headers={"Authorization": "Bearer nope"})
        auth = {"Authorization": "Bearer dev-admin-token"}
        page = await client.get("/api/orders", params={"phone": desk.phone}, headers=auth)
        reference = page.json()["items"][0]["reference"]
        one = await client.get(f"/api/orders/{reference}", headers=auth)
        missing = await client.get("/api/orders/ORD-NOPE", headers=auth)
        products = await client.get("/api/products", headers=auth)
    assert (refused.status_code, wrong.status_code) == (401, 401)
    assert page.json()["total"] == 1
    assert one.json()["lines"][0]["sku"] == "WAEC-MATH"
    assert missing.status_code == 404
    assert [p["sku"] for p in products.json()["items"]][:2] == ["WAEC-MATH", "WAEC-ENG"]
