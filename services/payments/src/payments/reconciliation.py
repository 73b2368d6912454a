"""Background work that keeps money and time right without any webhook: pending payments
are verified by polling, subscriptions expire at their end, reminders go out before it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from payments import metrics
from payments.handlers import PaymentsHandler, aware, subscription_facts
from payments.models import Payment, Subscription
from payments.paystack_client import (
    PaystackClient,
    PaystackUnavailableError,
    TransactionNotFoundError,
)
from payments.settings import PaymentsSettings
from payments.subscription_terms import has_ended, renewal_days_left
from shared.events import Envelope, Event, SubscriptionExpired, SubscriptionRenewalDue
from shared.messaging import BrokerUnavailableError
from shared.messaging.outbox import Outbox

log = logging.getLogger(__name__)

_EVENT_NAMESPACE = uuid.UUID("1f0b6a5e-9c2d-4b7e-8a31-5d6c7e8f9a02")


class Reconciler:
    def __init__(
        self,
        settings: PaymentsSettings,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        handler: PaymentsHandler,
        paystack: PaystackClient,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.outbox = outbox
        self.handler = handler
        self.paystack = paystack
        self.clock = clock

    async def run_payments(self, stop: asyncio.Event) -> None:
        await self._every(self.settings.reconcile_interval_seconds, self.reconcile_once, stop)

    async def run_subscriptions(self, stop: asyncio.Event) -> None:
        await self._every(
            self.settings.subscription_check_interval_seconds, self.check_subscriptions, stop
        )

    @staticmethod
    async def _every(
        seconds: float, work: Callable[[], Awaitable[object]], stop: asyncio.Event
    ) -> None:
        while not stop.is_set():
            try:
                await work()
            except BrokerUnavailableError:
                log.warning("reconciliation.waiting_for_broker")
            except Exception:
                log.exception(
                    "reconciliation.failed", extra={"work": getattr(work, "__name__", "")}
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), seconds)

    async def reconcile_once(self) -> Counter[str]:
        """Verify the pending payments old enough to have had their webhook by now."""
        now = self.clock()
        due = now - timedelta(seconds=self.settings.reconcile_after_seconds)
        recheck = now - timedelta(seconds=self.settings.reconcile_interval_seconds)
        async with self.sessions() as session:
            references = list(
                await session.scalars(
                    select(Payment.reference)
                    .where(
                        Payment.status == "pending",
                        Payment.created_at <= due,
                        or_(Payment.last_checked_at.is_(None), Payment.last_checked_at <= recheck),
                    )
                    .order_by(Payment.last_checked_at.nulls_first(), Payment.created_at)
                    .limit(self.settings.reconcile_batch_size)
                )
            )
            unstarted = list(
                await session.scalars(
                    select(Payment.id)
                    .where(
                        Payment.status == "created",
                        Payment.created_at <= due,
                        Payment.updated_at <= recheck,
                    )
                    .order_by(Payment.updated_at)
                    .limit(self.settings.reconcile_batch_size)
                )
            )
        outcomes: Counter[str] = Counter()
        for payment_id in unstarted:
            outcome = await self._restart(payment_id)
            outcomes[outcome] += 1
            metrics.RECONCILIATIONS.labels(outcome).inc()
        for reference in references:
            outcome = await self._reconcile(reference)
            outcomes[outcome] += 1
            metrics.RECONCILIATIONS.labels(outcome).inc()
        if outcomes:
            log.info("reconciliation.done", extra={"outcomes": dict(outcomes)})
        return outcomes

    async def _restart(self, payment_id: uuid.UUID) -> str:
        """A payment whose checkout never opened (Paystack was down through every retry)."""
        try:
            payment = await self.handler.open_checkout(payment_id)
        except PaystackUnavailableError:
            return "checkout_error"
        return "checkout_opened" if payment.status == "pending" else "checkout_refused"

    async def _reconcile(self, reference: str) -> str:
        try:
            verified = await self.paystack.verify(reference)
        except TransactionNotFoundError:
            await self._touch(reference)
            log.error("reconciliation.not_found_at_paystack", extra={"reference": reference})
            return "not_found"
        except PaystackUnavailableError:
            await self._touch(reference)
            return "error"
        verdict = await self.handler.settle(reference, verified, source="reconciliation")
        return verdict.outcome.value

    async def _touch(self, reference: str) -> None:
        async with self.sessions() as session, session.begin():
            payment = await session.scalar(select(Payment).where(Payment.reference == reference))
            if payment is not None:
                payment.last_checked_at = self.clock()
                payment.checks += 1

    async def check_subscriptions(self) -> None:
        """Expire subscriptions past their end; remind those ending within the set days."""
        now = self.clock()
        horizon = now + timedelta(days=self.settings.renewal_reminder_days)
        ids: list[uuid.UUID] = []
        async with self.sessions() as session, session.begin():
            rows = await session.scalars(
                select(Subscription)
                .where(Subscription.status == "active", Subscription.ends_at <= horizon)
                .order_by(Subscription.ends_at)
                .limit(500)
                .with_for_update(skip_locked=True)
            )
            for subscription in rows:
                ends_at = aware(subscription.ends_at)
                if has_ended(ends_at, now):
                    subscription.status, subscription.updated_at = "expired", now
                    metrics.SUBSCRIPTION_EVENTS.labels("expired").inc()
                    event: Event = SubscriptionExpired(
                        subscription=subscription_facts(subscription)
                    )
                    ids.append(await self._add(session, subscription, event, f"expired:{ends_at}"))
                    log.info("subscription.expired", extra={"plan_code": subscription.plan_code})
                    continue
                reminded = (
                    aware(subscription.reminded_for_end) if subscription.reminded_for_end else None
                )
                days_left = renewal_days_left(
                    ends_at, reminded, now, self.settings.renewal_reminder_days
                )
                if days_left is None:
                    continue
                subscription.reminded_for_end, subscription.updated_at = ends_at, now
                metrics.SUBSCRIPTION_EVENTS.labels("renewal_due").inc()
                due = SubscriptionRenewalDue(
                    subscription=subscription_facts(subscription), days_left=days_left
                )
                ids.append(await self._add(session, subscription, due, f"due:{ends_at}"))
                log.info("subscription.renewal_due", extra={"days_left": days_left})
            active = await session.scalar(
                select(func.count())
                .select_from(Subscription)
                .where(Subscription.status == "active")
            )
        metrics.ACTIVE_SUBSCRIPTIONS.set(active or 0)
        if ids:
            try:
                await self.outbox.flush(ids)
            except BrokerUnavailableError:
                log.warning("outbox.flush_deferred_to_relay", extra={"events": len(ids)})

    async def _add(
        self, session: AsyncSession, subscription: Subscription, event: Event, what: str
    ) -> uuid.UUID:
        envelope = Envelope.wrap(
            event,
            key=subscription.phone_number,
            id=uuid.uuid5(_EVENT_NAMESPACE, f"{subscription.id}:{what}"),
        )
        return await self.outbox.add(session, envelope)
