"""Queue -> handler wiring for the conversation service.

Everything keyed by a phone number comes through the one `conversation` queue, so a
number's messages, photo verdicts and payment events are handled one at a time, in order.
"""

from __future__ import annotations

from conversation.handlers import InboundHandler
from conversation.reactions import HANDLED
from conversation.settings import ConversationSettings
from shared.events import InboundMessageReceived, MediaFetched
from shared.messaging import QueueSpec
from shared.service import Consumer

QUEUE = "conversation"
ROUTING_KEYS = (
    InboundMessageReceived.event_type,
    MediaFetched.event_type,
    *(event.event_type for event in HANDLED),
)


def queue_spec(settings: ConversationSettings) -> QueueSpec:
    return QueueSpec(
        name=QUEUE,
        routing_keys=ROUTING_KEYS,
        prefetch=settings.broker_prefetch,
        partitions=settings.broker_partitions,
        max_attempts=settings.consumer_max_attempts,
        retry_delay_ms=settings.consumer_retry_delay_ms,
    )


def build_consumers(settings: ConversationSettings, inbound: InboundHandler) -> list[Consumer]:
    return [Consumer(queue_spec(settings), inbound)]
