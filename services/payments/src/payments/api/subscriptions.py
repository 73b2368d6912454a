"""Admin: subscriptions, one per phone number."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from payments.api.deps import Limit, Offset, SessionDep, UtcDatetime
from payments.models import Subscription

router = APIRouter(prefix="/api/subscriptions", tags=["subscriptions"])


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    phone_number: str
    plan_code: str
    plan_name: str
    status: str
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    homework_credits: int | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class SubscriptionPage(BaseModel):
    items: list[SubscriptionOut]
    total: int
    limit: int
    offset: int


@router.get("", summary="List subscriptions, ending soonest first")
async def list_subscriptions(
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
    phone: str | None = Query(None, description="E.164 number, e.g. +2348000000001"),
    status_: str | None = Query(None, alias="status", description="active, expired"),
) -> SubscriptionPage:
    query = select(Subscription)
    if phone:
        query = query.where(Subscription.phone_number == phone)
    if status_:
        query = query.where(Subscription.status == status_)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(Subscription.ends_at, Subscription.id).limit(limit).offset(offset)
    )
    return SubscriptionPage(
        items=[SubscriptionOut.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{subscription_id}", summary="One subscription")
async def get_subscription(subscription_id: uuid.UUID, session: SessionDep) -> SubscriptionOut:
    subscription = await session.get(Subscription, subscription_id)
    if subscription is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such subscription")
    return SubscriptionOut.model_validate(subscription)
