"""Queue -> handler wiring for the conversation service."""

from __future__ import annotations

from conversation.handlers import InboundHandler
from conversation.settings import ConversationSettings
from shared.events import InboundMessageReceived
from shared.messaging import QueueSpec
from shared.service import Consumer

QUEUE = "conversation"


def queue_spec(settings: ConversationSettings) -> QueueSpec:
    return QueueSpec(
        name=QUEUE,
        routing_keys=(InboundMessageReceived.event_type,),
        prefetch=settings.broker_prefetch,
        max_attempts=settings.consumer_max_attempts,
        retry_delay_ms=settings.consumer_retry_delay_ms,
    )


def build_consumers(settings: ConversationSettings, inbound: InboundHandler) -> list[Consumer]:
    return [Consumer(queue_spec(settings), inbound)]
