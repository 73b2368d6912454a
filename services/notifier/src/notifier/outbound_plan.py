"""What goes to the provider for one requested message, decided without I/O: the parts
for its channel, or a template when the 24-hour window is closed, or nothing (held or
suppressed). Each part's payload is stored with its row and sent as stored."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from notifier import delivery
from notifier.rendering import (
    CLOUD_CAPTION_MAX,
    readable,
    render_for_cloud_api,
    render_for_twilio,
    render_text,
)
from notifier.settings import TemplateConfig
from shared.events import Channel, MediaRef, OutboundMessageRequested


@dataclass(frozen=True)
class Part:
    body: str  # readable text, for the admin API
    payload: dict[str, Any]


@dataclass(frozen=True)
class Plan:
    parts: list[Part]
    # Not sent: delivery.HELD or delivery.SUPPRESSED, with the reason recorded.
    status: str = delivery.PENDING
    reason: str | None = None
    template: str | None = None
    notes: list[str] = field(default_factory=list)


def _media(ref: MediaRef) -> dict[str, Any]:
    return {"sha256": ref.sha256, "url": ref.url or None}


def free_form_parts(request: OutboundMessageRequested) -> list[Part]:
    if request.channel is Channel.CLOUD_API:
        return _cloud_parts(request)
    bodies = render_for_twilio(request.text, request.options)
    media = [_media(m) for m in request.media]
    return [
        Part(body, {"body": body, "media": media if index == 0 else []})
        for index, body in enumerate(bodies)
    ]


def _cloud_parts(request: OutboundMessageRequested) -> list[Part]:
    messages: list[dict[str, Any]] = []
    text = request.text
    for ref in request.media:
        image: dict[str, Any] = {"media": _media(ref)}
        caption = ref.caption
        # One picture with a short plain text: the text rides as its caption.
        if len(request.media) == 1 and not request.options and len(text) <= CLOUD_CAPTION_MAX:
            caption, text = text or caption, ""
        if caption:
            image["caption"] = caption[:CLOUD_CAPTION_MAX]
        messages.append({"type": "image", "image": image})
    if text or request.options:
        messages += render_for_cloud_api(text, request.options)
    return [Part(readable(m), m) for m in messages]


def template_part(
    request: OutboundMessageRequested, template: TemplateConfig, channel: Channel
) -> Part:
    params = list(request.template_params)
    if channel is Channel.CLOUD_API:
        assert template.name is not None
        body: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
        if params:
            body["components"] = [
                {"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}
            ]
        message = {"type": "template", "template": body}
        return Part(readable(message), message)
    variables = json.dumps({str(i): p for i, p in enumerate(params, start=1)})
    payload = {
        "content_sid": template.twilio_content_sid,
        "content_variables": variables,
        "media": [],
    }
    return Part(f"[template {template.twilio_content_sid}] " + " | ".join(params), payload)


def plan(
    request: OutboundMessageRequested,
    *,
    opted_out: bool,
    window_open: bool,
    template: TemplateConfig | None,
) -> Plan:
    if opted_out:
        return Plan(
            [Part(render_text(request.text, request.options), {})], delivery.SUPPRESSED, "opted_out"
        )
    if window_open:
        return Plan(free_form_parts(request))
    if template is not None and template.for_channel(request.channel):
        part = template_part(request, template, request.channel)
        used = (
            template.name if request.channel is Channel.CLOUD_API else template.twilio_content_sid
        )
        return Plan([part], template=used)
    # Kept rendered, so that an operator can send it once the user writes again.
    return Plan(free_form_parts(request), delivery.HELD, "outside_window")
