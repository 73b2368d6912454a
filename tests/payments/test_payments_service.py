"""The payments service runs on its own schema and records each placed order once."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
from sqlalchemy import select

import payments
from payments.models import Payment
from payments.service import build_service
from payments.settings import PaymentsSettings
from shared.events import Envelope, OrderLine, OrderPlaced
from shared.messaging.memory import InMemoryBroker
from shared.migrations import upgrade_async
from shared.testing import eventually, running_app

MIGRATIONS = Path(payments.__file__).parent / "migrations"


async def test_placed_order_becomes_one_payment_awaiting_checkout(database_url: str) -> None:
    await upgrade_async(database_url, MIGRATIONS, "payments")
    broker = InMemoryBroker(service="test")
    service = build_service(PaymentsSettings(database_url=database_url), broker)
    await service.start()
    order = OrderPlaced(
        order_id=uuid.uuid4(),
        reference="ORD-PAYTEST1",
        phone_number="+2348000000099",
        currency="NGN",
        total_minor=5_000_000,
        lines=(OrderLine(sku="WAEC-MATH", name="WAEC", quantity=10, unit_price_minor=500_000),),
    )
    envelope = Envelope.wrap(order, key=order.phone_number)
    await broker.publish(envelope)
    await broker.publish(envelope)  # a redelivery of the same event
    sessions = service.outbox.sessions  # type: ignore[union-attr]

    async def payments_for_order() -> list[Payment]:
        async with sessions() as session:
            rows = await session.scalars(
                select(Payment).where(Payment.subject_id == order.order_id)
            )
            return list(rows)

    async def recorded() -> bool:
        return len(await payments_for_order()) == 1 and broker.depth("payments") == 0

    await eventually(recorded, what="payment recorded")
    [payment] = await payments_for_order()
    assert (payment.amount_minor, payment.currency, payment.status) == (
        5_000_000,
        "NGN",
        "awaiting_checkout",
    )
    async with running_app(service.app) as url, httpx.AsyncClient() as client:
        health = await client.get(url + "/health")
        metrics = await client.get(url + "/metrics")
    assert health.json() == {
        "service": "payments",
        "status": "ok",
        "dependencies": {"database": "up", "broker": "up"},
    }
    assert 'tutordesk_messages_handled_total{outcome="ok",queue="payments",service="test"}' in (
        metrics.text
    )
    await service.stop()
