"""The flood limit in the conversation service on a real PostgreSQL: a number sending a
burst gets its first ten answered and one polite reply, others interleaved with it are
answered in full, and the bucket (kept in the database) refills with time."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from conversation import copy
from conversation.handlers import InboundHandler
from conversation.models import FloodBucket, inbox
from shared.events import (
    Envelope,
    InboundMessageReceived,
    MediaRef,
    NotificationKind,
    SubscriptionFacts,
    SubscriptionStarted,
)
from shared.testing import eventually
from tests.conversation.conftest import Phone, World

REFUSED = "tutordesk_conversation_flood_refused_total"
DUPLICATES = "tutordesk_inbox_duplicates_total"


@pytest.fixture
def flood_limit() -> dict[str, Any]:
    """The defaults: a burst of 10, then one message a second."""
    return {}


def refused_so_far() -> float:
    return REGISTRY.get_sample_value(REFUSED) or 0.0


def duplicates_so_far() -> float:
    labels = {"service": "conversation", "queue": "conversation"}
    return REGISTRY.get_sample_value(DUPLICATES, labels) or 0.0


def freeze(world: World, at: datetime) -> None:
    world.service.inbound.clock = lambda: at


async def publish_all(world: World, messages: list[InboundMessageReceived]) -> None:
    """Publish every message without waiting, then wait until all were handled."""
    for message in messages:
        await world.publish(message, key=message.from_number)
    for message in messages:
        await world.handled(f"{message.channel}:{message.provider_message_id}")
    await world.handled_nothing_pending()


async def burst(
    world: World, phone: Phone, count: int, at: datetime
) -> list[InboundMessageReceived]:
    """``count`` greetings from ``phone``, all written at ``at`` and handled with the
    clock there."""
    freeze(world, at)
    messages = [phone.inbound("hi", received_at=at) for _ in range(count)]
    await publish_all(world, messages)
    return messages


def answered(phone: Phone) -> list[str | None]:
    """The messages of ``phone`` that reached the engine, by the reply each caused."""
    return [r.in_reply_to for r in phone.replies() if r.text != copy.FLOOD]


def told(phone: Phone) -> list[str | None]:
    return [r.in_reply_to for r in phone.replies() if r.text == copy.FLOOD]


async def bucket_of(world: World, phone: Phone) -> tuple[float, datetime, bool]:
    async with world.service.sessions() as session:
        row = await session.get(FloodBucket, phone.number)
        assert row is not None
        return row.tokens, row.updated_at, row.warned


async def test_a_burst_of_thirty_gets_ten_answers_and_one_polite_reply_others_all_answers(
    world: World,
) -> None:
    now = datetime.now(UTC)
    freeze(world, now)
    flooder, other = world.phone(), world.phone()
    flood = [flooder.inbound("hi", received_at=now) for _ in range(30)]
    chat = [other.inbound(text, received_at=now) for text in ("hi", "5", "menu", "1")]
    interleaved = [*flood[:5], chat[0], *flood[5:15], *chat[1:3], *flood[15:], chat[3]]
    before = refused_so_far()

    await publish_all(world, interleaved)

    ids = [m.provider_message_id for m in flood]
    assert answered(flooder) == ids[:10]
    assert told(flooder) == [ids[10]]
    assert answered(other) == [m.provider_message_id for m in chat]
    assert told(other) == []
    assert "Welcome to" in other.replies()[0].text and "Choose a topic" in other.replies()[1].text
    assert refused_so_far() - before == 20
    async with world.service.sessions() as session:
        claimed = await session.scalar(
            select(func.count())
            .select_from(inbox)
            .where(inbox.c.message_key.in_([f"twilio:{i}" for i in ids]))
        )
    assert claimed == 30


async def test_after_the_refill_time_the_flooder_is_answered_again_and_a_new_flood_is_told_again(
    world: World,
) -> None:
    start = datetime.now(UTC)
    flooder = world.phone()
    await burst(world, flooder, 12, start)
    assert (len(answered(flooder)), len(told(flooder))) == (10, 1)

    # Two seconds on: two tokens back, the flood not over, so no second polite reply.
    await burst(world, flooder, 3, start + timedelta(seconds=2))
    assert (len(answered(flooder)), len(told(flooder))) == (12, 1)

    refilled = start + timedelta(seconds=12)
    freeze(world, refilled)
    reply = await flooder.say("menu", received_at=refilled)
    assert "main menu" in reply
    await burst(world, flooder, 10, refilled)
    assert (len(answered(flooder)), len(told(flooder))) == (22, 2)


async def test_a_backlog_handled_at_once_is_paced_by_when_it_was_written(world: World) -> None:
    start = datetime.now(UTC)
    freeze(world, start + timedelta(minutes=5))
    student = world.phone()
    written = [student.inbound("hi", received_at=start + timedelta(seconds=s)) for s in range(15)]
    await publish_all(world, written)
    assert (len(answered(student)), told(student)) == (15, [])


async def test_a_message_dated_in_the_future_counts_as_written_now(world: World) -> None:
    now = datetime.now(UTC)
    freeze(world, now)
    flooder = world.phone()
    ahead = now + timedelta(hours=1)
    await publish_all(world, [flooder.inbound("hi", received_at=ahead) for _ in range(11)])
    assert (len(answered(flooder)), len(told(flooder))) == (10, 1)
    tokens, updated_at, warned = await bucket_of(world, flooder)
    assert (tokens, updated_at, warned) == (0.0, now, True)


async def test_photos_and_button_replies_count_as_messages(world: World) -> None:
    now = datetime.now(UTC)
    freeze(world, now)
    flooder = world.phone()
    photo = (MediaRef(url="https://api.twilio.example/Media/ME1", content_type="image/png"),)
    messages = [flooder.inbound("", media=photo, received_at=now) for _ in range(5)]
    messages += [
        flooder.inbound("FAQ", selected_option_id="faq", received_at=now) for _ in range(5)
    ]
    messages.append(flooder.inbound("", media=photo, received_at=now))
    await publish_all(world, messages)
    assert answered(flooder) == [m.provider_message_id for m in messages[:10]]
    assert told(flooder) == [messages[10].provider_message_id]


async def test_a_redelivered_refused_message_changes_nothing(world: World) -> None:
    now = datetime.now(UTC)
    flooder = world.phone()
    flood = await burst(world, flooder, 12, now)
    bucket, replies = await bucket_of(world, flooder), len(flooder.replies())
    dropped = duplicates_so_far()

    # Were the repeats counted again, the bucket would have refilled and answered them.
    freeze(world, now + timedelta(seconds=30))
    await world.publish(flood[10], key=flooder.number)
    await world.publish(flood[11], key=flooder.number)
    await eventually(lambda: duplicates_so_far() - dropped == 2, what="both repeats dropped")
    await world.handled_nothing_pending()

    assert await bucket_of(world, flooder) == bucket
    assert len(flooder.replies()) == replies


async def test_payment_and_subscription_events_reach_a_number_that_is_flooding(
    world: World,
) -> None:
    now = datetime.now(UTC)
    flooder = world.phone()
    await burst(world, flooder, 15, now)
    ends = now + timedelta(days=30)
    facts = SubscriptionFacts(
        subscription_id=uuid.uuid4(),
        phone_number=flooder.number,
        plan_code="monthly",
        plan_name="Monthly",
        status="active",
        starts_at=now,
        ends_at=ends,
    )
    await world.deliver(SubscriptionStarted(subscription=facts), key=flooder.number)
    assert flooder.last().kind is NotificationKind.PAYMENT_RECEIVED
    assert "active until" in flooder.last().text


async def test_replicas_handling_one_new_number_at_once_share_its_bucket(world: World) -> None:
    now = datetime.now(UTC)
    flooder = world.phone()
    replicas = [
        InboundHandler(
            world.service.settings,
            world.service.sessions,
            world.service.relay,
            queue="conversation",
            clock=lambda: now,
        )
        for _ in range(2)
    ]
    flood = [flooder.inbound("hi", received_at=now) for _ in range(11)]
    await asyncio.gather(
        *(
            replicas[i % 2](Envelope.wrap(message, key=flooder.number))
            for i, message in enumerate(flood)
        )
    )
    await world.handled_nothing_pending()
    assert (len(answered(flooder)), len(told(flooder))) == (10, 1)
    tokens, _, warned = await bucket_of(world, flooder)
    assert (tokens, warned) == (0.0, True)
