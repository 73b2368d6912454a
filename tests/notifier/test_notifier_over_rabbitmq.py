"""The notifier on a real RabbitMQ: a request redelivered sends once, a refusal is acked."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from sqlalchemy import select

from notifier.models import OutboundMessage
from notifier.service import NotifierService
from notifier.settings import NotifierSettings
from notifier.testing import FakeTwilio, user_wrote
from shared.events import Channel, DeliveryStatusReceived, Envelope, OutboundMessageRequested
from shared.messaging.rabbitmq import RabbitBroker
from shared.testing import eventually


@pytest.fixture
async def on_rabbitmq(
    settings: NotifierSettings, rabbitmq_url: str
) -> AsyncIterator[tuple[NotifierService, RabbitBroker]]:
    broker = RabbitBroker(rabbitmq_url, service="notifier")
    service = NotifierService(settings, broker)
    await service.start()
    yield service, broker
    await service.stop()


async def dead_letters(rabbitmq_url: str) -> int:
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue("notifier.dead", passive=True)
        return queue.declaration_result.message_count or 0


async def status_of(service: NotifierService, message_id: uuid.UUID) -> str | None:
    async with service.sessions() as session:
        return await session.scalar(
            select(OutboundMessage.status).where(OutboundMessage.id == message_id)
        )


async def test_a_redelivered_request_sends_once_and_a_refused_one_is_not_retried(
    on_rabbitmq: tuple[NotifierService, RabbitBroker],
    twilio: tuple[FakeTwilio, str],
    rabbitmq_url: str,
) -> None:
    service, broker = on_rabbitmq
    fake, _ = twilio
    to = f"+2349{uuid.uuid4().int % 10**9:09d}"
    dead_before = await dead_letters(rabbitmq_url)

    def requested(text: str, number: str = to) -> OutboundMessageRequested:
        return OutboundMessageRequested(
            message_id=uuid.uuid4(), to_number=number, channel=Channel.TWILIO, text=text
        )

    first = requested("once")
    once = Envelope.wrap(first, key=to)
    refused = requested("refused", number="+1234")
    last = requested("last")
    await broker.publish(user_wrote(to))
    await broker.publish(user_wrote("+1234"))
    for envelope in (once, once, Envelope.wrap(refused, key=to), Envelope.wrap(last, key=to)):
        await broker.publish(envelope)
    # One number's messages are handled in order, so once "last" is out, the rest are done.
    await eventually(lambda: [m.body for m in fake.sent_to(to)][-1:] == ["last"], within=15)
    assert [m.body for m in fake.sent_to(to)] == ["once", "last"]

    async def refused_recorded() -> bool:
        return await status_of(service, refused.message_id) == "failed"

    await eventually(refused_recorded, what="the refusal recorded")
    assert fake.requests == 3

    sid = fake.sent_to(to)[0].sid
    report = DeliveryStatusReceived(
        channel=Channel.TWILIO, provider_message_id=sid, status="read", recipient=to
    )
    await broker.publish(Envelope.wrap(report, key=to))

    async def read() -> bool:
        return await status_of(service, first.message_id) == "read"

    await eventually(read, what="read recorded")
    assert await dead_letters(rabbitmq_url) == dead_before
