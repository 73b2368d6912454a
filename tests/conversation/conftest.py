"""The conversation service on a real PostgreSQL and the in-memory broker, with phones that
talk to it and a record of every event it publishes."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import delete, func, select, update

import conversation
from conversation.models import AdminSetting, Agent, Tutor, inbox, outbox
from conversation.service import ConversationService
from conversation.settings import ConversationSettings
from shared.events import (
    Channel,
    Envelope,
    Event,
    InboundMessageReceived,
    MediaRef,
    OutboundMessageRequested,
)
from shared.messaging import QueueSpec
from shared.messaging.memory import InMemoryBroker
from shared.migrations import upgrade_async
from shared.testing import eventually

MIGRATIONS = Path(conversation.__file__).parent / "migrations"
_numbers = itertools.count(5_000_001)
E = TypeVar("E", bound=Event)


class World:
    def __init__(self, service: ConversationService, broker: InMemoryBroker) -> None:
        self.service = service
        self.broker = broker
        self.seen: list[Envelope[Event]] = []

    def phone(self) -> Phone:
        return Phone(self, f"+234801{next(_numbers):07d}")

    async def publish(self, event: Event, key: str) -> Envelope[Event]:
        envelope = Envelope.wrap(event, key=key)
        await self.broker.publish(envelope)
        return envelope

    async def handled(self, inbox_key: str) -> None:
        """Wait until the service committed its handling of the message and published
        what that caused."""

        async def done() -> bool:
            async with self.service.sessions() as session:
                claimed = await session.scalar(
                    select(func.count()).select_from(inbox).where(inbox.c.message_key == inbox_key)
                )
                pending = await session.scalar(select(func.count()).select_from(outbox))
            return bool(claimed) and not pending

        await eventually(done, what=f"handling of {inbox_key}")
        await eventually(lambda: self.broker.depth("spy") == 0)
        await asyncio.sleep(0.02)

    async def handled_nothing_pending(self) -> None:
        """Wait until everything the service committed has been published and seen."""

        async def empty() -> bool:
            async with self.service.sessions() as session:
                return not await session.scalar(select(func.count()).select_from(outbox))

        await eventually(empty, what="an empty outbox")
        await eventually(lambda: self.broker.depth("spy") == 0)
        await asyncio.sleep(0.05)

    async def deliver(self, event: Event, key: str) -> None:
        envelope = await self.publish(event, key)
        await self.handled(f"{event.event_type}:{envelope.id}")

    def events(self, kind: type[E]) -> list[E]:
        return [e.payload for e in self.seen if isinstance(e.payload, kind)]

    async def add_tutor(self, phone: Phone, subjects: list[str], name: str = "Tola") -> None:
        async with self.service.sessions() as session, session.begin():
            session.add(
                Tutor(
                    phone_number=phone.number,
                    name=name,
                    subjects=subjects,
                    active=True,
                    created_at=datetime.now(UTC),
                )
            )

    async def add_agent(self, phone: Phone, name: str = "Grace") -> None:
        async with self.service.sessions() as session, session.begin():
            session.add(
                Agent(
                    phone_number=phone.number, name=name, on_duty=True, created_at=datetime.now(UTC)
                )
            )


class Phone:
    def __init__(self, world: World, number: str) -> None:
        self.world = world
        self.number = number

    def inbound(self, text: str, **extra: Any) -> InboundMessageReceived:
        return InboundMessageReceived(
            channel=Channel.TWILIO,
            provider_message_id="SM" + uuid.uuid4().hex,
            from_number=self.number,
            to_number="+14155238886",
            text=text,
            **extra,
        )

    async def send(self, text: str = "", **extra: Any) -> list[OutboundMessageRequested]:
        """Send one message; return every message it caused for this number."""
        before = len(self.replies())
        message = self.inbound(text, **extra)
        await self.world.publish(message, key=self.number)
        await self.world.handled(f"{message.channel}:{message.provider_message_id}")
        return self.replies()[before:]

    async def say(self, text: str = "", **extra: Any) -> str:
        """Send and return the text of the one reply it caused."""
        replies = await self.send(text, **extra)
        assert len(replies) == 1, [r.text for r in replies]
        return replies[0].text

    async def photo(self, caption: str = "") -> str:
        media = (MediaRef(url="https://api.twilio.example/Media/ME1", content_type="image/png"),)
        return await self.say(caption, media=media)

    def replies(self) -> list[OutboundMessageRequested]:
        return [
            m for m in self.world.events(OutboundMessageRequested) if m.to_number == self.number
        ]

    def last(self) -> OutboundMessageRequested:
        return self.replies()[-1]

    def option_ids(self) -> list[str]:
        return [o.id for o in self.last().options]

    async def register(
        self, name: str = "Ada Obi", level: str = "SSS"
    ) -> list[OutboundMessageRequested]:
        """Register on the way to homework; returns the replies to the final YES."""
        await self.say("hi")
        await self.say("2")
        await self.say(name)
        await self.say(level)
        await self.say("ada@example.com")
        return await self.send("yes")


@pytest.fixture(scope="module")
async def migrated(database_url: str) -> str:
    await upgrade_async(database_url, MIGRATIONS, "conversation")
    return database_url


@pytest.fixture
def flood_limit() -> dict[str, Any]:
    """A test's phone writes at machine speed, far past any person, so the flood limit is
    lifted for scripted conversations; test_flood_service.py keeps the defaults."""
    return {"flood_burst": 10_000}


@pytest.fixture
async def world(migrated: str, flood_limit: dict[str, Any]) -> AsyncIterator[World]:
    broker = InMemoryBroker(service="test")
    settings = ConversationSettings(
        database_url=migrated,
        consumer_retry_delay_ms=50,
        reassign_check_seconds=0.2,
        **flood_limit,
    )
    service = ConversationService(settings, broker)
    world = World(service, broker)
    # Tutors, agents and settings of earlier tests would otherwise take part in this one.
    async with service.sessions() as session, session.begin():
        await session.execute(update(Tutor).values(active=False))
        await session.execute(update(Agent).values(on_duty=False))
        await session.execute(delete(AdminSetting))

    async def spy(envelope: Envelope[Event]) -> None:
        world.seen.append(envelope)

    await broker.connect()
    await broker.consume(QueueSpec(name="spy", routing_keys=("#",)), spy)
    await service.start()
    yield world
    await service.stop()
    await broker.close()
