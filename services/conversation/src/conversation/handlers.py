"""Turns each event on the conversation queue (a message, a photo verdict, a payment or
subscription event) into state changes and outbound events, in one transaction."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversation import context, copy, desk_settings, engine, flood, metrics, reactions
from conversation.actions import Actions, Actor
from conversation.effects import ChangeContactPreference
from conversation.models import (
    CartItem,
    ConversationState,
    Lead,
    Order,
    OrderLine,
    Student,
    inbox,
)
from conversation.outgoing import Outgoing, derived_id
from conversation.settings import ConversationSettings
from shared import metrics as shared_metrics
from shared.db import upsert_insert
from shared.events import (
    Channel,
    Envelope,
    Event,
    InboundMessageReceived,
    MediaFetched,
    OrderPlaced,
    PaymentPurpose,
    PaymentRequested,
)
from shared.events import (
    OrderLine as OrderLineEvent,
)
from shared.messaging import BrokerUnavailableError
from shared.messaging.inbox import claim
from shared.messaging.outbox import Outbox

log = logging.getLogger(__name__)


def new_order_reference() -> str:
    return context.new_reference("ORD")


class InboundHandler:
    """The conversation queue's one handler; dispatches on the event's type."""

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
        self.flood_limit = flood.FloodLimit(settings.flood_burst, settings.flood_refill_per_second)

    async def __call__(self, envelope: Envelope[Event]) -> None:
        payload = envelope.payload
        if isinstance(payload, InboundMessageReceived):
            key = f"{payload.channel}:{payload.provider_message_id}"
        elif isinstance(payload, (MediaFetched, *reactions.HANDLED)):
            key = f"{payload.event_type}:{envelope.id}"
        else:
            return
        async with self.sessions() as session, session.begin():
            if not await claim(session, inbox, self.queue, key):
                shared_metrics.DUPLICATES_DROPPED.labels("conversation", self.queue).inc()
                log.info("event.duplicate_dropped", extra={"type": envelope.type})
                return
            out = Outgoing(key, envelope.trace_id)
            if isinstance(payload, InboundMessageReceived):
                await self._take_turn(session, out, payload)
            elif isinstance(payload, MediaFetched):
                await self._media_checked(session, out, payload)
            else:
                desk = await desk_settings.load(session, self.settings)
                await reactions.react(session, payload, out, desk, self.clock())
            await session.flush()
            event_ids = [await self.outbox.add(session, event) for event in out.events]
        try:
            await self.outbox.flush(event_ids)
        except BrokerUnavailableError:
            log.warning("outbox.flush_deferred_to_relay", extra={"events": len(event_ids)})

    async def _load(
        self, session: AsyncSession, phone: str
    ) -> tuple[ConversationState | None, engine.Conversation]:
        row = await session.get(ConversationState, phone, with_for_update=True)
        cart_rows = (
            await session.scalars(
                select(CartItem).where(CartItem.phone_number == phone).order_by(CartItem.position)
            )
        ).all()
        current = engine.Conversation(
            state=row.state if row else engine.MENU,
            data=row.data if row else {},
            last_active=context.aware(row.last_inbound_at) if row else None,
            cart=tuple(engine.CartLine(item.sku, item.quantity) for item in cart_rows),
        )
        return row, current

    async def _take_turn(
        self, session: AsyncSession, out: Outgoing, message: InboundMessageReceived
    ) -> None:
        now = self.clock()
        phone = message.from_number
        if not await self._within_flood_limit(session, out, message, now):
            return
        row, current = await self._load(session, phone)
        desk = await desk_settings.load(session, self.settings)
        ctx = await context.load(session, phone, desk, now)
        turn = engine.handle(
            current,
            message.text,
            ctx,
            selected=message.selected_option_id,
            media=message.media,
            unsupported=message.unsupported_kind,
        )
        if ctx.role == "student":
            await self._touch_lead(session, message, now)
        await self._apply(
            session,
            out,
            row,
            current,
            turn,
            phone,
            message.channel,
            now,
            desk,
            in_reply_to=message.provider_message_id,
        )

    async def _within_flood_limit(
        self,
        session: AsyncSession,
        out: Outgoing,
        message: InboundMessageReceived,
        now: datetime,
    ) -> bool:
        """Count the message against its number's flood limit; a refused one gets at most
        the flood's one polite reply and goes no further."""
        # Paced by when the person wrote, so a backlog handled all at once after an outage
        # is not taken for a flood; never later than now, whatever a provider's clock says.
        written = min(message.received_at, now)
        verdict = await flood.admit(session, message.from_number, self.flood_limit, written)
        if verdict is flood.Verdict.ANSWER:
            return True
        metrics.FLOOD_REFUSED.inc()
        if verdict is flood.Verdict.WARN:
            log.warning("flood.limited", extra={"channel": message.channel.value})
            out.message(
                message.from_number,
                message.channel,
                copy.FLOOD,
                in_reply_to=message.provider_message_id,
            )
        return False

    async def _media_checked(
        self, session: AsyncSession, out: Outgoing, verdict: MediaFetched
    ) -> None:
        now = self.clock()
        phone = verdict.phone_number
        row, current = await self._load(session, phone)
        if row is None or current.data.get("media_request") != str(verdict.request_id):
            metrics.EVENTS_IGNORED.labels(verdict.event_type).inc()
            log.info("media.verdict_no_longer_awaited")
            return
        desk = await desk_settings.load(session, self.settings)
        ctx = await context.load(session, phone, desk, now)
        result = engine.MediaResult(stored=verdict.stored, rejection=verdict.rejection)
        turn = engine.media_arrived(current, result, ctx)
        if turn is None:
            metrics.EVENTS_IGNORED.labels(verdict.event_type).inc()
            return
        await self._apply(
            session,
            out,
            row,
            current,
            turn,
            phone,
            Channel(row.channel),
            now,
            desk,
            touch=False,
        )

    async def _apply(
        self,
        session: AsyncSession,
        out: Outgoing,
        row: ConversationState | None,
        current: engine.Conversation,
        turn: engine.Turn,
        phone: str,
        channel: Channel,
        now: datetime,
        desk: desk_settings.DeskSettings,
        *,
        in_reply_to: str | None = None,
        touch: bool = True,
    ) -> None:
        turn = engine.remember_offered(turn)
        self._count(current, turn)
        if turn.cart != current.cart:
            await session.execute(delete(CartItem).where(CartItem.phone_number == phone))
            session.add_all(
                CartItem(phone_number=phone, sku=line.sku, quantity=line.quantity, position=i)
                for i, line in enumerate(turn.cart)
            )
        actions = Actions(session, Actor(phone, channel, now, desk), out)
        opting_in = [
            e for e in turn.effects if isinstance(e, ChangeContactPreference) and not e.opted_out
        ]
        for first in opting_in:  # back in first, so the welcome-back reply can go
            await actions.apply(first)
        for reply in turn.replies:
            out.message(phone, channel, reply.text, reply.options, in_reply_to=in_reply_to)
        # After the replies, so the student's "order placed" goes out before the payment
        # link that payments will answer PaymentRequested with.
        if turn.order is not None:
            await self._place_order(session, out, turn.order, phone, now)
        for effect in turn.effects:
            if effect not in opting_in:
                await actions.apply(effect)

        if row is None:
            row = ConversationState(phone_number=phone)
            session.add(row)
        data = dict(turn.data)
        if actions.media_request is not None:
            data["media_request"] = actions.media_request
        row.state, row.data, row.channel = turn.state, data, channel.value
        if touch or row.last_inbound_at is None:
            row.last_inbound_at = now
        row.updated_at = now

    async def _place_order(
        self,
        session: AsyncSession,
        out: Outgoing,
        draft: engine.OrderDraft,
        phone: str,
        now: datetime,
    ) -> None:
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
        out.event(
            OrderPlaced(
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
            ),
            key=phone,
        )
        student = await session.scalar(select(Student).where(Student.phone_number == phone))
        out.event(
            PaymentRequested(
                request_id=derived_id(f"order:{order.id}", "payment"),
                purpose=PaymentPurpose.ORDER,
                phone_number=phone,
                email=student.email if student else None,
                order_id=order.id,
                order_reference=order.reference,
                amount_minor=order.total_minor,
                currency=order.currency,
            ),
            key=phone,
        )

    async def _touch_lead(
        self, session: AsyncSession, message: InboundMessageReceived, now: datetime
    ) -> None:
        # One upsert rather than a read and a write: this runs on every student's turn.
        upsert = upsert_insert(session)(Lead).values(
            phone_number=message.from_number,
            profile_name=message.profile_name or None,
            first_contact_at=now,
            last_contact_at=now,
            message_count=1,
        )
        await session.execute(
            upsert.on_conflict_do_update(
                index_elements=[Lead.phone_number],
                set_={
                    "profile_name": func.coalesce(upsert.excluded.profile_name, Lead.profile_name),
                    "last_contact_at": upsert.excluded.last_contact_at,
                    "message_count": func.coalesce(Lead.message_count, 0) + 1,
                },
            )
        )

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
