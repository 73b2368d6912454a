"""A Twilio-shaped Messages API for tests: records what it is sent, answers as it is told."""

from __future__ import annotations

import asyncio
import base64
import hmac
import itertools
import re
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shared.events import Channel, Envelope, Event, InboundMessageReceived

_ERRORS = {
    400: (21211, "The 'To' number is not a valid phone number."),
    401: (20003, "Authenticate"),
    404: (20404, "The requested resource was not found"),
    429: (20429, "Too Many Requests"),
}
_WHATSAPP_NUMBER = re.compile(r"whatsapp:\+\d{10,15}")
_sid_numbers = itertools.count(1)


@dataclass(frozen=True)
class SentMessage:
    sid: str
    to: str
    from_: str
    body: str
    media_urls: tuple[str, ...]
    status_callback: str | None
    fields: tuple[str, ...]  # every form field name, as sent
    content_sid: str = ""
    content_variables: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class FakeTwilio:
    """Serve ``app()``; point ``TWILIO_API_BASE_URL`` at it."""

    account_sid: str
    auth_token: str
    messages: list[SentMessage] = field(default_factory=list)
    requests: int = 0
    # HTTP statuses the next create calls answer with, one each.
    faults: deque[int] = field(default_factory=deque)
    # Sids the next accepted messages get, so a test can report on one before it exists.
    next_sids: deque[str] = field(default_factory=deque)
    # Runs after a message is accepted and before the answer goes out: a provider that
    # calls back faster than it answers.
    before_answer: Callable[[SentMessage], Awaitable[None]] | None = None
    answer_delay: float = 0.0
    lists: int = 0  # list calls received

    def fail_next(self, status: int, count: int = 1) -> None:
        self.faults.extend([status] * count)

    def sent_to(self, number: str) -> list[SentMessage]:
        return [m for m in self.messages if m.to == f"whatsapp:{number}"]

    def app(self) -> FastAPI:
        app = FastAPI()
        expected = f"{self.account_sid}:{self.auth_token}".encode()

        def authorised(request: Request, account_sid: str) -> bool:
            scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
            given = base64.b64decode(encoded) if scheme.lower() == "basic" else b""
            return hmac.compare_digest(given, expected) and account_sid == self.account_sid

        @app.post("/2010-04-01/Accounts/{account_sid}/Messages.json")
        async def create_message(account_sid: str, request: Request) -> JSONResponse:
            self.requests += 1
            if not authorised(request, account_sid):
                return _error(401)
            if self.faults:
                return _error(self.faults.popleft())
            form = parse_qsl((await request.body()).decode(), keep_blank_values=True)
            values = dict(form)
            if not _WHATSAPP_NUMBER.fullmatch(values.get("To", "")):
                return _error(400)
            message = SentMessage(
                sid=self.next_sids.popleft() if self.next_sids else _new_sid(),
                to=values["To"],
                from_=values.get("From", ""),
                body=values.get("Body", ""),
                media_urls=tuple(v for k, v in form if k == "MediaUrl"),
                status_callback=values.get("StatusCallback"),
                fields=tuple(k for k, _ in form),
                content_sid=values.get("ContentSid", ""),
                content_variables=values.get("ContentVariables", ""),
            )
            self.messages.append(message)
            if self.before_answer is not None:
                await self.before_answer(message)
            if self.answer_delay:
                await asyncio.sleep(self.answer_delay)
            return JSONResponse(_resource(message, account_sid), status_code=201)

        @app.get("/2010-04-01/Accounts/{account_sid}/Messages.json")
        async def list_messages(account_sid: str, request: Request) -> JSONResponse:
            """Newest first, filtered by To and From, all on one page."""
            self.lists += 1
            if not authorised(request, account_sid):
                return _error(401)
            to, from_ = request.query_params.get("To"), request.query_params.get("From")
            found = [
                _resource(m, account_sid)
                for m in reversed(self.messages)
                if (to is None or m.to == to) and (from_ is None or m.from_ == from_)
            ]
            path = request.url.path
            return JSONResponse({"messages": found, "page": 0, "uri": path, "next_page_uri": None})

        return app


def _resource(message: SentMessage, account_sid: str) -> dict[str, Any]:
    return {
        "sid": message.sid,
        "account_sid": account_sid,
        "to": message.to,
        "from": message.from_,
        "body": message.body,
        "status": "queued",
        "num_media": str(len(message.media_urls)),
        "num_segments": "1",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "date_created": format_datetime(message.created_at),
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{message.sid}.json",
    }


def _new_sid() -> str:
    return f"SM{next(_sid_numbers):032x}"


def _error(status: int) -> JSONResponse:
    code, message = _ERRORS.get(status, (20500, "Internal Server Error"))
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
    )


def user_wrote(number: str, channel: str = "twilio") -> Envelope[Event]:
    """An inbound message from ``number``, as the gateway publishes it: it opens the
    number's 24-hour window, so free-form replies may go."""
    event = InboundMessageReceived(
        channel=Channel(channel),
        provider_message_id=f"in-{uuid.uuid4().hex}",
        from_number=number,
        to_number="+15550001111",
        text="hi",
    )
    return Envelope.wrap(event, key=number)


@dataclass
class FakeCloudApi:
    """A Cloud API-shaped Graph API for tests: records each send (the JSON as posted) and
    each mark-as-read, answers with Meta's shapes, and fails as it is told."""

    access_token: str
    phone_number_id: str
    sent: list[dict[str, Any]] = field(default_factory=list)
    read: list[str] = field(default_factory=list)
    requests: int = 0
    # (HTTP status, Meta error code) for the next send calls, one each.
    faults: deque[tuple[int, int]] = field(default_factory=deque)
    next_ids: deque[str] = field(default_factory=deque)

    def fail_next(self, status: int, code: int, count: int = 1) -> None:
        self.faults.extend([(status, code)] * count)

    def sent_to(self, number: str) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["to"] == number.removeprefix("+")]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{phone_number_id}/messages")
        async def messages(phone_number_id: str, request: Request) -> JSONResponse:
            if request.headers.get("authorization") != f"Bearer {self.access_token}":
                return _cloud_error(401, 190, "Invalid OAuth access token")
            body = await request.json()
            if body.get("status") == "read":
                self.read.append(body["message_id"])
                return JSONResponse({"success": True})
            self.requests += 1
            if phone_number_id != self.phone_number_id:
                return _cloud_error(400, 100, "Invalid parameter")
            if self.faults:
                status, code = self.faults.popleft()
                return _cloud_error(status, code, "Injected fault")
            wamid = self.next_ids.popleft() if self.next_ids else f"wamid.{uuid.uuid4().hex}"
            self.sent.append({**body, "id": wamid})
            return JSONResponse(
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                    "messages": [{"id": wamid}],
                }
            )

        return app


def _cloud_error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": {
                "message": f"(#{code}) {message}",
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": message},
                "fbtrace_id": "Atest",
            }
        },
        status_code=status,
    )
