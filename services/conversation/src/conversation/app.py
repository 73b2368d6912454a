"""The conversation HTTP side: admin API, /health, /metrics."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversation.api import (
    admin_settings,
    agents,
    audit_log,
    faq,
    homework,
    leads,
    orders,
    products,
    students,
    tickets,
    tutors,
)
from conversation.settings import ConversationSettings
from shared.health import Health
from shared.http import create_service_app, require_admin
from shared.messaging.outbox import Outbox


def create_app(
    settings: ConversationSettings,
    health: Health,
    sessions: async_sessionmaker[AsyncSession],
    outbox: Outbox,
) -> FastAPI:
    app = create_service_app(settings, health)
    app.state.sessions = sessions
    app.state.outbox = outbox
    app.state.settings = settings
    admin = [require_admin(settings)]
    modules = (
        students,
        homework,
        tutors,
        agents,
        tickets,
        leads,
        faq,
        products,
        orders,
        admin_settings,
        audit_log,
    )
    for module in modules:
        app.include_router(module.router, dependencies=admin)
    return app
