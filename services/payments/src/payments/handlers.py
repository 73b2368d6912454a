"""What the payments service does with each event it takes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from payments.models import Payment, inbox
from shared.events import OrderPlaced
from shared.messaging.inbox import claim

log = logging.getLogger(__name__)


async def record_order_awaiting_payment(
    session: AsyncSession, order: OrderPlaced, *, message_key: str
) -> None:
    if not await claim(session, inbox, "order.placed", message_key):
        return
    session.add(
        Payment(
            reference=order.reference,
            purpose="order",
            subject_id=order.order_id,
            phone_number=order.phone_number,
            amount_minor=order.total_minor,
            currency=order.currency,
            status="awaiting_checkout",
            created_at=datetime.now(UTC),
        )
    )
    log.info("payment.recorded", extra={"reference": order.reference, "purpose": "order"})
