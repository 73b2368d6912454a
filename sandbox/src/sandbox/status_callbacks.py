"""Reports each accepted message's progress to its StatusCallback, signed as Twilio signs
it, in the background: a receiver that is down or refuses is retried, then given up on."""

from __future__ import annotations

import asyncio
import logging

import httpx

from sandbox.outbound_http import OutboundHttp
from sandbox.settings import SandboxSettings
from sandbox.store import StoredMessage
from sandbox.twilio_messages import DELIVERY_PROGRESS, status_callback_form
from sandbox.twilio_signing import SIGNATURE_HEADER, twilio_signature

log = logging.getLogger(__name__)


class StatusCallbacks:
    def __init__(self, settings: SandboxSettings, http: OutboundHttp) -> None:
        self._settings = settings
        self._http = http
        self._token = settings.twilio_auth_token.get_secret_value()
        # Held so that running reports are not garbage-collected and can be cancelled.
        self._running: set[asyncio.Task[None]] = set()

    def report(self, message: StoredMessage, url: str) -> None:
        """Start walking ``message`` through sent, delivered and read, posting each to ``url``."""
        task = asyncio.create_task(self._walk(message, url), name=f"status-callbacks-{message.sid}")
        self._running.add(task)
        task.add_done_callback(self._finished)

    async def close(self) -> None:
        """Cancel the reports still running; the process is stopping."""
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    async def _walk(self, message: StoredMessage, url: str) -> None:
        for status in DELIVERY_PROGRESS:
            await asyncio.sleep(self._settings.sandbox_callback_delay)
            # The message moved on at "Twilio" whether or not its owner hears about it.
            message.record_status(status)
            form = status_callback_form(message, status, self._settings.twilio_account_sid)
            await self._post(url, form)

    async def _post(self, url: str, form: dict[str, str]) -> bool:
        headers = {SIGNATURE_HEADER: twilio_signature(self._token, url, form)}
        attempts = self._settings.sandbox_callback_attempts
        outcome = ""
        for attempt in range(1, attempts + 1):
            try:
                response = await self._http.client.post(url, data=form, headers=headers)
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            else:
                if response.is_success:
                    return True
                outcome = f"HTTP {response.status_code}"
            if attempt < attempts:
                await asyncio.sleep(self._settings.sandbox_callback_retry_delay * attempt)
        log.warning(
            "sandbox.status_callback_dropped",
            extra={
                "url": url,
                "message_status": form["MessageStatus"],
                "attempts": attempts,
                "outcome": outcome,
            },
        )
        return False

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "sandbox.status_callbacks_failed",
                exc_info=task.exception(),
                extra={"task": task.get_name()},
            )
