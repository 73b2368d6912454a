"""Typed dependencies for the admin routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from conversation.settings import ConversationSettings
from shared.messaging.outbox import Outbox


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


def get_outbox(request: Request) -> Outbox:
    outbox: Outbox = request.app.state.outbox
    return outbox


def get_settings(request: Request) -> ConversationSettings:
    settings: ConversationSettings = request.app.state.settings
    return settings


def get_actor(
    x_admin_actor: Annotated[
        str | None,
        Header(description="Who is making the change, for the audit log", examples=["ops@desk"]),
    ] = None,
) -> str:
    return (x_admin_actor or "admin")[:100]


SessionDep = Annotated[AsyncSession, Depends(get_session)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
SettingsDep = Annotated[ConversationSettings, Depends(get_settings)]
ActorDep = Annotated[str, Depends(get_actor)]
Limit = Annotated[int, Query(ge=1, le=200, description="Page size")]
# Bounded: an offset past PostgreSQL's bigint would be a 500, not an empty page.
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="Rows to skip")]
