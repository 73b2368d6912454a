"""The conversation HTTP side: admin API, /health, /metrics."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversation.api import orders, products
from conversation.settings import ConversationSettings
from shared.health import Health
from shared.http import create_service_app, require_admin


def create_app(
    settings: ConversationSettings, health: Health, sessions: async_sessionmaker[AsyncSession]
) -> FastAPI:
    app = create_service_app(settings, health)
    app.state.sessions = sessions
    admin = [require_admin(settings)]
    for module in (products, orders):
        app.include_router(module.router, dependencies=admin)
    return app
