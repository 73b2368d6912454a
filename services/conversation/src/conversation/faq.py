"""The FAQ: seeded from a data file on first start, edited through the admin API after."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from conversation.models import FaqEntry

log = logging.getLogger(__name__)


async def seed_from_file(session: AsyncSession, path: Path) -> int:
    """Fill an empty faq table from the file; once it has entries, the table rules."""
    if await session.scalar(select(func.count()).select_from(FaqEntry)):
        return 0
    document = json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8"))
    for position, item in enumerate(document["entries"], start=1):
        session.add(
            FaqEntry(topic=item["topic"], answer=item["answer"], position=position, active=True)
        )
    log.info("faq.seeded", extra={"added": len(document["entries"])})
    return len(document["entries"])
