"""Paystack's event webhook: verify the signature over the raw body, publish, then 200."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from gateway.metrics import BROKER_UNAVAILABLE, SIGNATURE_FAILURES, WEBHOOK_REQUESTS
from gateway.settings import GatewaySettings
from shared.events import Envelope, PaystackEventReceived
from shared.messaging import Broker, BrokerUnavailableError
from shared.paystack_signature import SIGNATURE_HEADER, signature_is_valid

log = logging.getLogger(__name__)

PAYSTACK_PATH = "/api/webhook/paystack"


class PaystackPayloadError(ValueError):
    """The body is signed but is not a Paystack event."""


def paystack_event(body: bytes) -> PaystackEventReceived:
    """A signed body -> our event. Pure: the reference is only read, never trusted."""
    try:
        document: Any = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PaystackPayloadError("the body is not JSON") from exc
    if not isinstance(document, dict) or not isinstance(document.get("event"), str):
        raise PaystackPayloadError("the body has no event name")
    data = document.get("data")
    if not isinstance(data, dict):
        data = {}
    reference = data.get("reference")
    return PaystackEventReceived(
        event=document["event"][:100],
        reference=str(reference)[:100] if reference not in (None, "") else None,
        data=data,
    )


def paystack_router(settings: GatewaySettings, broker: Broker) -> APIRouter:
    router = APIRouter(tags=["webhooks"])
    secret_key = settings.paystack_key()

    @router.post(PAYSTACK_PATH, summary="Paystack event (charge.success ...)")
    async def paystack_webhook(request: Request) -> Response:
        def outcome(name: str) -> None:
            WEBHOOK_REQUESTS.labels("paystack", "event", name).inc()

        body = await request.body()
        if not signature_is_valid(secret_key, body, request.headers.get(SIGNATURE_HEADER, "")):
            SIGNATURE_FAILURES.labels("paystack").inc()
            outcome("bad_signature")
            log.warning("webhook.bad_signature", extra={"provider": "paystack", "route": "event"})
            return JSONResponse({"detail": "invalid x-paystack-signature"}, status_code=401)
        try:
            event = paystack_event(body)
        except PaystackPayloadError as exc:
            outcome("bad_request")
            return JSONResponse({"detail": str(exc)}, status_code=400)
        try:
            await broker.publish(Envelope.wrap(event, key=event.reference))
        except BrokerUnavailableError:
            BROKER_UNAVAILABLE.labels("paystack").inc()
            outcome("broker_unavailable")
            log.error("webhook.broker_unavailable", extra={"provider": "paystack"})
            return JSONResponse(
                {"detail": "temporarily unable to accept the event; retry"},
                status_code=503,
                headers={"Retry-After": "5"},
            )
        outcome("accepted")
        log.info(
            "webhook.paystack_accepted",
            extra={"paystack_event": event.event, "reference": event.reference},
        )
        return JSONResponse({"status": "accepted"})

    return router
