"""Routes of the fake Twilio Messages API, and the routes tests use to inspect and steer it."""

from __future__ import annotations

import base64
import binascii
import hmac
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sandbox.addresses import bare_number
from sandbox.settings import SandboxSettings
from sandbox.status_callbacks import StatusCallbacks
from sandbox.store import Store, StoredMessage
from sandbox.twilio_errors import TwilioError, authentication_error, fault_error
from sandbox.twilio_messages import message_page, message_resource, new_message_sid, parse_create

STATUS_PATH = "/api/v1/whatsapp/status"


class Fault(BaseModel):
    """The next ``count`` create calls answer HTTP ``status`` with Twilio's error for it."""

    status: int = Field(ge=400, le=599)
    count: int = Field(default=1, ge=1, le=1000)


def twilio_router(settings: SandboxSettings, store: Store, callbacks: StatusCallbacks) -> APIRouter:
    router = APIRouter()
    expected_credentials = (
        f"{settings.twilio_account_sid}:{settings.twilio_auth_token.get_secret_value()}".encode()
    )
    default_callback = settings.gateway_url.rstrip("/") + STATUS_PATH

    def authenticated(request: Request, account_sid: str) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        # Compare in constant time, then require the path to name the same account.
        return hmac.compare_digest(given, expected_credentials) and hmac.compare_digest(
            account_sid.encode(), settings.twilio_account_sid.encode()
        )

    @router.post(
        "/twilio/2010-04-01/Accounts/{account_sid}/Messages.json",
        status_code=201,
        tags=["twilio"],
        summary="Create a message, as Twilio's Messages API does",
    )
    async def create_message(account_sid: str, request: Request) -> JSONResponse:
        store.count_create_request()
        if not authenticated(request, account_sid):
            return authentication_error().response()
        fault = store.take_fault()
        if fault is not None:
            return fault_error(fault).response()
        # Form-encoded like Twilio's; parsed here because MediaUrl repeats.
        form = parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
        try:
            create = parse_create(form)
        except TwilioError as error:
            return error.response()
        message = store.add(
            StoredMessage(
                sid=new_message_sid(),
                direction="out",
                number=bare_number(create.to),
                to=create.to,
                from_=create.from_,
                body=create.body,
                media_urls=list(create.media_urls),
                status="queued",
            )
        )
        callbacks.report(message, create.status_callback or default_callback)
        return JSONResponse(message_resource(message, account_sid), status_code=201)

    @router.get(
        "/twilio/2010-04-01/Accounts/{account_sid}/Messages.json",
        tags=["twilio"],
        summary="List messages, newest first, as Twilio's Messages API does (To, From)",
    )
    async def list_messages_as_twilio(
        account_sid: str,
        request: Request,
        to: str | None = Query(default=None, alias="To"),
        from_: str | None = Query(default=None, alias="From"),
        page_size: int = Query(default=50, alias="PageSize", ge=1, le=1000),
    ) -> JSONResponse:
        if not authenticated(request, account_sid):
            return authentication_error().response()
        found = [m for m in reversed(store.outbound(to)) if from_ is None or m.from_ == from_]
        return JSONResponse(
            message_page(found[:page_size], account_sid, str(request.url.path), page_size)
        )

    @router.post("/sandbox/twilio/faults", tags=["sandbox"], summary="Fail the next create calls")
    async def add_faults(fault: Fault) -> dict[str, int]:
        return {"pending": store.add_faults(fault.status, fault.count)}

    @router.delete("/sandbox/twilio/faults", tags=["sandbox"], summary="Forget pending faults")
    async def clear_faults() -> dict[str, int]:
        store.clear_faults()
        return {"pending": 0}

    @router.get("/sandbox/twilio/messages", tags=["sandbox"], summary="Accepted outbound messages")
    async def list_messages(
        to: str | None = Query(default=None, description="'+234...' or 'whatsapp:+234...'"),
    ) -> dict[str, object]:
        return {"messages": [m.as_json() for m in store.outbound(to)]}

    @router.delete(
        "/sandbox/twilio/messages", tags=["sandbox"], summary="Forget messages and faults"
    )
    async def clear_messages() -> dict[str, bool]:
        store.clear()
        return {"cleared": True}

    @router.get(
        "/sandbox/twilio/requests/count",
        tags=["sandbox"],
        summary="Create calls received, refused and faulted ones included",
    )
    async def request_count() -> dict[str, int]:
        return {"count": store.create_requests}

    return router
