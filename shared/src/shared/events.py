"""Every event's shape, defined once and versioned, and the envelope that carries it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    """Base of every event payload. ``event_type`` doubles as the routing key."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1


E = TypeVar("E", bound=Event)

_REGISTRY: dict[str, type[Event]] = {}


def register(cls: type[E]) -> type[E]:
    if cls.event_type in _REGISTRY:
        raise ValueError(f"event type {cls.event_type!r} is defined twice")
    _REGISTRY[cls.event_type] = cls
    return cls


def event_class(event_type: str) -> type[Event]:
    try:
        return _REGISTRY[event_type]
    except KeyError:
        raise UnknownEventError(event_type) from None


class UnknownEventError(ValueError):
    def __init__(self, event_type: str) -> None:
        super().__init__(f"no event type named {event_type!r}")
        self.event_type = event_type


class Envelope(BaseModel, Generic[E]):
    """What travels on the broker: identity, timing, tracing and one typed payload."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    version: int
    occurred_at: datetime = Field(default_factory=utcnow)
    trace_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    # Messages sharing a key (a phone number) must be handled in order.
    key: str | None = None
    payload: E

    @classmethod
    def wrap(
        cls,
        event: E,
        *,
        trace_id: str | None = None,
        key: str | None = None,
        id: uuid.UUID | None = None,
    ) -> Envelope[E]:
        envelope_type: Any = Envelope[type(event)]  # type: ignore[misc]
        return envelope_type(  # type: ignore[no-any-return]
            id=id or uuid.uuid4(),
            type=event.event_type,
            version=event.event_version,
            trace_id=trace_id or uuid.uuid4().hex,
            key=key,
            payload=event,
        )

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()


def decode_envelope(body: bytes | str) -> Envelope[Event]:
    """Parse bytes from the broker into an envelope with its typed payload."""
    head = _EnvelopeHead.model_validate_json(body)
    cls = event_class(head.type)
    return Envelope[cls].model_validate_json(body)  # type: ignore[valid-type]


class _EnvelopeHead(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str


# --- channel-neutral message parts -------------------------------------------------


class Channel(StrEnum):
    TWILIO = "twilio"
    CLOUD_API = "cloud_api"


class MediaRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    url: str
    content_type: str | None = None


class Option(BaseModel):
    """One choice offered to the user: a button, a list row or a numbered line."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    description: str | None = None


# --- inbound, from the gateway -----------------------------------------------------


@register
class InboundMessageReceived(Event):
    event_type: ClassVar[str] = "message.inbound.received"

    channel: Channel
    provider_message_id: str
    from_number: str  # E.164, e.g. +2348000000001
    to_number: str
    text: str = ""
    media: tuple[MediaRef, ...] = ()
    profile_name: str | None = None
    received_at: datetime = Field(default_factory=utcnow)


DeliveryState = Literal["queued", "sending", "sent", "delivered", "read", "failed", "undelivered"]


@register
class DeliveryStatusReceived(Event):
    event_type: ClassVar[str] = "message.status.received"

    channel: Channel
    provider_message_id: str
    status: DeliveryState
    recipient: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    received_at: datetime = Field(default_factory=utcnow)


# --- outbound, to the notifier -----------------------------------------------------


class MessagePriority(StrEnum):
    REPLY = "reply"  # answers a user's own message: goes first
    BULK = "bulk"  # reminders, broadcasts


@register
class OutboundMessageRequested(Event):
    event_type: ClassVar[str] = "message.outbound.requested"

    message_id: uuid.UUID  # ours; the notifier sends each id at most once
    to_number: str
    channel: Channel = Channel.TWILIO
    text: str
    options: tuple[Option, ...] = ()
    media: tuple[MediaRef, ...] = ()
    priority: MessagePriority = MessagePriority.REPLY
    in_reply_to: str | None = None  # provider id of the message being answered


# --- domain events -----------------------------------------------------------------


class OrderLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    name: str
    quantity: int
    unit_price_minor: int


@register
class OrderPlaced(Event):
    event_type: ClassVar[str] = "order.placed"

    order_id: uuid.UUID
    reference: str
    phone_number: str
    currency: str
    total_minor: int
    lines: tuple[OrderLine, ...]


def payload_dict(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json")
