"""The gateway's HTTP app: provider webhooks, /health, /metrics."""

from __future__ import annotations

from fastapi import FastAPI

from gateway.cloud_api_webhooks import cloud_api_router
from gateway.media_links import media_router
from gateway.paystack_webhooks import paystack_router
from gateway.settings import GatewaySettings
from gateway.twilio_webhooks import twilio_router
from shared.health import Health
from shared.http import create_service_app
from shared.messaging import Broker


def create_app(settings: GatewaySettings, broker: Broker) -> FastAPI:
    health = Health(settings.service_name)

    async def broker_up() -> bool:
        return broker.is_connected()

    health.add("broker", broker_up)
    app = create_service_app(settings, health)
    app.include_router(twilio_router(settings, broker))
    app.include_router(paystack_router(settings, broker))
    if settings.serves_cloud_api:
        app.include_router(cloud_api_router(settings, broker))
    if settings.serves_media_links:
        app.include_router(media_router(settings))
    return app
