"""Sends one WhatsApp message through Twilio, retrying only what may succeed later."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from twilio.base import values
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from notifier import metrics
from notifier.settings import NotifierSettings
from notifier.twilio_transport import HttpxTwilioClient
from shared.events import Channel

log = logging.getLogger(__name__)

CHANNEL = "twilio"
# Messages looked at when asking Twilio what it holds for one number: a dead sender's
# message is among the newest.
_LOOKUP_LIMIT = 20


class TransientSendError(Exception):
    """The provider may accept this later (rate limit, outage, network)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class PermanentSendError(Exception):
    """The provider refused this message and would refuse it again."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Accepted:
    provider_message_id: str
    status: str


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, TwilioRestException):
        return error.status == 429 or error.status >= 500
    return isinstance(error, httpx.TransportError)


class TwilioSender:
    channel = Channel.TWILIO

    def __init__(self, settings: NotifierSettings, http: httpx.AsyncClient) -> None:
        account_sid, auth_token = settings.twilio_credentials()
        self._client = Client(  # type: ignore[no-untyped-call]
            account_sid, auth_token, http_client=HttpxTwilioClient(http)
        )
        self._client.api.base_url = settings.twilio_base_url(settings.sandbox_url)
        self._sender = settings.twilio_sender()
        self._callback = settings.public_base_url.rstrip("/") + "/api/v1/whatsapp/status"
        self._attempts = settings.send_attempts
        self._wait = settings.send_retry_wait_seconds

    async def send(self, to_number: str, payload: dict[str, Any]) -> Accepted:
        """``payload``: ``body`` and resolved ``media_urls``, or an approved template's
        ``content_sid`` and ``content_variables`` (JSON)."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(_is_transient),
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential_jitter(
                multiplier=self._wait, max=max(self._wait * 16, 0.01), jitter=self._wait
            ),
            reraise=True,
            before_sleep=lambda _: metrics.SENDS.labels(CHANNEL, "retried").inc(),
        )
        started = time.perf_counter()
        try:
            async for attempt in retrying:
                with attempt:
                    message = await self._client.messages.create_async(
                        to=f"whatsapp:{to_number}",
                        from_=self._sender,
                        # None would go out as an empty field; unset omits it.
                        body=payload.get("body") or values.unset,
                        media_url=payload.get("media_urls") or values.unset,
                        content_sid=payload.get("content_sid") or values.unset,
                        content_variables=payload.get("content_variables") or values.unset,
                        status_callback=self._callback,
                    )
        except TwilioRestException as error:
            code = str(error.code or error.status)
            if _is_transient(error):
                raise TransientSendError(code, error.msg) from error
            raise PermanentSendError(code, str(error.msg)) from error
        except httpx.TransportError as error:
            raise TransientSendError("network", type(error).__name__) from error
        finally:
            metrics.SEND_SECONDS.labels(CHANNEL).observe(time.perf_counter() - started)
        return Accepted(provider_message_id=str(message.sid), status=str(message.status))

    async def sent_since(
        self, to_number: str, payload: dict[str, Any], since: datetime
    ) -> list[Accepted]:
        """Messages Twilio holds to ``to_number`` from our sender with the payload's body,
        made at ``since`` or later, oldest first: what a sender that died in the middle of
        its call may have sent. A template's text is Twilio's to fill in, so a template
        is never found."""
        body = payload.get("body")
        if not body:
            return []
        try:
            listed = await self._client.messages.list_async(
                to=f"whatsapp:{to_number}", from_=self._sender, limit=_LOOKUP_LIMIT
            )
        except TwilioRestException as error:
            raise TransientSendError(str(error.code or error.status), error.msg) from error
        except httpx.TransportError as error:
            raise TransientSendError("network", type(error).__name__) from error
        found = [
            m
            for m in listed
            if m.body == body and m.date_created is not None and m.date_created >= since
        ]
        found.sort(key=lambda m: m.date_created)
        return [Accepted(provider_message_id=str(m.sid), status=str(m.status)) for m in found]
