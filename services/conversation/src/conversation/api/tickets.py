"""Admin: support tickets — list, read with the chat history, reply, close."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conversation import audit, copy, metrics
from conversation.api.deps import ActorDep, Limit, Offset, OutboxDep, SessionDep
from conversation.api.pages import Page, page_of
from conversation.models import SupportMessage, SupportTicket
from conversation.outgoing import Outgoing, channel_of
from shared.events import NotificationKind
from shared.messaging import BrokerUnavailableError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/tickets", tags=["tickets"])


class TicketOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    reference: str
    phone_number: str
    description: str
    status: str
    agent_phone: str | None
    created_at: datetime
    closed_at: datetime | None


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sender: str
    text: str
    created_at: datetime


class TicketDetail(TicketOut):
    messages: list[MessageOut]


class ReplyIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"text": "We've resent your pack; please check."}]}
    )

    text: str = Field(min_length=1, max_length=4000)


async def _get(session: AsyncSession, reference: str) -> SupportTicket:
    ticket = await session.scalar(select(SupportTicket).where(SupportTicket.reference == reference))
    if ticket is None:
        raise HTTPException(404, f"no ticket {reference!r}")
    return ticket


async def _detail(session: AsyncSession, ticket: SupportTicket) -> TicketDetail:
    messages = await session.scalars(
        select(SupportMessage)
        .where(SupportMessage.ticket_id == ticket.id)
        .order_by(SupportMessage.id)
    )
    return TicketDetail(
        **TicketOut.model_validate(ticket).model_dump(),
        messages=[MessageOut.model_validate(m) for m in messages],
    )


@router.get("", summary="List tickets, newest first")
async def list_tickets(
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
    status: str | None = Query(None, examples=["open"], description="open or closed"),
) -> Page[TicketOut]:
    query = select(SupportTicket).order_by(SupportTicket.created_at.desc())
    if status:
        query = query.where(SupportTicket.status == status)
    return await page_of(session, query, TicketOut, limit=limit, offset=offset)


@router.get("/{reference}", summary="One ticket with its chat history")
async def get_ticket(reference: str, session: SessionDep) -> TicketDetail:
    return await _detail(session, await _get(session, reference))


async def _send(outbox: OutboxDep, ids: list[uuid.UUID]) -> None:
    try:
        await outbox.flush(ids)
    except BrokerUnavailableError:
        log.warning("outbox.flush_deferred_to_relay", extra={"events": len(ids)})


@router.post("/{reference}/reply", summary="Reply to the student from the admin side")
async def reply_to_ticket(
    reference: str, body: ReplyIn, session: SessionDep, outbox: OutboxDep, actor: ActorDep
) -> TicketDetail:
    async with session.begin():
        ticket = await _get(session, reference)
        if ticket.status != "open":
            raise HTTPException(409, "the ticket is closed")
        session.add(
            SupportMessage(
                ticket_id=ticket.id, sender="admin", text=body.text, created_at=datetime.now(UTC)
            )
        )
        out = Outgoing(f"admin:{uuid.uuid4()}", uuid.uuid4().hex)
        out.message(
            ticket.phone_number,
            await channel_of(session, ticket.phone_number),
            copy.agent_line(body.text),
            kind=NotificationKind.SUPPORT_MESSAGE,
            template_params=(ticket.reference, body.text),
        )
        audit.record(
            session,
            actor=actor,
            action="reply",
            resource="ticket",
            resource_id=reference,
            before=None,
            after={"text": body.text},
        )
        await session.flush()
        detail = await _detail(session, ticket)
        ids = [await outbox.add(session, event) for event in out.events]
    await _send(outbox, ids)
    return detail


@router.post("/{reference}/close", summary="Close a ticket; the student is told")
async def close_ticket(
    reference: str, session: SessionDep, outbox: OutboxDep, actor: ActorDep
) -> TicketDetail:
    async with session.begin():
        ticket = await _get(session, reference)
        if ticket.status != "open":
            raise HTTPException(409, "the ticket is already closed")
        before = audit.snapshot(TicketOut.model_validate(ticket))
        ticket.status, ticket.closed_at = "closed", datetime.now(UTC)
        metrics.TICKETS_OPEN.dec()
        out = Outgoing(f"admin:{uuid.uuid4()}", uuid.uuid4().hex)
        out.message(
            ticket.phone_number,
            await channel_of(session, ticket.phone_number),
            copy.ticket_closed_for_student(reference),
            kind=NotificationKind.SUPPORT_MESSAGE,
            template_params=(reference,),
        )
        await session.flush()
        detail = await _detail(session, ticket)
        audit.record(
            session,
            actor=actor,
            action="close",
            resource="ticket",
            resource_id=reference,
            before=before,
            after=audit.snapshot(TicketOut.model_validate(ticket)),
        )
        ids = [await outbox.add(session, event) for event in out.events]
    await _send(outbox, ids)
    return detail
