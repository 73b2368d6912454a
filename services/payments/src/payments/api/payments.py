"""Admin: payments. Create one and get its checkout link, list, read, re-verify."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator
from sqlalchemy import func, select

from payments.api.deps import HandlerDep, Limit, Offset, PaystackDep, SessionDep, UtcDatetime
from payments.models import Payment
from payments.paystack_client import (
    PaystackRefusedError,
    PaystackUnavailableError,
    TransactionNotFoundError,
)
from shared.events import PaymentPurpose, PaymentRequested

router = APIRouter(prefix="/api/payments", tags=["payments"])

Phone = Annotated[str, Field(pattern=r"^\+\d{6,15}$", examples=["+2348000000001"])]


class PaymentIn(BaseModel):
    """A plan (priced by its plan) or an amount in the currency's smallest unit."""

    phone_number: Phone
    plan_code: str | None = Field(default=None, max_length=40)
    amount_minor: StrictInt | None = Field(default=None, gt=0, description="e.g. 500000 = ₦5,000")
    currency: str = Field(default="NGN", pattern=r"^[A-Z]{3}$")
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    order_id: uuid.UUID | None = None
    order_reference: str | None = Field(default=None, max_length=64)
    request_id: uuid.UUID | None = Field(
        default=None, description="Send the same id again to get the same payment back"
    )

    @model_validator(mode="after")
    def _plan_or_amount(self) -> PaymentIn:
        if (self.plan_code is None) == (self.amount_minor is None):
            raise ValueError("give either plan_code or amount_minor")
        return self


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    reference: str
    request_id: uuid.UUID
    purpose: str
    phone_number: str
    amount_minor: int
    currency: str
    status: str
    checkout_url: str | None
    order_id: uuid.UUID | None
    order_reference: str | None
    plan_code: str | None
    failure_reason: str | None
    settled_by: str | None
    paid_at: UtcDatetime | None
    subscription_id: uuid.UUID | None
    checks: int
    created_at: UtcDatetime
    updated_at: UtcDatetime


class PaymentPage(BaseModel):
    items: list[PaymentOut]
    total: int
    limit: int
    offset: int


class Reverified(BaseModel):
    outcome: str
    reason: str
    payment: PaymentOut


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a payment, get its link")
async def create_payment(body: PaymentIn, handler: HandlerDep) -> PaymentOut:
    request = PaymentRequested(
        request_id=body.request_id or uuid.uuid4(),
        purpose=PaymentPurpose.PLAN if body.plan_code else PaymentPurpose.ORDER,
        phone_number=body.phone_number,
        email=body.email,
        order_id=body.order_id,
        order_reference=body.order_reference,
        plan_code=body.plan_code,
        amount_minor=body.amount_minor,
        currency=None if body.plan_code else body.currency,
    )
    try:
        payment = await handler.request_payment(request)
    except PaystackUnavailableError as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, str(exc)) from exc
    if payment.status == "failed" and payment.checkout_url is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"payment {payment.reference} could not start: {payment.failure_reason}",
        )
    return PaymentOut.model_validate(payment)


@router.get("", summary="List payments, newest first")
async def list_payments(
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
    phone: str | None = Query(None, description="E.164 number, e.g. +2348000000001"),
    status_: str | None = Query(None, alias="status", description="pending, succeeded ..."),
) -> PaymentPage:
    query = select(Payment)
    if phone:
        query = query.where(Payment.phone_number == phone)
    if status_:
        query = query.where(Payment.status == status_)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(Payment.created_at.desc(), Payment.id).limit(limit).offset(offset)
    )
    return PaymentPage(
        items=[PaymentOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


async def _payment(session: SessionDep, reference: str) -> Payment:
    payment = await session.scalar(select(Payment).where(Payment.reference == reference))
    if payment is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no payment with reference {reference!r}")
    return payment


@router.get("/{reference}", summary="One payment by its reference")
async def get_payment(reference: str, session: SessionDep) -> PaymentOut:
    return PaymentOut.model_validate(await _payment(session, reference))


@router.post("/{reference}/verify", summary="Ask Paystack now and settle the payment")
async def reverify_payment(
    reference: str, session: SessionDep, handler: HandlerDep, paystack: PaystackDep
) -> Reverified:
    await _payment(session, reference)
    try:
        verified = await paystack.verify(reference)
    except TransactionNotFoundError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, "Paystack has no such transaction") from exc
    except (PaystackUnavailableError, PaystackRefusedError) as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, str(exc)) from exc
    verdict = await handler.settle(reference, verified, source="manual")
    session.expire_all()
    return Reverified(
        outcome=verdict.outcome.value,
        reason=verdict.reason,
        payment=PaymentOut.model_validate(await _payment(session, reference)),
    )
