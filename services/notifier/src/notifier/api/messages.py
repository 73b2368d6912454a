"""Admin: outbound messages, their delivery history, and resending a failed one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifier import delivery
from notifier.handlers import NotifierHandler, NotResendableError
from notifier.models import DeliveryStatus, OutboundMessage
from notifier.twilio_sender import TransientSendError


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


def _e164(number: str) -> str:
    # An unencoded "+" in a query string arrives as a space.
    number = number.strip().removeprefix("whatsapp:")
    return "+" + number if number.isdigit() else number


SessionDep = Annotated[AsyncSession, Depends(get_session)]
router = APIRouter(prefix="/api/messages", tags=["messages"])


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    request_id: uuid.UUID
    part: int
    to_number: str
    channel: str
    priority: str
    kind: str
    template: str | None
    body: str
    options: list[dict[str, Any]]
    status: str
    provider_message_id: str | None
    attempts: int
    error_code: str | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None


class StatusOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: str
    error_code: str | None
    error_message: str | None
    received_at: datetime


class MessageDetail(MessageOut):
    history: list[StatusOut]


class MessagePage(BaseModel):
    items: list[MessageOut]
    total: int
    limit: int
    offset: int


@router.get("", summary="Messages, newest first, by number and status")
async def list_messages(
    session: SessionDep,
    to: str | None = Query(None, description="E.164 number, e.g. +2348000000001"),
    status: str | None = Query(None, description=", ".join(delivery.STATES)),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000_000),
) -> MessagePage:
    query = select(OutboundMessage)
    if to:
        query = query.where(OutboundMessage.to_number == _e164(to))
    if status:
        query = query.where(OutboundMessage.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(OutboundMessage.created_at.desc(), OutboundMessage.part.desc())
        .limit(limit)
        .offset(offset)
    )
    return MessagePage(
        items=[MessageOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


async def _detail(session: AsyncSession, message_id: uuid.UUID) -> MessageDetail:
    row = await session.get(OutboundMessage, message_id)
    if row is None:
        raise HTTPException(404, f"no message {message_id}")
    history = []
    if row.provider_message_id:
        history = list(
            await session.scalars(
                select(DeliveryStatus)
                .where(DeliveryStatus.provider_message_id == row.provider_message_id)
                .order_by(DeliveryStatus.id)
            )
        )
    return MessageDetail(
        **MessageOut.model_validate(row).model_dump(),
        history=[StatusOut.model_validate(h) for h in history],
    )


@router.get("/{message_id}", summary="One message with its delivery history")
async def get_message(message_id: uuid.UUID, session: SessionDep) -> MessageDetail:
    return await _detail(session, message_id)


@router.post(
    "/{message_id}/resend",
    summary="Send a failed or held message again",
    responses={
        404: {},
        409: {"description": "neither failed nor held"},
        503: {"description": "provider busy"},
    },
)
async def resend_message(message_id: uuid.UUID, request: Request) -> MessageDetail:
    handler: NotifierHandler = request.app.state.handler
    try:
        await handler.resend(message_id)
    except LookupError as error:
        raise HTTPException(404, f"no message {message_id}") from error
    except NotResendableError as error:
        raise HTTPException(409, str(error)) from error
    except TransientSendError as error:
        raise HTTPException(503, "the provider is not accepting messages now; try later") from error
    async with request.app.state.sessions() as session:
        return await _detail(session, message_id)
