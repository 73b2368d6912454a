"""Subscription plans: seeded from a data file, then kept by the admin API."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from payments.models import Plan

log = logging.getLogger(__name__)


async def seed_from_file(session: AsyncSession, path: Path) -> int:
    """Add the file's plans that the table lacks; edits made since are left alone."""
    document = json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8"))
    currency = document["currency"]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    now = datetime.now(UTC)
    added = 0
    for position, item in enumerate(document["plans"], start=1):
        price = item["price_minor"]
        if not isinstance(price, int) or isinstance(price, bool) or price <= 0:
            raise ValueError(f"plan {item['code']!r}: price_minor must be a positive integer")
        credits = item.get("homework_credits")
        statement = (
            insert(Plan)
            .values(
                code=item["code"],
                name=item["name"],
                description=item.get("description", ""),
                price_minor=price,
                currency=item.get("currency", currency),
                duration_days=int(item["duration_days"]),
                homework_credits=None if credits is None else int(credits),
                position=position,
                active=True,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["code"])
            .returning(Plan.code)
        )
        added += len((await session.execute(statement)).all())
    log.info("plans.seeded", extra={"added": added})
    return added
