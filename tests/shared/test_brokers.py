"""Both brokers route, retry, dead-letter and keep per-key order the same way."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from shared.events import Envelope, OutboundMessageRequested
from shared.messaging import Broker, PermanentFailure, QueueSpec
from shared.messaging.memory import InMemoryBroker, topic_matches
from shared.messaging.rabbitmq import RabbitBroker


def outbound(text: str, to: str = "+2348000000001") -> Envelope[OutboundMessageRequested]:
    event = OutboundMessageRequested(message_id=uuid.uuid4(), to_number=to, text=text)
    return Envelope.wrap(event, key=to)


@pytest.fixture(params=["memory", "rabbitmq"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[Broker]:
    if request.param == "memory":
        instance: Broker = InMemoryBroker(service="test")
    else:
        url = request.getfixturevalue("rabbitmq_url")
        instance = RabbitBroker(url, service="test", exchange_name=f"x-{uuid.uuid4().hex[:8]}")
    await instance.connect()
    yield instance
    await instance.close()


def spec(**overrides: object) -> QueueSpec:
    values: dict[str, object] = {
        "name": f"q-{uuid.uuid4().hex[:8]}",
        "routing_keys": ("message.outbound.#",),
        "prefetch": 8,
        "max_attempts": 3,
        "retry_delay_ms": 50,
    }
    values.update(overrides)
    return QueueSpec(**values)  # type: ignore[arg-type]


async def wait_for(condition: object, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_published_event_reaches_bound_queue_with_its_typed_payload(broker: Broker) -> None:
    seen: list[Envelope[OutboundMessageRequested]] = []

    async def handler(envelope: Envelope) -> None:  # type: ignore[type-arg]
        seen.append(envelope)

    await broker.consume(spec(), handler)
    sent = outbound("hello")
    await broker.publish(sent)
    await wait_for(lambda: len(seen) == 1)
    assert isinstance(seen[0].payload, OutboundMessageRequested)
    assert seen[0].payload.text == "hello"
    assert seen[0].id == sent.id


async def test_failing_handler_is_retried_then_succeeds(broker: Broker) -> None:
    attempts: list[int] = []

    async def handler(envelope: Envelope) -> None:  # type: ignore[type-arg]
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("not yet")

    await broker.consume(spec(), handler)
    await broker.publish(outbound("retry me"))
    await wait_for(lambda: len(attempts) == 3)
    await asyncio.sleep(0.3)
    assert len(attempts) == 3


async def test_message_failing_every_attempt_stops_after_max_attempts(broker: Broker) -> None:
    attempts: list[int] = []
    later: list[str] = []

    async def handler(envelope: Envelope) -> None:  # type: ignore[type-arg]
        if envelope.payload.text == "poison":
            attempts.append(1)
            raise RuntimeError("always")
        later.append(envelope.payload.text)

    queue = spec(ordered_by_key=False)
    await broker.consume(queue, handler)
    await broker.publish(outbound("poison"))
    await broker.publish(outbound("fine", to="+2348000000002"))
    await wait_for(lambda: len(attempts) == 3 and later == ["fine"])
    await asyncio.sleep(0.3)
    assert len(attempts) == 3
    if isinstance(broker, InMemoryBroker):
        assert len(broker.dead_letters(queue.name)) == 1


async def test_permanent_failure_is_not_retried(broker: Broker) -> None:
    attempts: list[int] = []

    async def handler(envelope: Envelope) -> None:  # type: ignore[type-arg]
        attempts.append(1)
        raise PermanentFailure("cannot ever work")

    await broker.consume(spec(), handler)
    await broker.publish(outbound("x"))
    await wait_for(lambda: len(attempts) == 1)
    await asyncio.sleep(0.3)
    assert len(attempts) == 1


async def test_one_keys_messages_are_handled_one_at_a_time_in_order(broker: Broker) -> None:
    handled: list[str] = []
    running: set[str] = set()
    overlaps: list[str] = []

    async def handler(envelope: Envelope) -> None:  # type: ignore[type-arg]
        key = envelope.key
        if key in running:
            overlaps.append(key)
        running.add(key)
        await asyncio.sleep(0.005)
        running.discard(key)
        handled.append(envelope.payload.text)

    await broker.consume(spec(prefetch=16), handler)
    for i in range(20):
        await broker.publish(outbound(f"a{i}", to="+2340000000001"))
        await broker.publish(outbound(f"b{i}", to="+2340000000002"))
    await wait_for(lambda: len(handled) == 40)
    assert [t for t in handled if t.startswith("a")] == [f"a{i}" for i in range(20)]
    assert [t for t in handled if t.startswith("b")] == [f"b{i}" for i in range(20)]
    assert overlaps == []


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("message.#", "message.inbound.received", True),
        ("message.*", "message.inbound.received", False),
        ("message.*.received", "message.inbound.received", True),
        ("order.placed", "order.placed", True),
        ("#", "anything.at.all", True),
        ("order.placed", "order.paid", False),
    ],
)
def test_topic_matching_follows_amqp_rules(pattern: str, key: str, expected: bool) -> None:
    assert topic_matches(pattern, key) is expected


async def test_bulk_sends_travel_under_their_own_key_into_their_own_queue(broker: Broker) -> None:
    from shared.events import MessagePriority

    replies: list[str] = []
    bulk: list[str] = []

    async def on_reply(envelope: Envelope) -> None:  # type: ignore[type-arg]
        replies.append(envelope.payload.text)

    async def on_bulk(envelope: Envelope) -> None:  # type: ignore[type-arg]
        bulk.append(envelope.payload.text)

    await broker.consume(spec(routing_keys=("message.outbound.requested",)), on_reply)
    await broker.consume(spec(routing_keys=("message.outbound.requested.bulk",)), on_bulk)
    reminder = OutboundMessageRequested(
        message_id=uuid.uuid4(),
        to_number="+2348000000002",
        text="reminder",
        priority=MessagePriority.BULK,
    )
    await broker.publish(Envelope.wrap(reminder, key="+2348000000002"))
    await broker.publish(outbound("answer"))
    await wait_for(lambda: replies and bulk)
    await asyncio.sleep(0.1)
    assert (replies, bulk) == (["answer"], ["reminder"])
