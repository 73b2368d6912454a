"""A Cloud API-shaped Graph API: send messages (text, interactive, template, image), mark
messages read, look up and download media; plus the routes tests use to steer it."""

from __future__ import annotations

import hmac
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sandbox import media_samples
from sandbox.addresses import bare_number
from sandbox.cloud_api_callbacks import CloudStatusReports
from sandbox.cloud_api_shapes import (
    ACCESS_TOKEN,
    FAILS_LATER_SUFFIX,
    INVALID_PARAMETER,
    REFUSED_SUFFIX,
    CloudApiError,
    check_send,
    error_for_status,
    new_wamid,
)
from sandbox.settings import SandboxSettings
from sandbox.store import Store, StoredMessage

API = "/cloud-api/{version}"


@dataclass
class CloudApiState:
    """What only the Cloud API side remembers: sends as posted, reads, pending faults."""

    requests: dict[str, dict[str, Any]] = field(default_factory=dict)  # by wamid
    read: list[str] = field(default_factory=list)
    faults: deque[tuple[int, int | None]] = field(default_factory=deque)
    send_calls: int = 0

    def clear(self) -> None:
        self.requests.clear()
        self.read.clear()
        self.faults.clear()
        self.send_calls = 0


class CloudFault(BaseModel):
    """The next ``count`` send calls answer HTTP ``status`` with Meta's ``code``."""

    status: int = Field(ge=400, le=599)
    code: int | None = None
    count: int = Field(default=1, ge=1, le=1000)


def media_id(name: str) -> str:
    return "sandbox-media-" + name.replace(".", "-")


_MEDIA = {media_id(name): name for name in media_samples.NAMES}


def cloud_api_router(
    settings: SandboxSettings,
    store: Store,
    state: CloudApiState,
    reports: CloudStatusReports,
) -> APIRouter:
    router = APIRouter()
    token = settings.whatsapp_access_token.get_secret_value().encode()

    def authorised(request: Request) -> bool:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token)

    @router.post(API + "/{phone_number_id}/messages", tags=["cloud api"])
    async def send(version: str, phone_number_id: str, request: Request) -> JSONResponse:
        """Send a message, or mark one read (``{"status": "read", "message_id": ...}``)."""
        state.send_calls += 1
        if not authorised(request):
            return CloudApiError(401, ACCESS_TOKEN).response()
        if phone_number_id != settings.whatsapp_phone_number_id:
            return CloudApiError(400, INVALID_PARAMETER, "unknown phone number id").response()
        try:
            payload = json.loads(await request.body())
        except ValueError:
            return CloudApiError(400, INVALID_PARAMETER, "the body is not JSON").response()
        if not isinstance(payload, dict):
            return CloudApiError(400, INVALID_PARAMETER, "the body is not an object").response()
        if payload.get("status") == "read":
            state.read.append(str(payload.get("message_id", "")))
            return JSONResponse({"success": True})
        if state.faults:
            status, code = state.faults.popleft()
            return error_for_status(status, code).response()
        try:
            to, text = check_send(payload)
        except CloudApiError as error:
            return error.response()
        for suffix, code in REFUSED_SUFFIX.items():
            if to.endswith(suffix):
                return CloudApiError(400, code).response()
        number = bare_number(to)
        image = payload.get("image") or {}
        message = store.add(
            StoredMessage(
                sid=new_wamid(),
                direction="out",
                number=number,
                to=number,
                from_=settings.whatsapp_display_number,
                body=text,
                media_urls=[str(image.get("link") or image.get("id"))] if image else [],
                status="accepted",
            )
        )
        state.requests[message.sid] = payload
        fails = next((c for s, c in FAILS_LATER_SUFFIX.items() if to.endswith(s)), None)
        reports.report(message, fails)
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": payload.get("to"), "wa_id": to}],
                "messages": [{"id": message.sid}],
            }
        )

    @router.get(API + "/{media}", tags=["cloud api"], summary="A media id's download URL")
    async def media_url(version: str, media: str, request: Request) -> JSONResponse:
        if not authorised(request):
            return CloudApiError(401, ACCESS_TOKEN).response()
        name = _MEDIA.get(media)
        found = media_samples.sample(name) if name else None
        if found is None:
            return CloudApiError(400, INVALID_PARAMETER, "unknown media id").response()
        data, content_type = found
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "url": f"{base}/sandbox/cloud-api/media-files/{media}",
                "mime_type": content_type,
                "file_size": len(data),
                "id": media,
            }
        )

    @router.get("/sandbox/cloud-api/media-files/{media}", tags=["cloud api"])
    async def media_file(media: str, request: Request) -> Response:
        """The download behind a media URL; like Meta's, it needs the access token."""
        if not authorised(request):
            return Response(status_code=401)
        name = _MEDIA.get(media)
        found = media_samples.sample(name) if name else None
        if found is None:
            return Response(status_code=404)
        return Response(found[0], media_type=found[1])

    @router.post("/sandbox/cloud-api/faults", tags=["sandbox"])
    async def add_faults(fault: CloudFault) -> dict[str, int]:
        state.faults.extend([(fault.status, fault.code)] * fault.count)
        return {"pending": len(state.faults)}

    @router.get("/sandbox/cloud-api/messages", tags=["sandbox"])
    async def sent_messages(to: str | None = Query(default=None)) -> dict[str, Any]:
        """Accepted Cloud API messages (readable text and the request as posted)."""
        wanted = bare_number(to) if to else None
        messages = [
            {**m.as_json(), "request": state.requests[m.sid]}
            for m in store.outbound()
            if m.sid in state.requests and (wanted is None or m.number == wanted)
        ]
        return {"messages": messages}

    @router.get("/sandbox/cloud-api/read", tags=["sandbox"], summary="Message ids marked read")
    async def marked_read() -> dict[str, Any]:
        return {"message_ids": list(state.read), "send_calls": state.send_calls}

    @router.delete("/sandbox/cloud-api/messages", tags=["sandbox"])
    async def clear() -> dict[str, bool]:
        state.clear()
        return {"cleared": True}

    return router
