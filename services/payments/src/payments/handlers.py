"""What the payments service does: open a checkout for a request, and settle a payment
from what Paystack's verify endpoint says. Each state change and the events it causes
commit in one transaction (transactional outbox)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from payments import metrics
from payments.models import Payment, Plan, Subscription
from payments.paystack_client import (
    PaystackClient,
    PaystackRefusedError,
    TransactionNotFoundError,
)
from payments.references import new_payment_reference, placeholder_email
from payments.settings import PaymentsSettings
from payments.subscription_terms import PlanTerms, Term, after_payment
from payments.verification import Outcome, Verdict, VerifiedTransaction, judge
from shared import metrics as shared_metrics
from shared.events import (
    Envelope,
    Event,
    PaymentFacts,
    PaymentFailed,
    PaymentLinkCreated,
    PaymentPurpose,
    PaymentRequested,
    PaymentSucceeded,
    PaystackEventReceived,
    SubscriptionExtended,
    SubscriptionFacts,
    SubscriptionStarted,
)
from shared.messaging import BrokerUnavailableError
from shared.messaging.outbox import Outbox

log = logging.getLogger(__name__)

Source = Literal["webhook", "reconciliation", "manual"]
# Event ids derive from the payment and what happened to it, so the same change can
# never be published under two ids.
_EVENT_NAMESPACE = uuid.UUID("b5c0e7a2-61f4-4d0e-9a53-0f3d2c8e7b14")
FINAL = frozenset({"succeeded", "failed"})


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything here is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def payment_facts(payment: Payment) -> PaymentFacts:
    return PaymentFacts(
        request_id=payment.request_id,
        reference=payment.reference,
        purpose=PaymentPurpose(payment.purpose),
        phone_number=payment.phone_number,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        order_id=payment.order_id,
        order_reference=payment.order_reference,
        plan_code=payment.plan_code,
    )


def subscription_facts(subscription: Subscription) -> SubscriptionFacts:
    return SubscriptionFacts(
        subscription_id=subscription.id,
        phone_number=subscription.phone_number,
        plan_code=subscription.plan_code,
        plan_name=subscription.plan_name,
        status=subscription.status,
        starts_at=aware(subscription.starts_at),
        ends_at=aware(subscription.ends_at),
        homework_credits=subscription.homework_credits,
    )


class PaymentsHandler:
    def __init__(
        self,
        settings: PaymentsSettings,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        paystack: PaystackClient,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.outbox = outbox
        self.paystack = paystack
        self.clock = clock
        self.abandon_after = timedelta(seconds=settings.abandon_after_seconds)

    async def __call__(self, envelope: Envelope[Event]) -> None:
        """The consumer: payment requests from the conversation, Paystack events from the
        gateway."""
        event = envelope.payload
        if isinstance(event, PaymentRequested):
            await self.request_payment(event, trace_id=envelope.trace_id)
        elif isinstance(event, PaystackEventReceived):
            await self.take_paystack_event(event, trace_id=envelope.trace_id)

    # --- a checkout for a request -----------------------------------------------------

    async def request_payment(
        self, request: PaymentRequested, *, trace_id: str | None = None
    ) -> Payment:
        """Record the payment (once per request_id), ask Paystack for a checkout, emit
        the link. Raises PaystackUnavailableError for the caller to retry later."""
        async with self.sessions() as session, session.begin():
            payment, failure = await self._record(session, request)
            if payment.status != "created":
                if failure is None:
                    shared_metrics.DUPLICATES_DROPPED.labels("payments", "payments").inc()
                    log.info("payment.request_repeated", extra={"reference": payment.reference})
                    return payment
                # The event says what the student can act on; the row keeps the detail.
                ids = [
                    await self._emit(session, payment, PaymentFailed, "could not start", trace_id)
                ]
        if payment.status != "created":
            await self._flush(ids)
            return payment
        return await self.open_checkout(payment.id, trace_id=trace_id)

    async def open_checkout(self, payment_id: uuid.UUID, *, trace_id: str | None = None) -> Payment:
        """Ask Paystack for the checkout of a payment not yet sent anywhere, and emit its
        link. Also how reconciliation finishes one whose first attempts all failed."""
        async with self.sessions() as session, session.begin():
            payment = await session.get(Payment, payment_id, with_for_update=True)
            assert payment is not None
            if payment.status != "created":
                return payment
            # Never sent to anyone yet: a fresh reference, so a retry after a lost
            # answer cannot collide with a transaction Paystack already made.
            payment.reference, payment.updated_at = new_payment_reference(), self.clock()
        try:
            checkout = await self.paystack.initialize(
                email=payment.email,
                amount_minor=payment.amount_minor,
                currency=payment.currency,
                reference=payment.reference,
                callback_url=self.settings.paystack_callback_url,
                metadata={"purpose": payment.purpose, "payment_id": str(payment.id)},
            )
        except PaystackRefusedError:
            return await self._fail(payment.id, "could not start", trace_id)
        async with self.sessions() as session, session.begin():
            row = await session.get(Payment, payment.id, with_for_update=True)
            assert row is not None
            if row.status != "created":
                return row
            row.status, row.updated_at = "pending", self.clock()
            row.checkout_url, row.access_code = checkout.authorization_url, checkout.access_code
            metrics.PAYMENTS.labels("pending").inc()
            link = PaymentLinkCreated(
                payment=payment_facts(row), checkout_url=checkout.authorization_url
            )
            ids = [await self._add(session, link, row, "link", trace_id)]
        await self._flush(ids)
        log.info(
            "payment.link_created",
            extra={"reference": row.reference, "purpose": row.purpose, "amount": row.amount_minor},
        )
        return row

    async def _record(
        self, session: AsyncSession, request: PaymentRequested
    ) -> tuple[Payment, str | None]:
        """The payment for this request, inserted if new; with a reason if it cannot be
        started at all (an unknown plan, an order without an amount)."""
        existing = await session.scalar(
            select(Payment).where(Payment.request_id == request.request_id).with_for_update()
        )
        if existing is not None:
            return existing, None
        now = self.clock()
        amount, currency, failure = await self._price(session, request)
        values = {
            "id": uuid.uuid4(),
            "reference": new_payment_reference(),
            "request_id": request.request_id,
            "purpose": request.purpose.value,
            "phone_number": request.phone_number,
            "email": request.email
            or placeholder_email(
                request.phone_number, self.settings.paystack_placeholder_email_domain
            ),
            "amount_minor": amount,
            "currency": currency,
            "status": "failed" if failure else "created",
            "failure_reason": failure,
            "order_id": request.order_id,
            "order_reference": request.order_reference,
            "plan_code": request.plan_code,
            "checks": 0,
            "created_at": now,
            "updated_at": now,
        }
        insert = (
            postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        )
        # Two replicas holding the same request: one row, whoever commits first.
        await session.execute(
            insert(Payment).values(**values).on_conflict_do_nothing(index_elements=["request_id"])
        )
        payment = await session.scalar(
            select(Payment)
            .where(Payment.request_id == request.request_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert payment is not None
        if payment.id != values["id"]:
            return payment, None
        if failure:
            metrics.PAYMENTS.labels("failed").inc()
            log.warning(
                "payment.cannot_start", extra={"reference": payment.reference, "reason": failure}
            )
        return payment, failure

    async def _price(
        self, session: AsyncSession, request: PaymentRequested
    ) -> tuple[int, str, str | None]:
        if request.purpose is PaymentPurpose.PLAN:
            plan = await session.get(Plan, request.plan_code) if request.plan_code else None
            if plan is None or not plan.active:
                return 0, "NGN", "unknown plan"
            return plan.price_minor, plan.currency, None
        if request.amount_minor is None or request.amount_minor <= 0 or not request.currency:
            return request.amount_minor or 0, request.currency or "NGN", "invalid amount"
        return request.amount_minor, request.currency.upper(), None

    async def _fail(self, payment_id: uuid.UUID, reason: str, trace_id: str | None) -> Payment:
        async with self.sessions() as session, session.begin():
            row = await session.get(Payment, payment_id, with_for_update=True)
            assert row is not None
            if row.status != "created":
                return row
            row.status, row.failure_reason, row.updated_at = "failed", reason, self.clock()
            metrics.PAYMENTS.labels("failed").inc()
            ids = [await self._emit(session, row, PaymentFailed, reason, trace_id)]
        await self._flush(ids)
        log.warning("payment.cannot_start", extra={"reference": row.reference, "reason": reason})
        return row

    # --- Paystack's word on a payment -------------------------------------------------

    async def take_paystack_event(
        self, event: PaystackEventReceived, *, trace_id: str | None = None
    ) -> None:
        """A signed webhook is still only a hint: verify with Paystack before counting."""
        if event.event != "charge.success":
            log.info("paystack.event_ignored", extra={"paystack_event": event.event[:40]})
            return
        reference = event.reference
        if not reference:
            metrics.VERIFICATION_FAILURES.labels("no_reference").inc()
            log.warning("paystack.event_without_reference")
            return
        async with self.sessions() as session:
            payment = await session.scalar(select(Payment).where(Payment.reference == reference))
        if payment is None:
            metrics.VERIFICATION_FAILURES.labels("unknown_reference").inc()
            log.warning("paystack.unknown_reference", extra={"reference": reference})
            return
        if payment.status in FINAL:
            metrics.VERIFICATION_FAILURES.labels("already_settled").inc()
            log.info(
                "paystack.event_for_settled_payment",
                extra={"reference": reference, "status": payment.status},
            )
            return
        claimed = event.data.get("amount")
        if claimed != payment.amount_minor or event.data.get("currency") != payment.currency:
            metrics.VERIFICATION_FAILURES.labels("amount_mismatch").inc()
            log.error(
                "paystack.webhook_amount_mismatch",
                extra={
                    "reference": reference,
                    "expected": payment.amount_minor,
                    "claimed": claimed if isinstance(claimed, int) else None,
                },
            )
            return
        try:
            verified = await self.paystack.verify(reference)
        except TransactionNotFoundError:
            metrics.VERIFICATION_FAILURES.labels("not_found_at_paystack").inc()
            log.error("paystack.reference_not_found_on_verify", extra={"reference": reference})
            return
        await self.settle(reference, verified, source="webhook", trace_id=trace_id)

    async def settle(
        self,
        reference: str,
        verified: VerifiedTransaction,
        *,
        source: Source,
        trace_id: str | None = None,
    ) -> Verdict:
        """Apply Paystack's verification to the payment, under its row lock."""
        async with self.sessions() as session, session.begin():
            payment = await session.scalar(
                select(Payment).where(Payment.reference == reference).with_for_update()
            )
            if payment is None:
                return Verdict(Outcome.MISMATCH, "unknown_reference")
            if payment.status in FINAL:
                return Verdict(Outcome.WAITING, "already_settled")
            now = self.clock()
            verdict = judge(
                reference=payment.reference,
                amount_minor=payment.amount_minor,
                currency=payment.currency,
                verified=verified,
                age=now - aware(payment.created_at),
                abandon_after=self.abandon_after,
            )
            payment.last_checked_at, payment.checks = now, payment.checks + 1
            ids = await self._apply(session, payment, verdict, verified, source, now, trace_id)
        await self._flush(ids)
        return verdict

    async def _apply(
        self,
        session: AsyncSession,
        payment: Payment,
        verdict: Verdict,
        verified: VerifiedTransaction,
        source: Source,
        now: datetime,
        trace_id: str | None,
    ) -> list[uuid.UUID]:
        if verdict.outcome is Outcome.MISMATCH:
            metrics.VERIFICATION_FAILURES.labels(verdict.reason).inc()
            log.error(
                "payment.verification_mismatch",
                extra={
                    "reference": payment.reference,
                    "reason": verdict.reason,
                    "expected": payment.amount_minor,
                    "verified": verified.amount_minor,
                    "source": source,
                },
            )
            return []
        if verdict.outcome is Outcome.WAITING:
            return []
        payment.updated_at, payment.settled_by = now, source
        if verdict.outcome is Outcome.PAID:
            payment.status = "succeeded"
            payment.paid_at = verified.paid_at or now
            payment.paystack_transaction_id = verified.transaction_id
            metrics.PAYMENTS.labels("succeeded").inc()
            metrics.AMOUNT_MINOR.labels(payment.currency).inc(payment.amount_minor)
            succeeded = PaymentSucceeded(payment=payment_facts(payment), paid_at=payment.paid_at)
            ids = [await self._add(session, succeeded, payment, "succeeded", trace_id)]
            if payment.purpose == PaymentPurpose.PLAN.value:
                ids.append(await self._start_or_extend(session, payment, now, trace_id))
            log.info(
                "payment.succeeded",
                extra={
                    "reference": payment.reference,
                    "amount": payment.amount_minor,
                    "currency": payment.currency,
                    "source": source,
                },
            )
            return ids
        if verdict.outcome is Outcome.DECLINED:
            payment.status, payment.failure_reason = "failed", "declined"
            metrics.PAYMENTS.labels("failed").inc()
            log.info("payment.declined", extra={"reference": payment.reference, "source": source})
            return [await self._emit(session, payment, PaymentFailed, "declined", trace_id)]
        # Abandoned: reported once; a late charge.success can still settle it.
        if payment.status == "abandoned":
            return []
        payment.status, payment.failure_reason = "abandoned", "abandoned"
        metrics.PAYMENTS.labels("abandoned").inc()
        log.info("payment.abandoned", extra={"reference": payment.reference})
        return [await self._emit(session, payment, PaymentFailed, "abandoned", trace_id)]

    async def _start_or_extend(
        self, session: AsyncSession, payment: Payment, now: datetime, trace_id: str | None
    ) -> uuid.UUID:
        plan = await session.get(Plan, payment.plan_code)
        if plan is None:
            raise LookupError(f"plan {payment.plan_code!r} of a paid payment is gone")
        subscription = await session.scalar(
            select(Subscription)
            .where(Subscription.phone_number == payment.phone_number)
            .with_for_update()
        )
        current = (
            Term(
                aware(subscription.starts_at),
                aware(subscription.ends_at),
                subscription.homework_credits,
                active=subscription.status == "active",
            )
            if subscription is not None
            else None
        )
        terms = PlanTerms(plan.code, plan.name, plan.duration_days, plan.homework_credits)
        nxt = after_payment(current, terms, now)
        if subscription is None:
            subscription = Subscription(
                id=uuid.uuid4(), phone_number=payment.phone_number, created_at=now
            )
            session.add(subscription)
        subscription.plan_code, subscription.plan_name = plan.code, plan.name
        subscription.status = "active"
        subscription.starts_at, subscription.ends_at = nxt.term.starts_at, nxt.term.ends_at
        subscription.homework_credits = nxt.term.homework_credits
        subscription.updated_at = now
        await session.flush()
        payment.subscription_id = subscription.id
        kind = "extended" if nxt.extended else "started"
        metrics.SUBSCRIPTION_EVENTS.labels(kind).inc()
        facts = subscription_facts(subscription)
        event: Event = (
            SubscriptionExtended(subscription=facts)
            if nxt.extended
            else SubscriptionStarted(subscription=facts)
        )
        log.info(
            f"subscription.{kind}",
            extra={"plan_code": plan.code, "ends_at": facts.ends_at.isoformat()},
        )
        return await self._add(session, event, payment, kind, trace_id)

    # --- outbox -------------------------------------------------------------------------

    async def _emit(
        self,
        session: AsyncSession,
        payment: Payment,
        kind: type[PaymentFailed],
        reason: str,
        trace_id: str | None,
    ) -> uuid.UUID:
        return await self._add(
            session, kind(payment=payment_facts(payment), reason=reason), payment, reason, trace_id
        )

    async def _add(
        self,
        session: AsyncSession,
        event: Event,
        payment: Payment,
        what: str,
        trace_id: str | None,
    ) -> uuid.UUID:
        envelope = Envelope.wrap(
            event,
            key=payment.phone_number,
            trace_id=trace_id,
            id=uuid.uuid5(_EVENT_NAMESPACE, f"{payment.id}:{what}"),
        )
        return await self.outbox.add(session, envelope)

    async def _flush(self, ids: list[uuid.UUID]) -> None:
        try:
            await self.outbox.flush(ids)
        except BrokerUnavailableError:
            log.warning("outbox.flush_deferred_to_relay", extra={"events": len(ids)})
