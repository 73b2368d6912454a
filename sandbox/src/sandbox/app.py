"""Builds the sandbox's HTTP app: the fake Twilio, its test routes and the chat page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from sandbox.chat import STATIC, chat_router
from sandbox.cloud_api import CloudApiState, cloud_api_router
from sandbox.cloud_api_callbacks import CloudStatusReports
from sandbox.cloud_api_inbound import cloud_inbound_router
from sandbox.media_hosting import media_router
from sandbox.outbound_http import OutboundHttp
from sandbox.paystack_api import paystack_router
from sandbox.paystack_checkout import checkout_router
from sandbox.paystack_ledger import PaystackLedger
from sandbox.paystack_webhooks import PaystackWebhooks
from sandbox.settings import SandboxSettings
from sandbox.status_callbacks import StatusCallbacks
from sandbox.store import Store
from sandbox.twilio_api import twilio_router
from sandbox.twilio_inbound import inbound_router
from shared.http import BodySizeLimit, SecurityHeaders


def create_app(settings: SandboxSettings | None = None) -> FastAPI:
    settings = settings or SandboxSettings()
    store = Store()
    http = OutboundHttp()
    callbacks = StatusCallbacks(settings, http)
    ledger = PaystackLedger()
    paystack_webhooks = PaystackWebhooks(settings, http)
    cloud_reports = CloudStatusReports(settings, http)
    cloud_state = CloudApiState()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        http.open()
        yield
        # Reports still walking would post through a closed client: stop them first.
        await callbacks.close()
        await cloud_reports.close()
        await http.aclose()

    app = FastAPI(
        title="tutordesk provider sandbox",
        description="A fake Twilio over real HTTP, for development and tests.",
        lifespan=lifespan,
        # BodySizeLimit below answers a declared length; FastAPI's own limit also turns an
        # undeclared (chunked) one into 413 where a JSON route would otherwise say 400.
        max_body_size=settings.max_body_bytes,
    )
    app.state.store = store
    app.include_router(twilio_router(settings, store, callbacks))
    app.include_router(inbound_router(settings, store, http))
    app.include_router(chat_router(store))
    app.state.paystack = ledger
    app.include_router(paystack_router(settings, ledger, paystack_webhooks))
    app.include_router(checkout_router(ledger, paystack_webhooks))
    app.include_router(cloud_api_router(settings, store, cloud_state, cloud_reports))
    app.include_router(cloud_inbound_router(settings, store, cloud_reports))
    app.include_router(media_router(settings))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/health", tags=["operations"], summary="Always up: the sandbox needs nothing")
    async def health() -> dict[str, object]:
        return {"service": "sandbox", "status": "ok", "dependencies": {}}

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app
