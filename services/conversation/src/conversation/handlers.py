"""Turns one inbound message into state changes and outbound messages, in one transaction."""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversation import catalog, engine, metrics
from conversation.models import CartItem, ConversationState, Lead, Order, OrderLine, inbox
from conversation.settings import ConversationSettings
from shared import metrics as shared_metrics
from shared.events import (
    Envelope,
    Event,
    InboundMessageReceived,
    OrderPlaced,
    OutboundMessageRequested,
)
from shared.events import (
    OrderLine as OrderLineEvent,
)
from shared.messaging import BrokerUnavailableError
from shared.messaging.inbox import claim
from shared.messaging.outbox import Outbox

log = logging.getLogger(__name__)

# Outbound ids derive from the inbound message, so handling it again can never make a
# second, differently-numbered reply that the notifier would send twice.
_REPLY_NAMESPACE = uuid.UUID("6f1c1c57-2f0e-4c55-9d1e-7a1c8b3e5a10")
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_order_reference() -> str:
    return "ORD-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


class InboundHandler:
    def __init__(
        self,
        settings: ConversationSettings,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        *,
        queue: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.outbox = outbox
        self.queue = queue
        self.clock = clock

    async def __call__(self, envelope: Envelope[Event]) -> None:
        message = envelope.payload
        if not isinstance(message, InboundMessageReceived):
            return
        async with self.sessions() as session, session.begin():
            key = f"{message.channel}:{message.provider_message_id}"
            if not await claim(session, inbox, self.queue, key):
                shared_metrics.DUPLICATES_DROPPED.labels("conversation", self.queue).inc()
                log.info("inbound.duplicate_dropped", extra={"channel": message.channel.value})
                return
            event_ids = await self._take_turn(session, envelope, message)
        try:
            await self.outbox.flush(event_ids)
        except BrokerUnavailableError:
            log.warning("outbox.flush_deferred_to_relay", extra={"events": len(event_ids)})

    async def _take_turn(
        self,
        session: AsyncSession,
        envelope: Envelope[Event],
        message: InboundMessageReceived,
    ) -> list[uuid.UUID]:
        now = self.clock()
        phone = message.from_number
        row = await session.get(ConversationState, phone, with_for_update=True)
        cart_rows = (
            await session.scalars(
                select(CartItem).where(CartItem.phone_number == phone).order_by(CartItem.position)
            )
        ).all()
        current = engine.Conversation(
            state=row.state if row else engine.MENU,
            data=row.data if row else {},
            last_active=_aware(row.last_inbound_at) if row else None,
            cart=tuple(engine.CartLine(item.sku, item.quantity) for item in cart_rows),
        )
        ctx = engine.Context(
            now=now,
            catalog=await catalog.active_products(session),
            business_name=self.settings.business_name,
            currency=self.settings.currency,
            new_reference=new_order_reference(),
        )
        turn = engine.remember_offered(engine.handle(current, message.text, ctx))
        self._count(current, turn)

        if row is None:
            row = ConversationState(phone_number=phone)
            session.add(row)
        row.state, row.data, row.channel = turn.state, dict(turn.data), message.channel.value
        row.last_inbound_at = row.updated_at = now
        await self._touch_lead(session, message, now)
        if turn.cart != current.cart:
            await session.execute(delete(CartItem).where(CartItem.phone_number == phone))
            session.add_all(
                CartItem(phone_number=phone, sku=line.sku, quantity=line.quantity, position=i)
                for i, line in enumerate(turn.cart)
            )

        events: list[Envelope[Event]] = []
        if turn.order is not None:
            events.append(self._place_order(session, turn.order, phone, now, envelope))
        for index, reply in enumerate(turn.replies):
            outbound = OutboundMessageRequested(
                message_id=uuid.uuid5(
                    _REPLY_NAMESPACE, f"{message.channel}:{message.provider_message_id}:{index}"
                ),
                to_number=phone,
                channel=message.channel,
                text=reply.text,
                options=reply.options,
                in_reply_to=message.provider_message_id,
            )
            events.append(Envelope.wrap(outbound, key=phone, trace_id=envelope.trace_id))
        await session.flush()
        return [await self.outbox.add(session, event) for event in events]

    def _place_order(
        self,
        session: AsyncSession,
        draft: engine.OrderDraft,
        phone: str,
        now: datetime,
        envelope: Envelope[Event],
    ) -> Envelope[Event]:
        order = Order(
            id=uuid.uuid4(),
            reference=draft.reference,
            phone_number=phone,
            status="awaiting_payment",
            currency=draft.currency,
            total_minor=draft.total_minor,
            created_at=now,
            lines=[
                OrderLine(
                    sku=product.sku,
                    name=product.name,
                    quantity=quantity,
                    unit_price_minor=product.price_minor,
                )
                for product, quantity in draft.lines
            ],
        )
        session.add(order)
        metrics.ORDERS_PLACED.inc()
        log.info("order.placed", extra={"reference": order.reference, "total": order.total_minor})
        placed = OrderPlaced(
            order_id=order.id,
            reference=order.reference,
            phone_number=phone,
            currency=order.currency,
            total_minor=order.total_minor,
            lines=tuple(
                OrderLineEvent(
                    sku=line.sku,
                    name=line.name,
                    quantity=line.quantity,
                    unit_price_minor=line.unit_price_minor,
                )
                for line in order.lines
            ),
        )
        return Envelope.wrap(placed, key=phone, trace_id=envelope.trace_id)

    async def _touch_lead(
        self, session: AsyncSession, message: InboundMessageReceived, now: datetime
    ) -> None:
        lead = await session.get(Lead, message.from_number)
        if lead is None:
            lead = Lead(
                phone_number=message.from_number,
                first_contact_at=now,
                message_count=0,
            )
            session.add(lead)
        lead.profile_name = message.profile_name or lead.profile_name
        lead.last_contact_at = now
        lead.message_count = (lead.message_count or 0) + 1

    @staticmethod
    def _count(current: engine.Conversation, turn: engine.Turn) -> None:
        if turn.flow_started:
            metrics.FLOW_STARTS.labels(turn.flow_started).inc()
        if turn.flow_completed:
            metrics.FLOW_COMPLETIONS.labels(turn.flow_completed).inc()
        if turn.expired:
            metrics.STATE_EXPIRIES.inc()
        if not turn.understood:
            metrics.UNKNOWN_INPUTS.labels(current.state).inc()


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything here is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
