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

    def routing_key(self) -> str:
        """The key the broker publishes this event under: its type, unless an event
        splits its traffic into lanes (see OutboundMessageRequested)."""
        return self.event_type


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

    @property
    def routing_key(self) -> str:
        return self.payload.routing_key()


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
    """Media as a provider offers it (inbound) or as we stored it (outbound).

    Inbound from Twilio: ``url`` is the provider's media URL. Inbound from the Cloud API:
    ``provider_media_id`` is Meta's media id (``url`` empty until fetched). Stored media:
    ``sha256`` names the file under ``MEDIA_ROOT``; the notifier turns it into a signed,
    expiring link or an upload for the channel.
    """

    model_config = ConfigDict(frozen=True)

    url: str = ""
    content_type: str | None = None
    provider_media_id: str | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    caption: str | None = None


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
    # A tapped button or list row: the id of the option we offered (``text`` holds its title).
    selected_option_id: str | None = None
    # A message of a kind we do not handle (audio, location, sticker ...): its kind, so
    # the conversation can say politely what we accept.
    unsupported_kind: str | None = None


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


class NotificationKind(StrEnum):
    """What a message is, for the 24-hour window: outside it, only an approved template
    configured for its kind may go (a plain reply has none and is held)."""

    REPLY = "reply"
    SOLUTION_READY = "solution_ready"
    PAYMENT_RECEIVED = "payment_received"
    RENEWAL_REMINDER = "renewal_reminder"
    HOMEWORK_ASSIGNED = "homework_assigned"
    SUPPORT_MESSAGE = "support_message"
    ORDER_UPDATE = "order_update"


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
    kind: NotificationKind = NotificationKind.REPLY
    # Positional values for the kind's template, used only when it must go as one.
    template_params: tuple[str, ...] = ()

    BULK_ROUTING_KEY: ClassVar[str] = "message.outbound.requested.bulk"

    def routing_key(self) -> str:
        """Bulk sends travel under their own key, so the notifier can queue them in a lane
        of their own behind replies; publishers need not know (Envelope.wrap as ever)."""
        if self.priority is MessagePriority.BULK:
            return self.BULK_ROUTING_KEY
        return self.event_type


@register
class ContactPreferenceChanged(Event):
    """A number said `stop` (opted out) or `start` (back in); the notifier honours it."""

    event_type: ClassVar[str] = "contact.preference.changed"

    phone_number: str
    opted_out: bool
    changed_at: datetime = Field(default_factory=utcnow)


# --- media, fetched and checked by the notifier for the others ---------------------


class MediaRejection(StrEnum):
    TOO_LARGE = "too_large"
    UNSUPPORTED_TYPE = "unsupported_type"
    UNREADABLE = "unreadable"  # truncated or corrupt
    DOWNLOAD_FAILED = "download_failed"


@register
class MediaFetchRequested(Event):
    event_type: ClassVar[str] = "media.fetch.requested"

    request_id: uuid.UUID
    phone_number: str  # whose media; also the envelope key
    channel: Channel
    media: MediaRef
    max_bytes: int = 5 * 1024 * 1024
    allowed_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp")


@register
class MediaFetched(Event):
    """The outcome of a fetch: ``stored`` when accepted, else ``rejection`` and a reason."""

    event_type: ClassVar[str] = "media.fetched"

    request_id: uuid.UUID
    phone_number: str
    stored: MediaRef | None = None
    rejection: MediaRejection | None = None
    detail: str | None = None


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


# --- payments ----------------------------------------------------------------------


class PaymentPurpose(StrEnum):
    ORDER = "order"
    PLAN = "plan"


@register
class PaymentRequested(Event):
    """Ask payments for a checkout: for an order (amount given) or a plan (payments
    knows the price). ``request_id`` makes a repeated request create one payment."""

    event_type: ClassVar[str] = "payment.requested"

    request_id: uuid.UUID
    purpose: PaymentPurpose
    phone_number: str
    email: str | None = None
    order_id: uuid.UUID | None = None
    order_reference: str | None = None
    plan_code: str | None = None
    amount_minor: int | None = None  # orders only; plans are priced by payments
    currency: str | None = None


class PaymentFacts(BaseModel):
    """What every payment event carries, so a consumer needs nothing else."""

    model_config = ConfigDict(frozen=True)

    request_id: uuid.UUID
    reference: str  # the payment's own reference, sent to Paystack
    purpose: PaymentPurpose
    phone_number: str
    amount_minor: int
    currency: str
    order_id: uuid.UUID | None = None
    order_reference: str | None = None
    plan_code: str | None = None


@register
class PaymentLinkCreated(Event):
    event_type: ClassVar[str] = "payment.link.created"

    payment: PaymentFacts
    checkout_url: str


@register
class PaymentSucceeded(Event):
    """Counted only after Paystack's verify endpoint agreed on status, amount, currency."""

    event_type: ClassVar[str] = "payment.succeeded"

    payment: PaymentFacts
    paid_at: datetime


@register
class PaymentFailed(Event):
    event_type: ClassVar[str] = "payment.failed"

    payment: PaymentFacts
    reason: str  # short, user-presentable: "declined", "abandoned", "could not start"


class SubscriptionFacts(BaseModel):
    model_config = ConfigDict(frozen=True)

    subscription_id: uuid.UUID
    phone_number: str
    plan_code: str
    plan_name: str
    status: Literal["active", "expired", "cancelled"]
    starts_at: datetime
    ends_at: datetime
    homework_credits: int | None = None  # None: unlimited while active


@register
class SubscriptionStarted(Event):
    event_type: ClassVar[str] = "subscription.started"

    subscription: SubscriptionFacts


@register
class SubscriptionExtended(Event):
    event_type: ClassVar[str] = "subscription.extended"

    subscription: SubscriptionFacts


@register
class SubscriptionExpired(Event):
    event_type: ClassVar[str] = "subscription.expired"

    subscription: SubscriptionFacts


@register
class SubscriptionRenewalDue(Event):
    event_type: ClassVar[str] = "subscription.renewal.due"

    subscription: SubscriptionFacts
    days_left: int


@register
class PaystackEventReceived(Event):
    """A Paystack webhook whose signature the gateway checked; payments still verifies
    the charge with Paystack before anything counts."""

    event_type: ClassVar[str] = "paystack.event.received"

    event: str  # e.g. "charge.success"
    reference: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    received_at: datetime = Field(default_factory=utcnow)


def payload_dict(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json")
