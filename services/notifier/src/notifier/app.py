"""The notifier's HTTP side: admin API, /health, /metrics."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.api import messages
from notifier.handlers import NotifierHandler
from notifier.settings import NotifierSettings
from shared.health import Health
from shared.http import create_service_app, require_admin


def create_app(
    settings: NotifierSettings,
    health: Health,
    sessions: async_sessionmaker[AsyncSession],
    handler: NotifierHandler,
) -> FastAPI:
    app = create_service_app(settings, health)
    app.state.sessions = sessions
    app.state.handler = handler
    app.include_router(messages.router, dependencies=[require_admin(settings)])
    return app
