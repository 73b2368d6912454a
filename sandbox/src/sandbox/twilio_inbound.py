"""Route that plays a phone writing to the desk: Twilio's signed inbound-message webhook,
POSTed to the gateway as Twilio would."""

from __future__ import annotations

import logging

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from sandbox.addresses import bare_number, whatsapp_address
from sandbox.outbound_http import OutboundHttp
from sandbox.settings import SandboxSettings
from sandbox.store import Store, StoredMessage
from sandbox.twilio_messages import InboundWhatsApp, inbound_webhook_form, new_message_sid
from sandbox.twilio_signing import SIGNATURE_HEADER, twilio_signature

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/v1/whatsapp/webhook"


class Inbound(BaseModel):
    """A message from ``from`` to the desk's WhatsApp number."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", pattern=r"^(whatsapp:)?\+?\d{6,15}$")
    body: str = Field(default="", max_length=4096)
    media_url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=2048)
    media_content_type: str | None = Field(default=None, pattern=r"^[\w.+-]+/[\w.+-]+$")
    profile_name: str | None = Field(default=None, max_length=100)


def inbound_router(settings: SandboxSettings, store: Store, http: OutboundHttp) -> APIRouter:
    router = APIRouter()
    token = settings.twilio_auth_token.get_secret_value()
    webhook_url = settings.gateway_url.rstrip("/") + WEBHOOK_PATH

    @router.post(
        "/sandbox/twilio/inbound",
        tags=["sandbox"],
        summary="Send a WhatsApp message from a phone to the gateway, signed as Twilio signs",
    )
    async def simulate_inbound(inbound: Inbound) -> JSONResponse:
        number = bare_number(inbound.from_)
        message = InboundWhatsApp(
            sid=new_message_sid(),
            from_number=number,
            to=settings.twilio_whatsapp_from,
            body=inbound.body,
            profile_name=inbound.profile_name or "Sandbox user",
            media_url=inbound.media_url,
            media_content_type=inbound.media_content_type,
        )
        form = inbound_webhook_form(message, settings.twilio_account_sid)
        # Stored before the POST: the desk may reply before the gateway's answer arrives,
        # and the conversation must still read question first, then reply.
        stored = store.add(
            StoredMessage(
                sid=message.sid,
                direction="in",
                number=number,
                to=message.to,
                from_=whatsapp_address(number),
                body=message.body,
                media_urls=[message.media_url] if message.media_url else [],
                status="sending",
            )
        )
        headers = {SIGNATURE_HEADER: twilio_signature(token, webhook_url, form)}
        try:
            response = await http.client.post(webhook_url, data=form, headers=headers)
        except httpx.HTTPError as exc:
            stored.record_status("failed")
            log.warning(
                "sandbox.gateway_unreachable",
                extra={"url": webhook_url, "error": type(exc).__name__},
            )
            return JSONResponse(
                {
                    "detail": f"the gateway did not answer at {webhook_url} "
                    f"({type(exc).__name__}); is it running, and is GATEWAY_URL right?",
                    "message_sid": message.sid,
                },
                status_code=502,
            )
        stored.record_status("received" if response.is_success else "failed")
        return JSONResponse({"message_sid": message.sid, "gateway_status": response.status_code})

    return router
