"""Reports each accepted Cloud API message's progress to the gateway's webhook, signed
with the app secret as Meta signs it: sent, delivered, read; or sent, then failed."""

from __future__ import annotations

import asyncio
import logging

import httpx

from sandbox.cloud_api_shapes import signature, status_object, webhook
from sandbox.outbound_http import OutboundHttp
from sandbox.settings import SandboxSettings
from sandbox.store import StoredMessage

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/webhook/whatsapp"


class CloudStatusReports:
    def __init__(self, settings: SandboxSettings, http: OutboundHttp) -> None:
        self._settings = settings
        self._http = http
        self._secret = settings.whatsapp_app_secret.get_secret_value()
        self.url = settings.gateway_url.rstrip("/") + WEBHOOK_PATH
        self._running: set[asyncio.Task[None]] = set()

    def report(self, message: StoredMessage, fails_with: int | None = None) -> None:
        task = asyncio.create_task(self._walk(message, fails_with))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def close(self) -> None:
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    async def _walk(self, message: StoredMessage, fails_with: int | None) -> None:
        steps = ["sent", "failed"] if fails_with is not None else ["sent", "delivered", "read"]
        for status in steps:
            await asyncio.sleep(self._settings.sandbox_callback_delay)
            message.record_status(status)
            code = fails_with if status == "failed" else None
            await self.post(
                webhook(
                    self._settings.whatsapp_phone_number_id,
                    self._settings.whatsapp_display_number,
                    statuses=[status_object(message.sid, status, message.number, code)],
                )
            )

    async def post(self, body: bytes) -> int | None:
        """POST a webhook body, signed, retrying as Meta does; the last HTTP status."""
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature(self._secret, body),
        }
        attempts = self._settings.sandbox_callback_attempts
        last: int | None = None
        for attempt in range(1, attempts + 1):
            try:
                response = await self._http.client.post(self.url, content=body, headers=headers)
            except httpx.HTTPError:
                last = None
            else:
                last = response.status_code
                if response.is_success:
                    return last
            if attempt < attempts:
                await asyncio.sleep(self._settings.sandbox_callback_retry_delay * attempt)
        log.warning("sandbox.cloud_webhook_dropped", extra={"url": self.url, "status": last})
        return last
