"""What the desk does when payments reports: links, paid orders, failures, subscriptions."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from conversation import copy
from conversation.context import aware
from conversation.desk_settings import DeskSettings
from conversation.models import Order, Subscription
from conversation.money import format_money
from conversation.outgoing import Outgoing, channel_of
from shared.events import (
    Event,
    MessagePriority,
    NotificationKind,
    PaymentFacts,
    PaymentFailed,
    PaymentLinkCreated,
    PaymentPurpose,
    PaymentSucceeded,
    SubscriptionExpired,
    SubscriptionExtended,
    SubscriptionFacts,
    SubscriptionRenewalDue,
    SubscriptionStarted,
)

log = logging.getLogger(__name__)

HANDLED = (
    PaymentLinkCreated,
    PaymentSucceeded,
    PaymentFailed,
    SubscriptionStarted,
    SubscriptionExtended,
    SubscriptionExpired,
    SubscriptionRenewalDue,
)


def _what(payment: PaymentFacts, desk: DeskSettings) -> str:
    if payment.purpose is PaymentPurpose.ORDER:
        return f"order {payment.order_reference}"
    name = next((p.name for p in desk.plans if p.code == payment.plan_code), payment.plan_code)
    return f"the {name} plan"


async def react(
    session: AsyncSession, event: Event, out: Outgoing, desk: DeskSettings, now: datetime
) -> None:
    if isinstance(event, PaymentLinkCreated):
        payment = event.payment
        await _tell(
            session,
            out,
            payment.phone_number,
            copy.payment_link(_what(payment, desk), event.checkout_url),
        )
    elif isinstance(event, PaymentSucceeded):
        await _paid(session, event.payment, out)
    elif isinstance(event, PaymentFailed):
        payment = event.payment
        if payment.purpose is PaymentPurpose.ORDER and payment.order_id is not None:
            order = await session.get(Order, payment.order_id, with_for_update=True)
            if order is not None and order.status == "awaiting_payment":
                order.status = "payment_failed"
        if payment.purpose is PaymentPurpose.ORDER and payment.order_reference:
            text = copy.order_payment_failed(payment.order_reference, event.reason)
        else:
            text = copy.payment_failed(_what(payment, desk), event.reason)
        await _tell(session, out, payment.phone_number, text, menu=True)
    elif isinstance(event, SubscriptionStarted | SubscriptionExtended):
        facts = event.subscription
        await _keep(session, facts, now, started=isinstance(event, SubscriptionStarted))
        say = (
            copy.subscription_started
            if isinstance(event, SubscriptionStarted)
            else (copy.subscription_extended)
        )
        await _tell(
            session,
            out,
            facts.phone_number,
            say(facts.plan_name, facts.ends_at),
            kind=NotificationKind.PAYMENT_RECEIVED,
            params=(facts.plan_name, facts.ends_at.date().isoformat()),
        )
    elif isinstance(event, SubscriptionExpired):
        facts = event.subscription
        await _keep(session, facts, now, started=False)
        await _tell(
            session,
            out,
            facts.phone_number,
            copy.subscription_expired(facts.plan_name),
            kind=NotificationKind.RENEWAL_REMINDER,
            priority=MessagePriority.BULK,
            params=(facts.plan_name,),
        )
    elif isinstance(event, SubscriptionRenewalDue):
        facts = event.subscription
        await _tell(
            session,
            out,
            facts.phone_number,
            copy.renewal_due(facts.plan_name, event.days_left, facts.ends_at),
            kind=NotificationKind.RENEWAL_REMINDER,
            priority=MessagePriority.BULK,
            params=(facts.plan_name, str(event.days_left), facts.ends_at.date().isoformat()),
        )


async def _paid(session: AsyncSession, payment: PaymentFacts, out: Outgoing) -> None:
    if payment.purpose is not PaymentPurpose.ORDER or payment.order_id is None:
        return  # a plan: the subscription event that follows tells the student
    order = await session.get(Order, payment.order_id, with_for_update=True)
    if order is None:
        log.warning("payment.order_unknown", extra={"order_id": str(payment.order_id)})
        return
    order.status = "paid"
    total = format_money(order.total_minor, order.currency)
    await _tell(
        session,
        out,
        order.phone_number,
        copy.order_paid(order.reference, total),
        kind=NotificationKind.ORDER_UPDATE,
        params=(order.reference, total),
    )


async def _keep(
    session: AsyncSession, facts: SubscriptionFacts, now: datetime, *, started: bool
) -> None:
    row = await session.get(Subscription, facts.phone_number, with_for_update=True)
    if (
        row is not None
        and row.subscription_id == facts.subscription_id
        and aware(row.updated_at) > now
    ):
        return
    if row is None:
        row = Subscription(phone_number=facts.phone_number, credits_used=0)
        session.add(row)
    if started or row.subscription_id != facts.subscription_id:
        row.credits_used = 0
    row.subscription_id = facts.subscription_id
    row.plan_code, row.plan_name, row.status = facts.plan_code, facts.plan_name, facts.status
    row.starts_at, row.ends_at = facts.starts_at, facts.ends_at
    row.homework_credits = facts.homework_credits
    row.updated_at = now


async def _tell(
    session: AsyncSession,
    out: Outgoing,
    phone: str,
    text: str,
    *,
    menu: bool = False,
    kind: NotificationKind = NotificationKind.REPLY,
    priority: MessagePriority = MessagePriority.REPLY,
    params: tuple[str, ...] = (),
) -> None:
    out.message(
        phone,
        await channel_of(session, phone),
        text,
        copy.MENU_OPTIONS if menu else (),
        kind=kind,
        priority=priority,
        template_params=params,
    )
