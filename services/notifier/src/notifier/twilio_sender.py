"""Sends one WhatsApp message through Twilio, retrying only what may succeed later."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from twilio.base import values
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from notifier import metrics
from notifier.settings import NotifierSettings
from notifier.twilio_transport import HttpxTwilioClient
from shared.events import Channel

log = logging.getLogger(__name__)

CHANNEL = "twilio"
# Looking for a send whose sender died: how many of the number's latest messages to read,
# and how far Twilio's clock may be from ours.
LOOKBACK_MESSAGES = 50
CLOCK_SKEW = timedelta(seconds=30)


class TransientSendError(Exception):
    """The provider may accept this later (rate limit, outage, network)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class UnconfirmedSendError(TransientSendError):
    """The request may have reached the provider, but no answer came back (a read timeout,
    a dropped connection): sending it again blind could send it twice."""


# Failures before the request could have reached the provider: safe to send again at once.
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def network_failure(error: httpx.TransportError) -> TransientSendError:
    if isinstance(error, NOT_SENT_ERRORS):
        return TransientSendError("network", type(error).__name__)
    return UnconfirmedSendError("no_answer", type(error).__name__)


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
    return isinstance(error, NOT_SENT_ERRORS)


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
            raise network_failure(error) from error
        finally:
            metrics.SEND_SECONDS.labels(CHANNEL).observe(time.perf_counter() - started)
        return Accepted(provider_message_id=str(message.sid), status=str(message.status))

    async def find_accepted(
        self, to_number: str, payload: dict[str, Any], since: datetime
    ) -> list[Accepted]:
        """Messages Twilio accepted to ``to_number`` with this payload's body since
        ``since`` (less a little clock skew), oldest first: how a replica that takes over
        a send whose sender died learns whether it went. A template's rendered body is
        Twilio's, not ours, so a template send cannot be matched and finds nothing."""
        body = payload.get("body")
        if not body or payload.get("content_sid"):
            return []
        try:
            recent = await self._client.messages.list_async(
                to=f"whatsapp:{to_number}", limit=LOOKBACK_MESSAGES
            )
        except TwilioException as error:
            # A list page that fails comes as a bare TwilioException ("Unable to fetch
            # page"); either way the send stays unsettled and is looked up again later.
            raise TransientSendError("lookup_failed", type(error).__name__) from error
        except httpx.TransportError as error:
            raise TransientSendError("network", type(error).__name__) from error
        horizon = since - CLOCK_SKEW
        found = [
            m
            for m in recent
            if m.body == body and m.date_created is not None and m.date_created >= horizon
        ]
        found.sort(key=lambda m: m.date_created or horizon)
        return [Accepted(provider_message_id=str(m.sid), status=str(m.status)) for m in found]
