"""Twilio's form fields -> our inbound events. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shared.events import (
    Channel,
    DeliveryState,
    DeliveryStatusReceived,
    InboundMessageReceived,
    MediaRef,
)

MAX_MEDIA = 10
_STATUSES: dict[str, DeliveryState] = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
    "undelivered": "undelivered",
    "canceled": "failed",
}

Form = Mapping[str, Sequence[str]]


class PayloadError(ValueError):
    """The form is signed but lacks what every such webhook carries."""


def _one(form: Form, name: str, *, required: bool = True) -> str:
    values = form.get(name) or []
    if not values or not values[0]:
        if required:
            raise PayloadError(f"missing field {name}")
        return ""
    return values[0]


def whatsapp_number(address: str) -> str:
    """'whatsapp:+234 800...' -> '+234800...'."""
    number = address.removeprefix("whatsapp:").strip().replace(" ", "")
    if not number.startswith("+"):
        number = "+" + number
    digits = number[1:]
    if not digits.isdigit() or not 6 <= len(digits) <= 15:
        raise PayloadError("the sender is not a phone number")
    return number


def inbound_message(form: Form) -> InboundMessageReceived:
    media: list[MediaRef] = []
    try:
        count = min(int(_one(form, "NumMedia", required=False) or 0), MAX_MEDIA)
    except ValueError as exc:
        raise PayloadError("NumMedia is not a number") from exc
    for index in range(count):
        url = _one(form, f"MediaUrl{index}", required=False)
        if url:
            content_type = _one(form, f"MediaContentType{index}", required=False) or None
            media.append(MediaRef(url=url, content_type=content_type))
    return InboundMessageReceived(
        channel=Channel.TWILIO,
        provider_message_id=_one(form, "MessageSid"),
        from_number=whatsapp_number(_one(form, "From")),
        to_number=whatsapp_number(_one(form, "To")),
        text=_one(form, "ButtonText", required=False) or _one(form, "Body", required=False),
        media=tuple(m for m in media if _is_image(m)),
        profile_name=_one(form, "ProfileName", required=False) or None,
        # A tapped quick-reply button: its payload is the option's id.
        selected_option_id=_one(form, "ButtonPayload", required=False) or None,
        unsupported_kind=_unsupported_kind(form, media),
    )


_HANDLED_TYPES = frozenset({"", "text", "image", "button", "interactive"})


def _is_image(media: MediaRef) -> bool:
    return (media.content_type or "image/").startswith("image/")


def _unsupported_kind(form: Form, media: list[MediaRef]) -> str | None:
    """Audio, video, documents, locations, stickers ...: what kind, else None."""
    kind = _one(form, "MessageType", required=False).lower()
    if kind not in _HANDLED_TYPES:
        return kind[:40]
    if _one(form, "Latitude", required=False):
        return "location"
    other = next((m for m in media if not _is_image(m)), None)
    if other is not None and not any(_is_image(m) for m in media):
        major = (other.content_type or "").partition("/")[0]
        return major if major in ("audio", "video") else "document"
    return None


def delivery_status(form: Form) -> DeliveryStatusReceived:
    raw = _one(form, "MessageStatus", required=False) or _one(form, "SmsStatus")
    status = _STATUSES.get(raw.lower())
    if status is None:
        raise PayloadError(f"unknown message status {raw[:20]!r}")
    to = _one(form, "To", required=False)
    return DeliveryStatusReceived(
        channel=Channel.TWILIO,
        provider_message_id=_one(form, "MessageSid", required=False) or _one(form, "SmsSid"),
        status=status,
        recipient=whatsapp_number(to) if to else None,
        error_code=_one(form, "ErrorCode", required=False) or None,
        error_message=_one(form, "ErrorMessage", required=False) or None,
    )
