"""A message whose handler always fails goes to the dead-letter queue after the
configured attempts, is counted in the metrics, and holds up nothing behind it."""

from __future__ import annotations

import asyncio
import uuid

import aio_pika
from prometheus_client import REGISTRY

from shared.events import Envelope, Event, OutboundMessageRequested
from shared.messaging import QueueSpec
from shared.messaging.rabbitmq import RabbitBroker
from shared.testing import eventually


def outbound(text: str, to: str) -> Envelope[OutboundMessageRequested]:
    event = OutboundMessageRequested(message_id=uuid.uuid4(), to_number=to, text=text)
    return Envelope.wrap(event, key=to)


def dead_lettered(queue: str) -> float:
    labels = {"service": "poison-test", "queue": queue, "outcome": "dead_lettered"}
    return REGISTRY.get_sample_value("tutordesk_messages_handled_total", labels) or 0.0


async def dead_letter_depth(url: str, queue: str) -> int:
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count or 0
    finally:
        await connection.close()


async def test_poison_message_is_dead_lettered_after_its_attempts_and_blocks_nothing(
    rabbitmq_url: str,
) -> None:
    exchange = f"x-{uuid.uuid4().hex[:8]}"
    spec = QueueSpec(
        name=f"q-{uuid.uuid4().hex[:8]}",
        routing_keys=("message.outbound.#",),
        prefetch=8,
        max_attempts=3,
        retry_delay_ms=1000,
    )
    broker = RabbitBroker(rabbitmq_url, service="poison-test", exchange_name=exchange)
    attempts: list[float] = []
    handled: list[tuple[str, str]] = []

    async def handler(envelope: Envelope[Event]) -> None:
        payload = envelope.payload
        assert isinstance(payload, OutboundMessageRequested)
        if payload.text == "poison":
            attempts.append(asyncio.get_running_loop().time())
            raise ValueError("this message can never be handled")
        handled.append((payload.to_number, payload.text))

    await broker.connect()
    try:
        await broker.consume(spec, handler)
        before = dead_lettered(spec.name)
        poisoned, other = "+2348000000001", "+2348000000002"
        await broker.publish(outbound("poison", poisoned))
        await broker.publish(outbound("after the poison", poisoned))
        for i in range(20):
            await broker.publish(outbound(f"other {i}", other))
        # Another number's messages pass while the poison message is still being retried.
        await eventually(lambda: len([h for h in handled if h[0] == other]) == 20, within=15)
        assert len(attempts) < 3, "the other number waited for the poison message"
        await eventually(lambda: dead_letter_depth(rabbitmq_url, spec.dead_letter_queue), within=15)
        assert len(attempts) == 3  # it went to the dead-letter queue after its attempts ...
        assert attempts[2] - attempts[0] >= 2.0  # ... waiting between them
        assert dead_lettered(spec.name) - before == 1
        assert await dead_letter_depth(rabbitmq_url, spec.dead_letter_queue) == 1
        assert (poisoned, "after the poison") in handled
        assert [h for h in handled if h[0] == other] == [(other, f"other {i}") for i in range(20)]
    finally:
        await broker.close()
