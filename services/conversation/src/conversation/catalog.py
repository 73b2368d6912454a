"""The study-pack catalogue: seeded from a data file, read for every turn."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from conversation import engine
from conversation.models import Product

log = logging.getLogger(__name__)


async def seed_from_file(session: AsyncSession, path: Path) -> int:
    """Add the file's products that the table lacks; edits made since are left alone."""
    document = json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8"))
    currency = document["currency"]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    added = 0
    for position, item in enumerate(document["products"], start=1):
        statement = (
            insert(Product)
            .values(
                sku=item["sku"],
                name=item["name"],
                description=item.get("description", ""),
                price_minor=int(item["price_minor"]),
                currency=item.get("currency", currency),
                position=position,
                active=True,
            )
            .on_conflict_do_nothing(index_elements=["sku"])
            .returning(Product.id)
        )
        added += len((await session.execute(statement)).all())
    log.info("catalog.seeded", extra={"added": added})
    return added


async def active_products(session: AsyncSession) -> tuple[engine.Product, ...]:
    rows = (
        await session.scalars(
            select(Product).where(Product.active.is_(True)).order_by(Product.position, Product.id)
        )
    ).all()
    return tuple(
        engine.Product(
            number=number,
            sku=row.sku,
            name=row.name,
            price_minor=row.price_minor,
            currency=row.currency,
            description=row.description,
        )
        for number, row in enumerate(rows, start=1)
    )
