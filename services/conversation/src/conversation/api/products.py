"""Admin: the study-pack catalogue — list, add, edit (price, name, on sale or not)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from conversation import audit
from conversation.api.deps import ActorDep, Limit, Offset, SessionDep
from conversation.api.pages import Page, page_of
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


class ProductIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sku": "NECO-BIO",
                    "name": "NECO Biology Pack",
                    "price_minor": 450000,
                    "currency": "NGN",
                    "description": "Past questions 2015-2025",
                }
            ]
        }
    )

    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Z0-9-]+$")
    name: str = Field(min_length=2, max_length=200)
    description: str = ""
    price_minor: int = Field(gt=0, description="In the currency's smallest unit (kobo)")
    currency: str = Field("NGN", pattern=r"^[A-Z]{3}$")
    active: bool = True


class ProductPatch(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"price_minor": 550000}]})

    name: str | None = Field(None, min_length=2, max_length=200)
    description: str | None = None
    price_minor: int | None = Field(None, gt=0)
    position: int | None = None
    active: bool | None = None


@router.get("", summary="List products in menu order")
async def list_products(
    session: SessionDep, limit: Limit = 50, offset: Offset = 0
) -> Page[ProductOut]:
    query = select(Product).order_by(Product.position, Product.id)
    return await page_of(session, query, ProductOut, limit=limit, offset=offset)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Add a product at the end")
async def create_product(body: ProductIn, session: SessionDep, actor: ActorDep) -> ProductOut:
    async with session.begin():
        if await session.scalar(select(Product.id).where(Product.sku == body.sku)):
            raise HTTPException(409, "a product with this SKU exists")
        last = await session.scalar(select(func.max(Product.position))) or 0
        product = Product(**body.model_dump(), position=last + 1)
        session.add(product)
        await session.flush()
        out = ProductOut.model_validate(product)
        audit.record(
            session,
            actor=actor,
            action="create",
            resource="product",
            resource_id=product.sku,
            before=None,
            after=audit.snapshot(out),
        )
    return out


@router.patch("/{sku}", summary="Edit a product")
async def update_product(
    sku: str, body: ProductPatch, session: SessionDep, actor: ActorDep
) -> ProductOut:
    async with session.begin():
        product = await session.scalar(select(Product).where(Product.sku == sku))
        if product is None:
            raise HTTPException(404, f"no product {sku!r}")
        before = audit.snapshot(ProductOut.model_validate(product))
        for field, value in body.model_dump(exclude_none=True).items():
            setattr(product, field, value)
        await session.flush()
        out = ProductOut.model_validate(product)
        audit.record(
            session,
            actor=actor,
            action="update",
            resource="product",
            resource_id=sku,
            before=before,
            after=audit.snapshot(out),
        )
    return out
