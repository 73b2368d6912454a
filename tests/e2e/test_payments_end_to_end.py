"""Payments end to end: the sandbox, the gateway and the payments service as separate
processes on RabbitMQ and PostgreSQL. The test plays the conversation: it publishes
PaymentRequested to the exchange and watches what payments emits on a queue of its own."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import aio_pika
import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shared import sandbox_defaults
from shared.events import (
    Envelope,
    Event,
    PaymentFailed,
    PaymentLinkCreated,
    PaymentPurpose,
    PaymentRequested,
    PaymentSucceeded,
    SubscriptionStarted,
    decode_envelope,
)
from shared.messaging.rabbitmq import RabbitBroker
from shared.paystack_signature import paystack_signature
from shared.testing import eventually, free_port
from stack.testing import Process, Stack, base_env, wait_healthy

E = TypeVar("E", bound=Event)
ADMIN = {"Authorization": f"Bearer {sandbox_defaults.ADMIN_API_TOKEN}"}
RECONCILE_AFTER = 3.0


@dataclass
class Payments:
    stack: Stack
    rabbitmq_url: str
    broker: RabbitBroker
    raw: list[bytes] = field(default_factory=list)  # every event body as it travelled

    def events(self, kind: type[E], reference: str | None = None) -> list[E]:
        found: list[E] = []
        for body in list(self.raw):
            payload = decode_envelope(body).payload
            if isinstance(payload, kind) and (
                reference is None or payload.payment.reference == reference  # type: ignore[attr-defined]
            ):
                found.append(payload)
        return found

    async def request(self, **fields: Any) -> PaymentLinkCreated:
        phone = fields.pop("phone_number", f"+23490{uuid.uuid4().int % 10**9:09d}")
        request = PaymentRequested(request_id=uuid.uuid4(), phone_number=phone, **fields)
        await self.broker.publish(Envelope.wrap(request, key=phone))

        def link() -> list[PaymentLinkCreated]:
            return [
                e for e in self.events(PaymentLinkCreated)
                if e.payment.request_id == request.request_id
            ]  # fmt: skip

        await eventually(lambda: bool(link()), within=20, what="payment link")
        return link()[0]

    async def payment(self, reference: str) -> dict[str, Any]:
        async with httpx.AsyncClient(headers=ADMIN) as client:
            response = await client.get(f"{self.stack.urls['payments']}/api/payments/{reference}")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def log(self, name: str) -> str:
        return self.stack.processes[name].log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def payments_database(database_url: str) -> Iterator[str]:
    """A database of this module's own, so no other test's pending payments get polled."""
    base = make_url(database_url)
    name = f"{base.database}_payments_e2e"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def payments_stack(
    rabbitmq_url: str, payments_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    names = ("sandbox", "gateway", "payments")
    ports = {name: free_port() for name in (*names, "conversation", "notifier")}
    env = base_env(ports)
    env = {k: v for k, v in env.items() if not k.startswith("PAYSTACK_")}
    env.update(
        RABBITMQ_URL=rabbitmq_url,
        DATABASE_URL=payments_database,
        RECONCILE_AFTER_SECONDS=str(RECONCILE_AFTER),
        RECONCILE_INTERVAL_SECONDS="0.5",
        PAYSTACK_RETRY_WAIT_SECONDS="0.05",
    )
    log_dir = tmp_path_factory.mktemp("payments-logs")
    stack = Stack({name: f"http://127.0.0.1:{ports[name]}" for name in names})
    for name in names:
        process = Process(name, name, {**env, "PORT": str(ports[name])}, log_dir)
        stack.processes[name] = process
        process.start()
    try:
        for name, process in stack.processes.items():
            wait_healthy(stack.urls[name], process)
        yield stack
    finally:
        for process in stack.processes.values():
            process.stop()


@pytest.fixture(scope="module")
async def world(payments_stack: Stack, rabbitmq_url: str) -> AsyncIterator[Payments]:
    broker = RabbitBroker(rabbitmq_url, service="e2e-conversation")
    await broker.connect()
    connection = await aio_pika.connect_robust(rabbitmq_url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(
        "tutordesk", aio_pika.ExchangeType.TOPIC, durable=True
    )
    queue = await channel.declare_queue(f"e2e-payments-spy-{uuid.uuid4().hex[:8]}", exclusive=True)
    for key in ("payment.link.created", "payment.succeeded", "payment.failed", "subscription.#"):
        await queue.bind(exchange, routing_key=key)
    world = Payments(payments_stack, rabbitmq_url, broker)

    async def record(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        world.raw.append(message.body)
        await message.ack()

    await queue.consume(record)
    yield world
    await connection.close()
    await broker.close()


async def test_order_link_paid_on_the_checkout_page_becomes_payment_succeeded(
    world: Payments,
) -> None:
    link = await world.request(
        purpose=PaymentPurpose.ORDER,
        order_id=uuid.uuid4(),
        order_reference="ORD-E2E00001",
        amount_minor=5_000_050,
        currency="NGN",
    )
    reference = link.payment.reference
    assert link.checkout_url.startswith(world.stack.urls["sandbox"] + "/paystack/checkout/")

    async with httpx.AsyncClient() as browser:
        page = await browser.get(link.checkout_url)
        assert "NGN 50,000.50" in page.text
        action = re.search(r'action="(/paystack/checkout/[^"]+/pay)"', page.text)
        assert action is not None
        paid = await browser.post(world.stack.urls["sandbox"] + action.group(1))
    assert "Payment successful." in paid.text
    await eventually(lambda: world.events(PaymentSucceeded, reference), within=10,
                     what="payment succeeded")  # fmt: skip

    [succeeded] = world.events(PaymentSucceeded, reference)
    assert succeeded.payment == link.payment
    assert (succeeded.payment.order_reference, succeeded.payment.amount_minor) == (
        "ORD-E2E00001",
        5_000_050,
    )
    detail = await world.payment(reference)
    assert (detail["status"], detail["settled_by"]) == ("succeeded", "webhook")


async def test_plan_link_paid_starts_a_subscription_ending_after_the_plans_days(
    world: Payments,
) -> None:
    link = await world.request(purpose=PaymentPurpose.PLAN, plan_code="monthly")
    phone = link.payment.phone_number
    assert (link.payment.amount_minor, link.payment.currency) == (500_000, "NGN")
    before = datetime.now(UTC)
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{world.stack.sandbox}/sandbox/paystack/transactions/{link.payment.reference}/pay"
        )
    assert response.json()["webhook_status"] == 200

    def started() -> list[SubscriptionStarted]:
        return [
            e for e in world.events(SubscriptionStarted) if e.subscription.phone_number == phone
        ]

    await eventually(lambda: bool(started()), within=10, what="subscription started")
    after = datetime.now(UTC)
    [event] = started()
    subscription = event.subscription
    assert (subscription.plan_code, subscription.status) == ("monthly", "active")
    assert before <= subscription.starts_at <= after
    assert subscription.ends_at - subscription.starts_at == timedelta(days=30)
    assert world.events(PaymentSucceeded, link.payment.reference)


async def test_declined_payment_is_reported_failed(world: Payments) -> None:
    link = await world.request(purpose=PaymentPurpose.ORDER, amount_minor=150_000, currency="NGN")
    async with httpx.AsyncClient() as browser:
        page = await browser.get(link.checkout_url)
        action = re.search(r'action="(/paystack/checkout/[^"]+/decline)"', page.text)
        assert action is not None
        declined = await browser.post(world.stack.urls["sandbox"] + action.group(1))
    assert "Payment declined." in declined.text

    await eventually(
        lambda: world.events(PaymentFailed, link.payment.reference),
        within=RECONCILE_AFTER + 10,
        what="payment failed",
    )
    [failed] = world.events(PaymentFailed, link.payment.reference)
    assert failed.reason == "declined"
    assert world.events(PaymentSucceeded, link.payment.reference) == []


async def test_bad_replayed_wrong_amount_and_unknown_webhooks_change_nothing_and_are_logged(
    world: Payments,
) -> None:
    sandbox, gateway = world.stack.sandbox, world.stack.gateway
    paid_link = await world.request(purpose=PaymentPurpose.ORDER, amount_minor=300_000,
                                    currency="NGN")  # fmt: skip
    short_link = await world.request(purpose=PaymentPurpose.ORDER, amount_minor=400_000,
                                     currency="NGN")  # fmt: skip
    async with httpx.AsyncClient() as client:
        await client.post(
            f"{sandbox}/sandbox/paystack/transactions/{paid_link.payment.reference}/pay"
        )
        await eventually(lambda: world.events(PaymentSucceeded, paid_link.payment.reference),
                         what="first payment succeeded")  # fmt: skip

        # A replay of the same charge.success, correctly signed.
        replay = await client.post(
            f"{sandbox}/sandbox/paystack/transactions/{paid_link.payment.reference}/webhook"
        )
        # A bad signature over a body that would otherwise count.
        forged = json.dumps(
            {"event": "charge.success",
             "data": {"reference": short_link.payment.reference, "amount": 400_000,
                      "currency": "NGN", "status": "success"}}
        ).encode()  # fmt: skip
        bad = await client.post(
            f"{gateway}/api/webhook/paystack",
            content=forged,
            headers={"x-paystack-signature": paystack_signature("sk_test_wrong", forged)},
        )
        # A charge of another amount than asked for (a genuine, signed webhook).
        short = await client.post(
            f"{sandbox}/sandbox/paystack/transactions/{short_link.payment.reference}/pay",
            json={"amount": 4_000},
        )
        # A correctly signed event for a reference nobody made.
        unknown = json.dumps(
            {"event": "charge.success",
             "data": {"reference": "PAY-NOBODYMADEIT", "amount": 100, "currency": "NGN"}}
        ).encode()  # fmt: skip
        unknown_response = await client.post(
            f"{gateway}/api/webhook/paystack",
            content=unknown,
            headers={
                "x-paystack-signature": paystack_signature(
                    sandbox_defaults.PAYSTACK_SECRET_KEY, unknown
                )
            },
        )
    assert replay.json()["webhook_status"] == 200
    assert bad.status_code == 401
    assert short.json()["webhook_status"] == 200
    assert unknown_response.status_code == 200

    def logged(name: str, event: str) -> bool:
        return f'"event": "{event}"' in world.log(name)

    await eventually(lambda: logged("payments", "paystack.unknown_reference"), what="unknown")
    await eventually(lambda: logged("payments", "paystack.webhook_amount_mismatch"), what="amt")
    await eventually(lambda: logged("payments", "paystack.event_for_settled_payment"), what="re")
    assert logged("gateway", "webhook.bad_signature")
    # Past the reconciliation time: polling sees the short charge too and still refuses it.
    await eventually(
        lambda: logged("payments", "payment.verification_mismatch"),
        within=RECONCILE_AFTER + 10,
        what="mismatch on polling",
    )
    assert len(world.events(PaymentSucceeded, paid_link.payment.reference)) == 1
    assert world.events(PaymentSucceeded, short_link.payment.reference) == []
    assert world.events(PaymentFailed, short_link.payment.reference) == []
    short_payment = await world.payment(short_link.payment.reference)
    assert (short_payment["status"], short_payment["paid_at"]) == ("pending", None)
    assert "PAY-NOBODYMADEIT" not in {e.payment.reference for e in world.events(PaymentSucceeded)}


async def test_with_the_webhook_dropped_reconciliation_still_completes_the_payment(
    world: Payments,
) -> None:
    link = await world.request(purpose=PaymentPurpose.ORDER, amount_minor=1_234_567,
                               currency="NGN")  # fmt: skip
    reference = link.payment.reference
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{world.stack.sandbox}/sandbox/paystack/transactions/{reference}/pay",
            json={"send_webhook": False},
        )
    assert response.json()["webhook_status"] is None
    await asyncio.sleep(0.5)
    assert world.events(PaymentSucceeded, reference) == []

    await eventually(
        lambda: world.events(PaymentSucceeded, reference),
        within=RECONCILE_AFTER + 10,
        what="payment succeeded by reconciliation",
    )
    detail = await world.payment(reference)
    assert (detail["status"], detail["settled_by"], detail["amount_minor"]) == (
        "succeeded",
        "reconciliation",
        1_234_567,
    )


async def test_amounts_travel_as_exact_integers_never_floats(world: Payments) -> None:
    assert world.events(PaymentSucceeded), "the scenarios above must have run"
    for body in world.raw:
        document = json.loads(body, parse_float=lambda text: pytest.fail(f"a float: {text}"))
        payment = document["payload"].get("payment")
        if payment is not None:
            assert type(payment["amount_minor"]) is int
