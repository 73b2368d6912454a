"""The Cloud API's webhook: the verification handshake, then signed messages and
statuses, each event published with a confirm before Meta hears 200."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from gateway.cloud_api_payload import CloudPayloadError, events_from_payload
from gateway.metrics import (
    BROKER_UNAVAILABLE,
    PUBLISH_SECONDS,
    SIGNATURE_FAILURES,
    WEBHOOK_REQUESTS,
)
from gateway.settings import GatewaySettings
from shared.events import Envelope, InboundMessageReceived
from shared.messaging import Broker, BrokerUnavailableError

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/webhook/whatsapp"
SIGNATURE_HEADER = "x-hub-signature-256"
PROVIDER = "cloud_api"


def hub_signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def cloud_api_router(settings: GatewaySettings, broker: Broker) -> APIRouter:
    router = APIRouter(tags=["webhooks"])
    app_secret = settings.whatsapp_secret()
    verify_token = settings.whatsapp_verify().encode()

    def outcome(route: str, name: str) -> None:
        WEBHOOK_REQUESTS.labels(PROVIDER, route, name).inc()

    @router.get(WEBHOOK_PATH, summary="Cloud API webhook verification", response_model=None)
    async def verify(request: Request) -> Response:
        params = request.query_params
        given = params.get("hub.verify_token", "").encode()
        if params.get("hub.mode") != "subscribe" or not hmac.compare_digest(given, verify_token):
            outcome("verify", "bad_token")
            return JSONResponse({"detail": "verification refused"}, status_code=403)
        outcome("verify", "accepted")
        return PlainTextResponse(params.get("hub.challenge", ""))

    @router.post(WEBHOOK_PATH, summary="Cloud API messages and statuses", response_model=None)
    async def receive(request: Request) -> Response:
        body = await request.body()
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not given or not hmac.compare_digest(
            given.encode(), hub_signature(app_secret, body).encode()
        ):
            SIGNATURE_FAILURES.labels(PROVIDER).inc()
            outcome("messages", "bad_signature")
            log.warning("webhook.bad_signature", extra={"provider": PROVIDER})
            return JSONResponse({"detail": "invalid X-Hub-Signature-256"}, status_code=401)
        try:
            events, skipped = events_from_payload(json.loads(body))
        except (CloudPayloadError, ValueError, TypeError) as exc:
            outcome("messages", "bad_request")
            return JSONResponse({"detail": f"not a Cloud API webhook: {exc}"}, status_code=400)
        for event in events:
            inbound = isinstance(event, InboundMessageReceived)
            key = event.from_number if inbound else event.recipient  # type: ignore[union-attr]
            started = time.perf_counter()
            try:
                await broker.publish(Envelope.wrap(event, key=key))
            except BrokerUnavailableError:
                # Meta sends the whole payload again; what was published already is
                # dropped downstream by provider message id.
                BROKER_UNAVAILABLE.labels(PROVIDER).inc()
                outcome("messages", "broker_unavailable")
                log.error("webhook.broker_unavailable", extra={"provider": PROVIDER})
                return JSONResponse(
                    {"detail": "temporarily unable to accept the payload; retry"},
                    status_code=503,
                    headers={"Retry-After": "5"},
                )
            PUBLISH_SECONDS.labels(PROVIDER).observe(time.perf_counter() - started)
        outcome("messages", "accepted" if events else "empty")
        log.info(
            "webhook.accepted",
            extra={"provider": PROVIDER, "events": len(events), "skipped": len(skipped)},
        )
        return JSONResponse({"accepted": len(events)})

    return router
