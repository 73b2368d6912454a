"""Admin: orders placed through the chat."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from conversation.api.deps import Limit, Offset, SessionDep
from conversation.models import Order

router = APIRouter(prefix="/api/orders", tags=["orders"])


class OrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    name: str
    quantity: int
    unit_price_minor: int


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    reference: str
    phone_number: str
    status: str
    currency: str
    total_minor: int
    created_at: datetime
    lines: list[OrderLineOut]


class OrderPage(BaseModel):
    items: list[OrderOut]
    total: int
    limit: int
    offset: int


@router.get("", summary="List orders, newest first")
async def list_orders(
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
    phone: str | None = Query(None, description="E.164 number, e.g. +2348000000001"),
    status: str | None = Query(None),
) -> OrderPage:
    query = select(Order)
    if phone:
        query = query.where(Order.phone_number == phone)
    if status:
        query = query.where(Order.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(Order.created_at.desc()).limit(limit).offset(offset)
    )
    return OrderPage(
        items=[OrderOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/{reference}", summary="One order by its reference")
async def get_order(reference: str, session: SessionDep) -> OrderOut:
    order = await session.scalar(select(Order).where(Order.reference == reference))
    if order is None:
        raise HTTPException(404, f"no order with reference {reference!r}")
    return OrderOut.model_validate(order)
