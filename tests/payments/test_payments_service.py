"""The payments service on PostgreSQL, with the real gateway and the Paystack sandbox on
real sockets: checkout links, verified webhooks, refusals that change nothing,
reconciliation by polling, and subscriptions that start, extend, remind and expire."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from payments.models import Payment, Subscription
from payments.reconciliation import Reconciler
from shared import sandbox_defaults
from shared.events import (
    PaymentFailed,
    PaymentLinkCreated,
    PaymentPurpose,
    PaymentSucceeded,
    SubscriptionExpired,
    SubscriptionExtended,
    SubscriptionRenewalDue,
    SubscriptionStarted,
)
from shared.paystack_signature import paystack_signature
from shared.testing import eventually, running_app

from .conftest import World


async def payment_row(world: World, reference: str) -> Payment:
    async with world.service.sessions() as session:
        row = await session.scalar(select(Payment).where(Payment.reference == reference))
    assert row is not None
    return row


async def pay(world: World, reference: str, **options: object) -> dict[str, object]:
    response = await world.sandbox.http.post(
        f"/sandbox/paystack/transactions/{reference}/pay", json=options or None
    )
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


async def settled(world: World, seconds: float = 0.5) -> None:
    """Long enough for anything a handler would still do to have happened."""
    import asyncio

    await asyncio.sleep(seconds)


async def test_order_request_gets_one_checkout_link_even_when_repeated(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    request_id = uuid.uuid4()
    link = await world.request(request_id=request_id, amount_minor=5_000_000)
    await world.request(phone=link.payment.phone_number, request_id=request_id)
    await settled(world)

    assert len([e for e in world.of(PaymentLinkCreated) if e.payment.request_id == request_id]) == 1
    facts = link.payment
    assert (facts.purpose, facts.amount_minor, facts.currency) == ("order", 5_000_000, "NGN")
    assert link.checkout_url.startswith(world.sandbox.url + "/paystack/checkout/")
    row = await payment_row(world, facts.reference)
    assert (row.status, row.amount_minor, row.checkout_url) == (
        "pending",
        5_000_000,
        link.checkout_url,
    )
    digits = facts.phone_number.lstrip("+")
    assert row.email == f"{digits}@students.example.com"
    transaction = (
        await world.sandbox.http.get(f"/sandbox/paystack/transactions/{facts.reference}")
    ).json()
    assert (transaction["amount"], transaction["currency"]) == (5_000_000, "NGN")
    # The placeholder email is never logged.
    assert all(row.email not in json.dumps(r.__dict__, default=str) for r in caplog.records)
    [envelope] = [e for e in world.events if e.payload == link]
    assert envelope.key == facts.phone_number


async def test_paid_checkout_is_verified_and_succeeds_once_even_when_replayed(
    world: World,
) -> None:
    link = await world.request(amount_minor=1_234_567)
    reference = link.payment.reference

    paid = await pay(world, reference)
    await eventually(lambda: world.of(PaymentSucceeded, reference), what="payment succeeded")
    replay = await world.sandbox.http.post(f"/sandbox/paystack/transactions/{reference}/webhook")
    await settled(world)

    assert paid["webhook_status"] == 200 and replay.json()["webhook_status"] == 200
    [succeeded] = world.of(PaymentSucceeded, reference)
    assert succeeded.payment == link.payment
    assert succeeded.payment.amount_minor == 1_234_567
    row = await payment_row(world, reference)
    assert (row.status, row.settled_by, row.checks) == ("succeeded", "webhook", 1)
    assert row.paid_at is not None


async def test_plan_payment_starts_then_a_second_extends_from_the_current_end(
    world: World,
) -> None:
    first = await world.request(purpose=PaymentPurpose.PLAN, plan_code="starter")
    phone = first.payment.phone_number
    assert (first.payment.amount_minor, first.payment.currency) == (200_000, "NGN")
    before = datetime.now(UTC)
    await pay(world, first.payment.reference)
    await eventually(lambda: world.of(SubscriptionStarted), what="subscription started")
    [started] = [e for e in world.of(SubscriptionStarted) if e.subscription.phone_number == phone]
    after = datetime.now(UTC)

    second = await world.request(phone=phone, purpose=PaymentPurpose.PLAN, plan_code="monthly")
    await pay(world, second.payment.reference)
    await eventually(lambda: world.of(SubscriptionExtended), what="subscription extended")
    [extended] = [e for e in world.of(SubscriptionExtended) if e.subscription.phone_number == phone]

    sub = started.subscription
    assert (sub.plan_code, sub.status, sub.homework_credits) == ("starter", "active", 10)
    assert before <= sub.starts_at <= after
    assert sub.ends_at - sub.starts_at == timedelta(days=30)
    ext = extended.subscription
    assert ext.subscription_id == sub.subscription_id
    assert (ext.plan_code, ext.homework_credits) == ("monthly", None)
    assert ext.ends_at == sub.ends_at + timedelta(days=30)


async def test_decline_is_found_by_polling_and_reported_as_failed(world: World) -> None:
    link = await world.request()
    reference = link.payment.reference
    response = await world.sandbox.http.post(f"/sandbox/paystack/transactions/{reference}/decline")
    assert response.status_code == 200

    await world.service.reconciler.reconcile_once()
    await eventually(lambda: world.of(PaymentFailed, reference), what="payment failed")

    [failed] = world.of(PaymentFailed, reference)
    assert failed.reason == "declined"
    row = await payment_row(world, reference)
    assert (row.status, row.failure_reason, row.settled_by) == (
        "failed",
        "declined",
        "reconciliation",
    )


async def test_webhook_dropped_is_completed_by_reconciliation(world: World) -> None:
    link = await world.request(amount_minor=777_700)
    reference = link.payment.reference
    paid = await pay(world, reference, send_webhook=False)
    await settled(world, 0.3)
    assert paid["webhook_status"] is None
    assert world.of(PaymentSucceeded, reference) == []

    outcomes = await world.service.reconciler.reconcile_once()
    await eventually(lambda: world.of(PaymentSucceeded, reference), what="payment succeeded")

    assert outcomes["paid"] >= 1
    row = await payment_row(world, reference)
    assert (row.status, row.settled_by) == ("succeeded", "reconciliation")


async def test_charge_of_another_amount_changes_nothing_and_is_logged(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    link = await world.request(amount_minor=500_000)
    reference = link.payment.reference

    paid = await pay(world, reference, amount=5_000)
    await settled(world)
    await world.service.reconciler.reconcile_once()
    await settled(world, 0.2)

    assert paid["webhook_status"] == 200
    assert world.of(PaymentSucceeded, reference) == []
    assert world.of(PaymentFailed, reference) == []
    row = await payment_row(world, reference)
    assert (row.status, row.paid_at) == ("pending", None)
    logged = {r.getMessage() for r in caplog.records if getattr(r, "reference", "") == reference}
    assert {"paystack.webhook_amount_mismatch", "payment.verification_mismatch"} <= logged


async def test_signed_webhook_for_an_unknown_reference_changes_nothing_and_is_logged(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps(
        {
            "event": "charge.success",
            "data": {
                "reference": "PAY-UNKNOWN0001",
                "amount": 500000,
                "currency": "NGN",
                "status": "success",
            },
        }
    ).encode()
    signature = paystack_signature(sandbox_defaults.PAYSTACK_SECRET_KEY, body)
    before = len(world.events)
    async with httpx.AsyncClient() as client:
        response = await client.post(
            world.gateway_url + "/api/webhook/paystack",
            content=body,
            headers={"x-paystack-signature": signature},
        )
    assert response.status_code == 200
    await eventually(
        lambda: any(r.getMessage() == "paystack.unknown_reference" for r in caplog.records),
        what="unknown reference logged",
    )
    await settled(world, 0.3)
    assert world.events[before:] == []
    async with world.service.sessions() as session:
        assert (
            await session.scalar(select(Payment).where(Payment.reference == "PAY-UNKNOWN0001"))
            is None
        )


async def test_unknown_plan_is_reported_failed_without_asking_paystack(world: World) -> None:
    phone = "+2348000000555"
    request_id = uuid.uuid4()
    from shared.events import Envelope, PaymentRequested

    count = (await world.sandbox.http.get("/sandbox/paystack/transactions")).json()[
        "initialize_requests"
    ]
    await world.broker.publish(
        Envelope.wrap(
            PaymentRequested(
                request_id=request_id,
                purpose=PaymentPurpose.PLAN,
                phone_number=phone,
                plan_code="lifetime-gold",
            ),
            key=phone,
        )
    )
    await eventually(
        lambda: any(f.payment.request_id == request_id for f in world.of(PaymentFailed)),
        what="payment failed",
    )
    [failed] = [f for f in world.of(PaymentFailed) if f.payment.request_id == request_id]
    assert failed.reason == "could not start"
    assert (await payment_row(world, failed.payment.reference)).failure_reason == "unknown plan"
    after = (await world.sandbox.http.get("/sandbox/paystack/transactions")).json()
    assert after["initialize_requests"] == count


async def test_paystack_outage_is_retried_until_the_link_is_made(world: World) -> None:
    # Four attempts per handling: the first handling meets only faults, the second succeeds.
    await world.sandbox.http.post("/sandbox/paystack/faults", json={"status": 503, "count": 5})
    link = await world.request(amount_minor=42_00)
    assert link.payment.amount_minor == 4200
    assert (await payment_row(world, link.payment.reference)).status == "pending"
    async with running_app(world.service.app) as url, httpx.AsyncClient() as client:
        metrics = (await client.get(url + "/metrics")).text
    assert 'tutordesk_payments_paystack_errors_total{kind="retried",operation="initialize"}' in (
        metrics
    )
    assert (
        'tutordesk_payments_paystack_errors_total{kind="unavailable",operation="initialize"}'
        in (metrics)
    )


async def test_subscriptions_expire_after_their_end_and_are_reminded_once_before(
    world: World,
) -> None:
    link = await world.request(purpose=PaymentPurpose.PLAN, plan_code="monthly")
    phone = link.payment.phone_number
    await pay(world, link.payment.reference)
    await eventually(
        lambda: any(e.subscription.phone_number == phone for e in world.of(SubscriptionStarted)),
        what="subscription started",
    )
    async with world.service.sessions() as session:
        sub = await session.scalar(select(Subscription).where(Subscription.phone_number == phone))
    assert sub is not None
    ends_at = sub.ends_at

    def at(moment: datetime) -> Reconciler:
        service = world.service
        return Reconciler(
            service.settings, service.sessions, service.outbox, service.handler,
            service.paystack, clock=lambda: moment,
        )  # fmt: skip

    def mine(kind: type) -> list:  # type: ignore[type-arg]
        return [e for e in world.of(kind) if e.subscription.phone_number == phone]

    await at(ends_at - timedelta(days=5)).check_subscriptions()
    await at(ends_at - timedelta(days=2, hours=12)).check_subscriptions()
    await at(ends_at - timedelta(days=1)).check_subscriptions()
    await eventually(lambda: mine(SubscriptionRenewalDue), what="reminder")
    await at(ends_at + timedelta(seconds=1)).check_subscriptions()
    await eventually(lambda: mine(SubscriptionExpired), what="expired")
    await at(ends_at + timedelta(days=1)).check_subscriptions()
    await settled(world, 0.3)

    [due] = mine(SubscriptionRenewalDue)
    assert due.days_left == 3
    [expired] = mine(SubscriptionExpired)
    assert (expired.subscription.status, expired.subscription.ends_at) == ("expired", ends_at)


async def test_checkout_that_never_opened_is_opened_by_reconciliation(world: World) -> None:
    from payments.paystack_client import PaystackUnavailableError
    from shared.events import PaymentRequested

    request = PaymentRequested(
        request_id=uuid.uuid4(),
        purpose=PaymentPurpose.ORDER,
        phone_number="+2348000000777",
        amount_minor=99_900,
        currency="NGN",
    )
    # More faults than one handling's attempts: the request is left without a checkout.
    await world.sandbox.http.post("/sandbox/paystack/faults", json={"status": 502, "count": 4})
    with pytest.raises(PaystackUnavailableError):
        await world.service.handler.request_payment(request)
    async with world.service.sessions() as session:
        row = await session.scalar(select(Payment).where(Payment.request_id == request.request_id))
    assert row is not None and row.status == "created"

    service = world.service
    later = datetime.now(UTC) + timedelta(hours=2)
    reconciler = Reconciler(
        service.settings, service.sessions, service.outbox, service.handler, service.paystack,
        clock=lambda: later,
    )  # fmt: skip
    outcomes = await reconciler.reconcile_once()

    def links() -> list[PaymentLinkCreated]:
        found = world.of(PaymentLinkCreated)
        return [e for e in found if e.payment.request_id == request.request_id]

    await eventually(lambda: bool(links()), what="link after restart")

    assert outcomes["checkout_opened"] == 1
    [link] = links()
    assert link.payment.reference != row.reference
    assert (link.payment.amount_minor, link.payment.currency) == (99_900, "NGN")
    assert (await payment_row(world, link.payment.reference)).status == "pending"
