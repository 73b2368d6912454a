"""Test support shipped with the package (like shared.testing): a sandbox on a free port
with a stand-in for the gateway that records what the sandbox posts to it, and a handle
that drives the sandbox through the real twilio package."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from fastapi import FastAPI, Request, Response
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from sandbox.app import create_app
from sandbox.settings import SandboxSettings
from shared import sandbox_defaults
from shared.testing import running_app


@dataclass
class Post:
    url: str
    path: str
    form: dict[str, str]
    signature: str
    # The raw body and headers, for JSON webhooks (Cloud API, Paystack).
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def raw(self) -> bytes:
        return self.body

    @property
    def hub_signature(self) -> str:
        """X-Hub-Signature-256, on Cloud API webhooks."""
        return self.headers.get("x-hub-signature-256", "")


@dataclass
class Receiver:
    """Stands in for the gateway: records each POST, answers 200 unless told otherwise."""

    url: str = ""
    posts: list[Post] = field(default_factory=list)
    # Statuses for the next POSTs, first first; 200 once they run out.
    answers: list[int] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{path:path}")
        async def record(path: str, request: Request) -> Response:
            raw = await request.body()
            self.posts.append(
                Post(
                    url=str(request.url),
                    path="/" + path,
                    form=dict(parse_qsl(raw.decode(errors="replace"), keep_blank_values=True)),
                    signature=request.headers.get("x-twilio-signature", ""),
                    body=raw,
                    headers=dict(request.headers),
                )
            )
            return Response(status_code=self.answers.pop(0) if self.answers else 200)

        return app

    def posts_for(self, sid: str) -> list[Post]:
        return [p for p in self.posts if p.form.get("MessageSid") == sid]

    def reset(self) -> None:
        self.posts.clear()
        self.answers.clear()


@dataclass
class RunningSandbox:
    """A sandbox served on ``url``, the receiver it calls back, and a client for both."""

    url: str
    receiver: Receiver
    http: httpx.AsyncClient

    def twilio_client(self, auth_token: str = sandbox_defaults.TWILIO_AUTH_TOKEN) -> Client:
        """The real twilio package, pointed at the sandbox."""
        client = Client(sandbox_defaults.TWILIO_ACCOUNT_SID, auth_token)
        client.api.base_url = self.url + "/twilio"
        return client

    async def send(self, client: Client | None = None, **create: Any) -> Any:
        """``messages.create`` through the real, blocking twilio client, off the event loop."""
        client = client or self.twilio_client()
        create.setdefault("from_", sandbox_defaults.TWILIO_WHATSAPP_FROM)
        return await asyncio.to_thread(client.messages.create, **create)

    async def refused(self, client: Client | None = None, **create: Any) -> TwilioRestException:
        """``send``, expecting Twilio's refusal; returns the exception the package raised."""
        try:
            message = await self.send(client, **create)
        except TwilioRestException as error:
            return error
        raise AssertionError(f"the sandbox accepted {message.sid}")

    async def outbound(self, to: str | None = None) -> list[dict[str, Any]]:
        response = await self.http.get(
            self.url + "/sandbox/twilio/messages", params={"to": to} if to else {}
        )
        response.raise_for_status()
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages

    async def conversation(self, number: str) -> list[dict[str, Any]]:
        response = await self.http.get(self.url + f"/sandbox/conversations/{number}")
        response.raise_for_status()
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages


@contextlib.asynccontextmanager
async def serving_sandbox(**settings: Any) -> AsyncIterator[RunningSandbox]:
    """Serve a receiver and a sandbox calling back to it; ``settings`` override
    SandboxSettings. Callbacks and their retries default to hundredths of a second."""
    receiver = Receiver()
    async with running_app(receiver.app()) as receiver_url:
        receiver.url = receiver_url
        values: dict[str, Any] = {
            "gateway_url": receiver_url,
            "sandbox_callback_delay": 0.01,
            "sandbox_callback_attempts": 3,
            "sandbox_callback_retry_delay": 0.01,
            **settings,
        }
        async with (
            running_app(create_app(SandboxSettings(**values))) as url,
            httpx.AsyncClient(base_url=url, timeout=10) as http,
        ):
            yield RunningSandbox(url, receiver, http)
