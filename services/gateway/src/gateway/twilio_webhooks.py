"""Twilio's inbound-message and status-callback webhooks: verify, normalise, publish."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from twilio.request_validator import RequestValidator

from gateway.metrics import (
    BROKER_UNAVAILABLE,
    PUBLISH_SECONDS,
    SIGNATURE_FAILURES,
    WEBHOOK_REQUESTS,
)
from gateway.settings import GatewaySettings
from gateway.twilio_payload import Form, PayloadError, delivery_status, inbound_message
from shared.events import Envelope, Event
from shared.messaging import Broker, BrokerUnavailableError

log = logging.getLogger(__name__)

MESSAGE_PATH = "/api/v1/whatsapp/webhook"
STATUS_PATH = "/api/v1/whatsapp/status"
# Twilio expects TwiML or an empty body; an empty <Response/> sends no reply of its own.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class _FormFields(dict[str, list[str]]):
    """parse_qs's result with the ``getall`` that twilio's validator looks for, so that a
    field sent more than once is signed over every value."""

    def getall(self, name: str) -> list[str]:
        return self[name]


def twilio_router(settings: GatewaySettings, broker: Broker) -> APIRouter:
    router = APIRouter(tags=["webhooks"])
    _, auth_token = settings.twilio_credentials()
    validator = RequestValidator(auth_token)
    public_base = settings.public_base_url.rstrip("/")

    async def handle(request: Request, route: str, to_event: Callable[[Form], Event]) -> Response:
        def outcome(name: str) -> None:
            WEBHOOK_REQUESTS.labels("twilio", route, name).inc()

        body = await request.body()
        try:
            form = _FormFields(parse_qs(body.decode("utf-8"), keep_blank_values=True))
        except (UnicodeDecodeError, ValueError):
            outcome("bad_request")
            return JSONResponse({"detail": "the body is not a UTF-8 form"}, status_code=400)
        url = public_base + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        signature = request.headers.get("x-twilio-signature", "")
        if not signature or not validator.validate(url, form, signature):
            SIGNATURE_FAILURES.labels("twilio").inc()
            outcome("bad_signature")
            log.warning("webhook.bad_signature", extra={"provider": "twilio", "route": route})
            return JSONResponse({"detail": "invalid X-Twilio-Signature"}, status_code=401)
        try:
            event = to_event(form)
        except (PayloadError, ValueError) as exc:
            outcome("bad_request")
            return JSONResponse({"detail": str(exc)}, status_code=400)
        key = getattr(event, "from_number", None) or getattr(event, "recipient", None)
        started = time.perf_counter()
        try:
            await broker.publish(Envelope.wrap(event, key=key))
        except BrokerUnavailableError:
            BROKER_UNAVAILABLE.labels("twilio").inc()
            outcome("broker_unavailable")
            log.error("webhook.broker_unavailable", extra={"provider": "twilio", "route": route})
            return JSONResponse(
                {"detail": "temporarily unable to accept the message; retry"},
                status_code=503,
                headers={"Retry-After": "5"},
            )
        PUBLISH_SECONDS.labels("twilio").observe(time.perf_counter() - started)
        outcome("accepted")
        return Response(EMPTY_TWIML, media_type="application/xml")

    @router.post(MESSAGE_PATH, summary="Twilio inbound WhatsApp message")
    async def twilio_message(request: Request) -> Response:
        return await handle(request, "message", inbound_message)

    @router.post(STATUS_PATH, summary="Twilio message status callback")
    async def twilio_status(request: Request) -> Response:
        return await handle(request, "status", delivery_status)

    return router
