"""Queue -> handler wiring for the notifier."""

from __future__ import annotations

from notifier.handlers import NotifierHandler
from notifier.settings import NotifierSettings
from shared.events import DeliveryStatusReceived, Envelope, Event, OutboundMessageRequested
from shared.messaging import QueueSpec
from shared.service import Consumer

QUEUE = "notifier"


def build_consumers(settings: NotifierSettings, handler: NotifierHandler) -> list[Consumer]:
    async def on_event(envelope: Envelope[Event]) -> None:
        payload = envelope.payload
        if isinstance(payload, OutboundMessageRequested):
            await handler.send_requested(payload)
        elif isinstance(payload, DeliveryStatusReceived):
            await handler.record_status(payload)

    # One queue for both: requests and statuses share the recipient as envelope key, so
    # one number's sends and statuses are handled in the order they arrived.
    spec = QueueSpec(
        name=QUEUE,
        routing_keys=(OutboundMessageRequested.event_type, DeliveryStatusReceived.event_type),
        prefetch=settings.broker_prefetch,
        max_attempts=settings.consumer_max_attempts,
        retry_delay_ms=settings.consumer_retry_delay_ms,
    )
    return [Consumer(spec, on_event)]
