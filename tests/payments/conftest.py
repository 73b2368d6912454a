"""One payments world per module: PostgreSQL, the real gateway app and the sandbox on
real sockets, the payments service on an in-memory broker that the gateway shares, and a
spy on every payment and subscription event."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

import payments
from gateway.service import build_service as build_gateway
from gateway.settings import GatewaySettings
from payments.service import PaymentsService, build_service
from payments.settings import PaymentsSettings
from sandbox.testing import RunningSandbox, serving_sandbox
from shared.events import (
    Envelope,
    Event,
    PaymentLinkCreated,
    PaymentPurpose,
    PaymentRequested,
)
from shared.messaging import QueueSpec
from shared.messaging.memory import InMemoryBroker, ServiceBroker
from shared.migrations import upgrade_async
from shared.testing import eventually, running_app

MIGRATIONS = Path(payments.__file__).parent / "migrations"
E = TypeVar("E", bound=Event)


@dataclass
class World:
    broker: InMemoryBroker
    service: PaymentsService
    sandbox: RunningSandbox
    gateway_url: str
    events: list[Envelope[Event]] = field(default_factory=list)

    def of(self, kind: type[E], reference: str | None = None) -> list[E]:
        found = [e.payload for e in self.events if isinstance(e.payload, kind)]
        if reference is not None:
            found = [e for e in found if _reference(e) == reference]
        return found

    async def request(self, phone: str | None = None, **fields: Any) -> PaymentLinkCreated:
        """Act as the conversation: ask for a payment and wait for its link."""
        phone = phone or f"+23480{uuid.uuid4().int % 10**9:09d}"
        fields.setdefault("purpose", PaymentPurpose.ORDER)
        if fields["purpose"] is PaymentPurpose.ORDER:
            fields.setdefault("order_id", uuid.uuid4())
            fields.setdefault("order_reference", "ORD-" + uuid.uuid4().hex[:8].upper())
            fields.setdefault("amount_minor", 5_000_000)
            fields.setdefault("currency", "NGN")
        request = PaymentRequested(
            request_id=fields.pop("request_id", uuid.uuid4()), phone_number=phone, **fields
        )
        await self.broker.publish(Envelope.wrap(request, key=phone))
        await eventually(
            lambda: any(
                link.payment.request_id == request.request_id
                for link in self.of(PaymentLinkCreated)
            ),
            what="payment link",
        )
        [link] = [
            link
            for link in self.of(PaymentLinkCreated)
            if link.payment.request_id == request.request_id
        ]
        return link


def _reference(event: Event) -> str | None:
    payment = getattr(event, "payment", None)
    return getattr(payment, "reference", None)


@pytest.fixture(scope="module")
async def world(database_url: str) -> AsyncIterator[World]:
    await upgrade_async(database_url, MIGRATIONS, "payments")
    broker = InMemoryBroker(service="test")
    await broker.connect()
    gateway = build_gateway(GatewaySettings(), ServiceBroker(broker, "gateway"))
    async with (
        running_app(gateway.app) as gateway_url,
        serving_sandbox(gateway_url=gateway_url) as sandbox,
    ):
        settings = PaymentsSettings(
            database_url=database_url,  # type: ignore[arg-type]
            sandbox_url=sandbox.url,
            # The loops stay out of the way; tests run reconciliation themselves.
            reconcile_interval_seconds=3600,
            subscription_check_interval_seconds=3600,
            reconcile_after_seconds=0,
            paystack_retry_wait_seconds=0.01,
            consumer_retry_delay_ms=100,
        )
        service = build_service(settings, ServiceBroker(broker, "payments"))
        await service.start()
        world = World(broker, service, sandbox, gateway_url)

        async def record(envelope: Envelope[Event]) -> None:
            world.events.append(envelope)

        await broker.consume(
            QueueSpec(name="spy", routing_keys=("payment.#", "subscription.#")), record
        )
        yield world
        await service.stop()
    await broker.close()
