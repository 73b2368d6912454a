"""Route that plays a phone writing to the desk over the Cloud API: Meta's signed
messages webhook, POSTed to the gateway. Text, a tapped button or list row, an image
(one of the hosted samples), or a kind the desk does not handle."""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from sandbox import media_samples
from sandbox.addresses import bare_number
from sandbox.cloud_api import media_id
from sandbox.cloud_api_callbacks import CloudStatusReports
from sandbox.cloud_api_shapes import new_wamid, webhook
from sandbox.settings import SandboxSettings
from sandbox.store import Store, StoredMessage


class CloudInbound(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", pattern=r"^\+?\d{6,15}$")
    body: str = Field(default="", max_length=4096)
    # A tapped reply button or list row: the option's id and title.
    reply_id: str | None = Field(default=None, max_length=256)
    reply_kind: Literal["button_reply", "list_reply", "button"] = "button_reply"
    image: str | None = Field(default=None, description="; ".join(media_samples.NAMES))
    kind: str | None = Field(default=None, pattern=r"^[a-z_]{2,20}$")
    profile_name: str | None = Field(default=None, max_length=100)
    id: str | None = Field(default=None, max_length=128)


def message_object(inbound: CloudInbound, wamid: str) -> dict[str, Any]:
    sender = bare_number(inbound.from_).removeprefix("+")
    base: dict[str, Any] = {"from": sender, "id": wamid, "timestamp": str(int(time.time()))}
    if inbound.reply_id is not None and inbound.reply_kind == "button":
        button = {"payload": inbound.reply_id, "text": inbound.body}
        return {**base, "type": "button", "button": button}
    if inbound.reply_id is not None:
        reply = {"id": inbound.reply_id, "title": inbound.body}
        return {
            **base,
            "type": "interactive",
            "interactive": {"type": inbound.reply_kind, inbound.reply_kind: reply},
        }
    if inbound.image is not None:
        found = media_samples.sample(inbound.image)
        image: dict[str, Any] = {
            "id": media_id(inbound.image),
            "mime_type": found[1] if found else "image/jpeg",
        }
        if inbound.body:
            image["caption"] = inbound.body
        return {**base, "type": "image", "image": image}
    if inbound.kind is not None:
        return {**base, "type": inbound.kind, inbound.kind: {}}
    return {**base, "type": "text", "text": {"body": inbound.body}}


def cloud_inbound_router(
    settings: SandboxSettings, store: Store, reports: CloudStatusReports
) -> APIRouter:
    router = APIRouter()

    @router.post(
        "/sandbox/cloud-api/inbound",
        tags=["sandbox"],
        summary="Send a message from a phone to the gateway, signed as Meta signs",
    )
    async def simulate_inbound(inbound: CloudInbound) -> JSONResponse:
        number = bare_number(inbound.from_)
        wamid = inbound.id or new_wamid()
        message = message_object(inbound, wamid)
        stored = store.add(
            StoredMessage(
                sid=wamid,
                direction="in",
                number=number,
                to=settings.whatsapp_display_number,
                from_=number,
                body=inbound.body or (f"[{message['type']}]" if message["type"] != "text" else ""),
                media_urls=[media_id(inbound.image)] if inbound.image else [],
                status="sending",
            )
        )
        body = webhook(
            settings.whatsapp_phone_number_id,
            settings.whatsapp_display_number,
            messages=[message],
            contacts=[
                {
                    "profile": {"name": inbound.profile_name or "Sandbox user"},
                    "wa_id": number.removeprefix("+"),
                }
            ],
        )
        status = await reports.post(body)
        if status is None:
            stored.record_status("failed")
            return JSONResponse(
                {"detail": f"the gateway did not answer at {reports.url}", "id": wamid},
                status_code=502,
            )
        stored.record_status("received" if 200 <= status < 300 else "failed")
        return JSONResponse({"id": wamid, "gateway_status": status})

    return router
