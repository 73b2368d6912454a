"""The payments HTTP side: admin API, /health, /metrics."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from payments.api import payments, plans, subscriptions
from payments.handlers import PaymentsHandler
from payments.paystack_client import PaystackClient
from payments.settings import PaymentsSettings
from shared.health import Health
from shared.http import create_service_app, require_admin


def create_app(
    settings: PaymentsSettings,
    health: Health,
    sessions: async_sessionmaker[AsyncSession],
    handler: PaymentsHandler,
    paystack: PaystackClient,
) -> FastAPI:
    app = create_service_app(settings, health)
    app.state.sessions = sessions
    app.state.handler = handler
    app.state.paystack = paystack
    admin = [require_admin(settings)]
    for module in (payments, plans, subscriptions):
        app.include_router(module.router, dependencies=admin)
    return app
