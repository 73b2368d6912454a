"""Media a phone sent, hosted as Twilio hosts it: behind the account's basic auth."""

from __future__ import annotations

import base64
import binascii
import hmac

from fastapi import APIRouter, Request, Response

from sandbox import media_samples
from sandbox.settings import SandboxSettings

MEDIA_PATH = "/twilio/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}/Media/{name}"


def twilio_media_url(base_url: str, account_sid: str, message_sid: str, name: str) -> str:
    return base_url.rstrip("/") + MEDIA_PATH.format(
        account_sid=account_sid, message_sid=message_sid, name=name
    )


def media_router(settings: SandboxSettings) -> APIRouter:
    router = APIRouter()
    expected = (
        f"{settings.twilio_account_sid}:{settings.twilio_auth_token.get_secret_value()}".encode()
    )

    @router.get(MEDIA_PATH, tags=["twilio"], summary="A sample file as inbound media")
    async def media(account_sid: str, message_sid: str, name: str, request: Request) -> Response:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            given = base64.b64decode(encoded, validate=True) if scheme.lower() == "basic" else b""
        except (binascii.Error, ValueError):
            given = b""
        if not hmac.compare_digest(given, expected):
            return Response(status_code=401)
        found = media_samples.sample(name)
        if found is None:
            return Response(status_code=404)
        return Response(found[0], media_type=found[1])

    return router
