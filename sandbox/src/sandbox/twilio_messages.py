"""The shapes of Twilio's Messages API and of the webhooks Twilio sends, with no I/O:
a create form checked as Twilio checks it, the message JSON it answers with, the form
of a status callback and the form of an inbound WhatsApp message."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import format_datetime
from urllib.parse import urlsplit

from sandbox.addresses import bare_number, whatsapp_address
from sandbox.store import StoredMessage
from sandbox.twilio_errors import (
    BODY_REQUIRED,
    BODY_TOO_LONG,
    FROM_REQUIRED,
    INVALID_STATUS_CALLBACK,
    INVALID_TO,
    TwilioError,
)

API_VERSION = "2010-04-01"
MAX_BODY_CHARS = 1600
DEFAULT_MEDIA_TYPE = "image/jpeg"
# Twilio's states after "queued" for a message that reaches the phone and is opened.
DELIVERY_PROGRESS = ("sent", "delivered", "read")
_WHATSAPP_TO = re.compile(r"whatsapp:\+\d{8,15}")


def new_message_sid() -> str:
    return "SM" + secrets.token_hex(16)


@dataclass(frozen=True)
class CreateMessage:
    """A Messages.json create call that Twilio would accept."""

    to: str
    from_: str
    body: str
    media_urls: tuple[str, ...]
    status_callback: str | None


def parse_create(form: Sequence[tuple[str, str]]) -> CreateMessage:
    """Check the form fields of a create call in Twilio's order; raise TwilioError."""
    fields: dict[str, str] = {}
    media: list[str] = []
    for name, value in form:
        if name == "MediaUrl":
            if value:
                media.append(value)
        else:
            fields.setdefault(name, value)
    to = fields.get("To", "")
    body = fields.get("Body", "")
    from_ = fields.get("From", "")
    callback = fields.get("StatusCallback") or None
    content_sid = fields.get("ContentSid", "")
    if content_sid and not body:
        # An approved Content template: shown as its sid and the variables filled in.
        body = f"[template {content_sid}] {fields.get('ContentVariables', '')}".strip()
    if not _WHATSAPP_TO.fullmatch(to):
        raise TwilioError(400, INVALID_TO, f"Invalid 'To' Phone Number: {to[:40]}")
    if not from_:
        raise TwilioError(400, FROM_REQUIRED, "A 'From' phone number is required.")
    if not body and not media:
        raise TwilioError(400, BODY_REQUIRED, "Message body is required.")
    if len(body) > MAX_BODY_CHARS:
        raise TwilioError(
            400, BODY_TOO_LONG, "The concatenated message body exceeds the 1600 character limit."
        )
    if callback is not None and not _is_web_url(callback):
        raise TwilioError(400, INVALID_STATUS_CALLBACK, "Invalid StatusCallback URL")
    return CreateMessage(to, from_, body, tuple(media), callback)


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def message_resource(message: StoredMessage, account_sid: str) -> dict[str, object]:
    """The JSON Twilio answers a create with, as the twilio package parses it."""
    created = format_datetime(message.created_at)
    uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{message.sid}.json"
    return {
        "sid": message.sid,
        "account_sid": account_sid,
        "messaging_service_sid": None,
        "to": message.to,
        "from": message.from_,
        "body": message.body,
        "status": message.status,
        "num_segments": "1",
        "num_media": str(len(message.media_urls)),
        "direction": "outbound-api",
        "api_version": API_VERSION,
        "price": None,
        "price_unit": "USD",
        "error_code": None,
        "error_message": None,
        "date_created": created,
        "date_updated": created,
        "date_sent": None,
        "uri": uri,
        "subresource_uris": {
            "media": uri.removesuffix(".json") + "/Media.json",
            "feedback": uri.removesuffix(".json") + "/Feedback.json",
        },
    }


def message_page(
    messages: Sequence[StoredMessage], account_sid: str, path: str, page_size: int
) -> dict[str, object]:
    """One page of a message list, with the paging fields the twilio package reads (all
    on this page: there is never a next one)."""
    uri = f"{path}?PageSize={page_size}&Page=0"
    return {
        "messages": [message_resource(m, account_sid) for m in messages],
        "page": 0,
        "page_size": page_size,
        "start": 0,
        "end": max(len(messages) - 1, 0),
        "uri": uri,
        "first_page_uri": uri,
        "next_page_uri": None,
        "previous_page_uri": None,
    }


def status_callback_form(message: StoredMessage, status: str, account_sid: str) -> dict[str, str]:
    """What Twilio POSTs to a StatusCallback when ``message`` reaches ``status``."""
    return {
        "MessageSid": message.sid,
        "SmsSid": message.sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": message.to,
        "From": message.from_,
        "AccountSid": account_sid,
        "ApiVersion": API_VERSION,
    }


@dataclass(frozen=True)
class InboundWhatsApp:
    """A message a phone sends to the desk's WhatsApp number."""

    sid: str
    from_number: str
    to: str
    body: str
    profile_name: str
    media_url: str | None = None
    media_content_type: str | None = None


def inbound_webhook_form(message: InboundWhatsApp, account_sid: str) -> dict[str, str]:
    """What Twilio POSTs to a WhatsApp sender's webhook for ``message``."""
    number = bare_number(message.from_number)
    form = {
        "MessageSid": message.sid,
        "SmsMessageSid": message.sid,
        "SmsSid": message.sid,
        "AccountSid": account_sid,
        "From": whatsapp_address(number),
        "To": message.to,
        "Body": message.body,
        "NumMedia": "1" if message.media_url else "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "MessageType": _message_type(message),
        "ProfileName": message.profile_name,
        "WaId": number.removeprefix("+"),
        "ApiVersion": API_VERSION,
    }
    if message.media_url:
        form["MediaUrl0"] = message.media_url
        form["MediaContentType0"] = message.media_content_type or DEFAULT_MEDIA_TYPE
    return form


def _message_type(message: InboundWhatsApp) -> str:
    if not message.media_url:
        return "text"
    kind = (message.media_content_type or DEFAULT_MEDIA_TYPE).partition("/")[0]
    return kind if kind in ("image", "video", "audio") else "document"
