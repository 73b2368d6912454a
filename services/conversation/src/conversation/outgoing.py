"""Collects the events one handled message causes, with ids derived from that message, so
handling it again can never make a second, differently-numbered message."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from conversation.models import ConversationState
from shared.events import (
    Channel,
    Envelope,
    Event,
    MediaRef,
    MessagePriority,
    NotificationKind,
    Option,
    OutboundMessageRequested,
)

NAMESPACE = uuid.UUID("6f1c1c57-2f0e-4c55-9d1e-7a1c8b3e5a10")


def derived_id(source: str, suffix: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{source}:{suffix}")


class Outgoing:
    def __init__(self, source: str, trace_id: str) -> None:
        self.source = source
        self.trace_id = trace_id
        self.events: list[Envelope[Event]] = []
        self._messages = 0

    def event(self, event: Event, key: str) -> None:
        self.events.append(Envelope.wrap(event, key=key, trace_id=self.trace_id))

    def message(
        self,
        to: str,
        channel: Channel,
        text: str,
        options: Sequence[Option] = (),
        *,
        media: Sequence[MediaRef] = (),
        kind: NotificationKind = NotificationKind.REPLY,
        priority: MessagePriority = MessagePriority.REPLY,
        template_params: Sequence[str] = (),
        in_reply_to: str | None = None,
    ) -> None:
        message_id = derived_id(self.source, str(self._messages))
        self._messages += 1
        outbound = OutboundMessageRequested(
            message_id=message_id,
            to_number=to,
            channel=channel,
            text=text,
            options=tuple(options),
            media=tuple(media),
            priority=priority,
            in_reply_to=in_reply_to,
            kind=kind,
            template_params=tuple(template_params),
        )
        self.event(outbound, key=to)


async def channel_of(session: AsyncSession, phone: str) -> Channel:
    """The channel a number last wrote to us on (Twilio if it never has)."""
    row = await session.get(ConversationState, phone)
    return Channel(row.channel) if row is not None else Channel.TWILIO
