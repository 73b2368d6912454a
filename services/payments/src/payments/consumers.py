"""Queue -> handler wiring for the payments service."""

from __future__ import annotations

from payments.handlers import PaymentsHandler
from payments.settings import PaymentsSettings
from shared.events import PaymentRequested, PaystackEventReceived
from shared.messaging import QueueSpec
from shared.service import Consumer

QUEUE = "payments"


def queue_spec(settings: PaymentsSettings) -> QueueSpec:
    return QueueSpec(
        name=QUEUE,
        routing_keys=(PaymentRequested.event_type, PaystackEventReceived.event_type),
        prefetch=settings.broker_prefetch,
        max_attempts=settings.consumer_max_attempts,
        retry_delay_ms=settings.consumer_retry_delay_ms,
    )


def build_consumers(settings: PaymentsSettings, handler: PaymentsHandler) -> list[Consumer]:
    return [Consumer(queue_spec(settings), handler)]
