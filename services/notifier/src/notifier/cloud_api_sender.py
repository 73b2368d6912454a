"""Sends one message through the Cloud API (Graph API ``/{phone_number_id}/messages``),
retrying only what may succeed later; marks inbound messages read."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from notifier import metrics
from notifier.settings import NotifierSettings
from notifier.twilio_sender import (
    NOT_SENT_ERRORS,
    Accepted,
    PermanentSendError,
    TransientSendError,
    network_failure,
)
from shared.events import Channel

log = logging.getLogger(__name__)

CHANNEL = Channel.CLOUD_API.value
# Meta's codes that mean "later": throttling (4, 80007, 130429, 131056: pair rate
# limit), temporary errors (1, 2, 131000 something went wrong, 131016 unavailable).
TRANSIENT_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056, 133004})
# Recorded and never retried: invalid number, blocked, re-engagement, opted out ...
# (every other code; these are named for the logs' sake).
PERMANENT_CODES = {
    131026: "undeliverable",
    131030: "not_in_allowed_list",
    131047: "reengagement_required",
    131050: "opted_out_of_marketing",
    131049: "ecosystem_limited",
    133010: "not_registered",
}


class _ProviderError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, _ProviderError):
        code = int(error.code) if error.code.isdigit() else None
        return error.status == 429 or error.status >= 500 or code in TRANSIENT_CODES
    return isinstance(error, NOT_SENT_ERRORS)


def _error(response: httpx.Response) -> _ProviderError:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        error = {}
    code = str(error.get("code") or response.status_code)
    details = (error.get("error_data") or {}).get("details")
    message = str(error.get("message") or response.reason_phrase)
    if details and details not in message:
        message = f"{message}: {details}"
    return _ProviderError(response.status_code, code, message[:500])


class CloudApiSender:
    channel = Channel.CLOUD_API

    def __init__(self, settings: NotifierSettings, http: httpx.AsyncClient) -> None:
        self._http = http
        self._base = settings.whatsapp_base_url(settings.sandbox_url)
        self._messages_url = f"{self._base}/{settings.whatsapp_number_id()}/messages"
        self._headers = {"Authorization": f"Bearer {settings.whatsapp_token()}"}
        self._attempts = settings.send_attempts
        self._wait = settings.send_retry_wait_seconds

    @property
    def base_url(self) -> str:
        return self._base

    @property
    def auth_headers(self) -> dict[str, str]:
        return dict(self._headers)

    def _retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            retry=retry_if_exception(_is_transient),
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential_jitter(
                multiplier=self._wait, max=max(self._wait * 16, 0.01), jitter=self._wait
            ),
            reraise=True,
            before_sleep=lambda _: metrics.SENDS.labels(CHANNEL, "retried").inc(),
        )

    async def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        response = await self._http.post(self._messages_url, json=body, headers=self._headers)
        if response.status_code >= 400:
            raise _error(response)
        answer: dict[str, Any] = response.json()
        return answer

    async def find_accepted(
        self, to_number: str, payload: dict[str, Any], since: datetime
    ) -> list[Accepted]:
        """The Cloud API cannot list the messages a business sent, so a send whose sender
        died mid-call cannot be looked up: it is sent again, a possible duplicate rather
        than a certain loss."""
        return []

    async def send(self, to_number: str, payload: dict[str, Any]) -> Accepted:
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to_number.removeprefix("+"),
            **payload,
        }
        started = time.perf_counter()
        try:
            async for attempt in self._retrying():
                with attempt:
                    answer = await self._post(body)
        except _ProviderError as error:
            if _is_transient(error):
                raise TransientSendError(error.code, str(error)) from error
            raise PermanentSendError(error.code, str(error)) from error
        except httpx.TransportError as error:
            raise network_failure(error) from error
        finally:
            metrics.SEND_SECONDS.labels(CHANNEL).observe(time.perf_counter() - started)
        try:
            wamid = str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError) as error:
            raise TransientSendError("bad_answer", "no message id in the answer") from error
        return Accepted(provider_message_id=wamid, status="accepted")

    async def mark_read(self, provider_message_id: str) -> bool:
        """Blue ticks for an inbound message; False (logged) when Meta would not."""
        body = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": provider_message_id,
        }
        try:
            async for attempt in self._retrying():
                with attempt:
                    await self._post(body)
        except (_ProviderError, httpx.TransportError) as error:
            log.warning("message.mark_read_failed", extra={"error_type": type(error).__name__})
            metrics.MARK_READ.labels("failed").inc()
            return False
        metrics.MARK_READ.labels("ok").inc()
        return True
