"""Admin: the study-pack catalogue."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from conversation.api.deps import Limit, Offset, SessionDep
from conversation.models import Product

router = APIRouter(prefix="/api/products", tags=["products"])


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    name: str
    description: str
    price_minor: int
    currency: str
    position: int
    active: bool


class ProductPage(BaseModel):
    items: list[ProductOut]
    total: int
    limit: int
    offset: int


@router.get("", summary="List products in menu order")
async def list_products(session: SessionDep, limit: Limit = 50, offset: Offset = 0) -> ProductPage:
    total = await session.scalar(select(func.count()).select_from(Product)) or 0
    rows = await session.scalars(
        select(Product).order_by(Product.position, Product.id).limit(limit).offset(offset)
    )
    return ProductPage(
        items=[ProductOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )
