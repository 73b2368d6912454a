"""Sends Paystack's charge.success event to the gateway, signed as Paystack signs it."""

from __future__ import annotations

import json
import logging

import httpx

from sandbox.outbound_http import OutboundHttp
from sandbox.paystack_ledger import PaystackTransaction
from sandbox.settings import SandboxSettings
from shared.paystack_signature import SIGNATURE_HEADER, paystack_signature

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/webhook/paystack"


class PaystackWebhooks:
    def __init__(self, settings: SandboxSettings, http: OutboundHttp) -> None:
        self._http = http
        self._key = settings.paystack_secret_key.get_secret_value()
        self.url = settings.gateway_url.rstrip("/") + WEBHOOK_PATH

    async def charge_success(self, transaction: PaystackTransaction) -> int | None:
        """POST the event; the gateway's HTTP status, or None if it could not be reached."""
        body = json.dumps({"event": "charge.success", "data": transaction.data()}).encode()
        headers = {
            SIGNATURE_HEADER: paystack_signature(self._key, body),
            "content-type": "application/json",
        }
        status: int | None
        try:
            response = await self._http.client.post(self.url, content=body, headers=headers)
            status = response.status_code
        except httpx.HTTPError as exc:
            status = None
            log.warning(
                "sandbox.paystack_webhook_unreachable",
                extra={"url": self.url, "error": type(exc).__name__},
            )
        transaction.webhook_statuses.append(status)
        return status
