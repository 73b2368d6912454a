"""The one-hop floor: consume -> one transaction -> one confirmed publish -> ack, on the
same RabbitMQ and PostgreSQL, with the project's own broker code."""

from __future__ import annotations

import asyncio
import time
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.db import async_url
from shared.events import Channel, Envelope, Event, InboundMessageReceived, OutboundMessageRequested
from shared.messaging import QueueSpec
from shared.messaging.rabbitmq import RabbitBroker

MESSAGES = 1500
INSERT = text("INSERT INTO bench_hop VALUES (:id)")
TO = "+2348000000001"


async def one_hop_floor(rabbitmq_url: str, database_url: str) -> float:
    """Messages per second through the loop, with a full queue to start from."""
    engine = create_async_engine(async_url(database_url), pool_size=10)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE IF NOT EXISTS bench_hop (id uuid PRIMARY KEY)"))
    exchange = f"bench-{uuid.uuid4().hex[:6]}"
    broker = RabbitBroker(rabbitmq_url, service="bench", exchange_name=exchange)
    await broker.connect()
    go, done = asyncio.Event(), asyncio.Event()
    handled = 0

    async def handler(envelope: Envelope[Event]) -> None:
        nonlocal handled
        await go.wait()
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO bench_hop VALUES (:id)"), {"id": envelope.id}
            )
        reply = OutboundMessageRequested(
            message_id=envelope.id, to_number="+2348000000001", text="x"
        )
        await broker.publish(Envelope.wrap(reply, key=envelope.key))
        handled += 1
        if handled == MESSAGES:
            done.set()

    spec = QueueSpec(
        name=f"{exchange}.in",
        routing_keys=(InboundMessageReceived.event_type,),
        prefetch=32,
        ordered_by_key=False,
    )
    try:
        await broker.consume(spec, handler)
        for i in range(MESSAGES):
            event = InboundMessageReceived(
                channel=Channel.TWILIO,
                provider_message_id=f"SM{i}",
                from_number=f"+23480{i:08d}",
                to_number="+14155238886",
                text="hi",
            )
            await broker.publish(Envelope.wrap(event, key=event.from_number))
        started = time.perf_counter()
        go.set()
        await asyncio.wait_for(done.wait(), 120)
        return MESSAGES / (time.perf_counter() - started)
    finally:
        await broker.close()
        await engine.dispose()
