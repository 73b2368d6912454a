"""The Cloud API's webhook JSON -> our inbound events, every entry and change of it. Pure.

Shapes (Meta's ``messages`` field): ``entry[].changes[].value`` holds ``metadata``
(our ``display_phone_number``), ``contacts`` (``wa_id`` and ``profile.name``),
``messages`` (``from``, ``id``, ``timestamp``, ``type`` and an object named after the
type) and ``statuses`` (``id``, ``status``, ``recipient_id``, ``errors``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shared.events import (
    Channel,
    DeliveryState,
    DeliveryStatusReceived,
    InboundMessageReceived,
    MediaRef,
)

_STATUSES: dict[str, DeliveryState] = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
}

Json = Mapping[str, Any]


class CloudPayloadError(ValueError):
    """The JSON is signed but not shaped as a Cloud API webhook."""


def e164(digits: str) -> str:
    """'16505551234' or '+1 650-555-1234' -> '+16505551234'."""
    number = "".join(ch for ch in str(digits) if ch.isdigit())
    if not 6 <= len(number) <= 15:
        raise CloudPayloadError("not a phone number")
    return "+" + number


def events_from_payload(
    payload: Json,
) -> tuple[list[InboundMessageReceived | DeliveryStatusReceived], list[str]]:
    """Every message and status in the payload, in order, and what was skipped (by kind)."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("entry"), list):
        raise CloudPayloadError("no entry list")
    events: list[InboundMessageReceived | DeliveryStatusReceived] = []
    skipped: list[str] = []
    for entry in payload["entry"]:
        for change in _list(entry, "changes"):
            value = change.get("value") if isinstance(change, Mapping) else None
            if not isinstance(value, Mapping) or change.get("field", "messages") != "messages":
                skipped.append("change")
                continue
            metadata = value.get("metadata") or {}
            display = metadata.get("display_phone_number") or metadata.get("phone_number_id")
            to_number = e164(str(display or ""))
            names = {
                str(c.get("wa_id")): (c.get("profile") or {}).get("name")
                for c in _list(value, "contacts")
                if isinstance(c, Mapping)
            }
            for message in _list(value, "messages"):
                events.append(_message(message, to_number, names))
            for status in _list(value, "statuses"):
                report = _status(status)
                if report is None:
                    skipped.append("status")
                else:
                    events.append(report)
    return events, skipped


def _list(holder: Any, name: str) -> list[Any]:
    if not isinstance(holder, Mapping):
        raise CloudPayloadError(f"{name}: not an object")
    value = holder.get(name) or []
    if not isinstance(value, list):
        raise CloudPayloadError(f"{name} is not a list")
    return value


def _when(timestamp: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(timestamp), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def _message(message: Any, to_number: str, names: Mapping[str, Any]) -> InboundMessageReceived:
    if not isinstance(message, Mapping) or not message.get("id") or not message.get("from"):
        raise CloudPayloadError("a message without id or sender")
    kind = str(message.get("type") or "unknown")
    body: Mapping[str, Any] = message.get(kind) if isinstance(message.get(kind), Mapping) else {}
    fields: dict[str, Any] = {}
    if kind == "text":
        fields["text"] = str(body.get("body") or "")
    elif kind == "image" and body.get("id"):
        caption = body.get("caption") or None
        fields["text"] = caption or ""
        fields["media"] = (
            MediaRef(
                provider_media_id=str(body["id"]),
                content_type=body.get("mime_type"),
                caption=caption,
            ),
        )
    elif kind == "interactive" and body.get("type") in ("button_reply", "list_reply"):
        reply = body.get(body["type"]) or {}
        fields["selected_option_id"] = str(reply.get("id") or "") or None
        fields["text"] = str(reply.get("title") or "")
    elif kind == "button":  # a template's quick-reply button
        fields["selected_option_id"] = str(body.get("payload") or "") or None
        fields["text"] = str(body.get("text") or "")
    else:
        # audio, video, document, location, sticker, reaction, contacts, unsupported ...
        fields["unsupported_kind"] = (
            f"interactive.{body.get('type')}" if kind == "interactive" else kind
        )[:40]
    sender = str(message["from"])
    return InboundMessageReceived(
        channel=Channel.CLOUD_API,
        provider_message_id=str(message["id"]),
        from_number=e164(sender),
        to_number=to_number,
        profile_name=names.get(sender) or None,
        received_at=_when(message.get("timestamp")),
        **fields,
    )


def _status(status: Any) -> DeliveryStatusReceived | None:
    if not isinstance(status, Mapping) or not status.get("id"):
        raise CloudPayloadError("a status without an id")
    state = _STATUSES.get(str(status.get("status", "")).lower())
    if state is None:
        return None  # "deleted", "warning" ...: nothing a delivery record tracks
    code = message = None
    errors = status.get("errors") or []
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        error = errors[0]
        code = str(error.get("code")) if error.get("code") is not None else None
        details = (error.get("error_data") or {}).get("details")
        message = (
            " — ".join(
                str(part) for part in (error.get("title") or error.get("message"), details) if part
            )[:500]
            or None
        )
    recipient = status.get("recipient_id")
    return DeliveryStatusReceived(
        channel=Channel.CLOUD_API,
        provider_message_id=str(status["id"]),
        status=state,
        recipient=e164(str(recipient)) if recipient else None,
        error_code=code,
        error_message=message,
        received_at=_when(status.get("timestamp")),
    )
