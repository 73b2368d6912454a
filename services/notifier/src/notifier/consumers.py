"""Queue -> handler wiring for the notifier, in two lanes.

``notifier`` carries replies (``message.outbound.requested``), delivery statuses,
inbound messages (the 24-hour window), opt-outs and media fetches. ``notifier.bulk``
carries bulk sends, which the broker publishes under their own routing key
(``message.outbound.requested.bulk``, see ``OutboundMessageRequested.routing_key``).
Each queue has its own consumer and prefetch, so thousands of queued bulk sends never
stand in front of a reply; and when both wait for the same sender's rate limit, the
pacer serves the reply first.

Replies, statuses and inbound messages share the user's number as envelope key in one
queue: an inbound message is recorded before the reply it causes is considered, and one
number's statuses are applied in arrival order.
"""

from __future__ import annotations

from notifier.handlers import NotifierHandler
from notifier.settings import NotifierSettings
from shared.events import (
    ContactPreferenceChanged,
    DeliveryStatusReceived,
    Envelope,
    Event,
    InboundMessageReceived,
    MediaFetchRequested,
    OutboundMessageRequested,
)
from shared.messaging import QueueSpec
from shared.service import Consumer

QUEUE = "notifier"
BULK_QUEUE = "notifier.bulk"


def build_consumers(settings: NotifierSettings, handler: NotifierHandler) -> list[Consumer]:
    async def on_event(envelope: Envelope[Event]) -> None:
        payload = envelope.payload
        if isinstance(payload, OutboundMessageRequested):
            await handler.send_requested(payload)
        elif isinstance(payload, DeliveryStatusReceived):
            await handler.record_status(payload)
        elif isinstance(payload, InboundMessageReceived):
            await handler.record_inbound(payload)
        elif isinstance(payload, ContactPreferenceChanged):
            await handler.record_preference(payload)
        elif isinstance(payload, MediaFetchRequested):
            await handler.fetch_media(payload)

    replies = QueueSpec(
        name=QUEUE,
        routing_keys=(
            OutboundMessageRequested.event_type,
            DeliveryStatusReceived.event_type,
            InboundMessageReceived.event_type,
            ContactPreferenceChanged.event_type,
            MediaFetchRequested.event_type,
        ),
        prefetch=settings.broker_prefetch,
        partitions=settings.broker_partitions,
        max_attempts=settings.consumer_max_attempts,
        retry_delay_ms=settings.consumer_retry_delay_ms,
    )
    bulk = QueueSpec(
        name=BULK_QUEUE,
        routing_keys=(OutboundMessageRequested.BULK_ROUTING_KEY,),
        prefetch=settings.bulk_prefetch,
        max_attempts=settings.consumer_max_attempts,
        retry_delay_ms=settings.consumer_retry_delay_ms,
    )
    return [Consumer(replies, on_event), Consumer(bulk, on_event)]
