"""Queue -> handler wiring for the payments service."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from payments import handlers
from payments.settings import PaymentsSettings
from shared.events import Envelope, Event, OrderPlaced
from shared.messaging import QueueSpec
from shared.service import Consumer

QUEUE = "payments"


def build_consumers(
    settings: PaymentsSettings, sessions: async_sessionmaker[AsyncSession]
) -> list[Consumer]:
    async def on_event(envelope: Envelope[Event]) -> None:
        if isinstance(envelope.payload, OrderPlaced):
            async with sessions() as session, session.begin():
                await handlers.record_order_awaiting_payment(
                    session, envelope.payload, message_key=str(envelope.id)
                )

    spec = QueueSpec(
        name=QUEUE,
        routing_keys=(OrderPlaced.event_type,),
        prefetch=settings.broker_prefetch,
        max_attempts=settings.consumer_max_attempts,
        retry_delay_ms=settings.consumer_retry_delay_ms,
    )
    return [Consumer(spec, on_event)]
