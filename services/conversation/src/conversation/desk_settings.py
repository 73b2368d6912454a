"""The desk's business settings (admin_settings): defaults here, overrides in the table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conversation import engine
from conversation.models import AdminSetting
from conversation.settings import ConversationSettings

# Plans shown in the pay flow, as payments' own plan list has them (its data/plans.json).
# Payments prices a plan itself from the code; these prices are only what the student is
# shown, so keep them in step (or change them through PUT /api/settings/plans).
DEFAULT_PLANS: list[dict[str, Any]] = [
    {
        "code": "monthly",
        "name": "Monthly",
        "price_minor": 500_000,
        "currency": "NGN",
        "description": "unlimited homework for 30 days",
    },
    {
        "code": "termly",
        "name": "Termly",
        "price_minor": 1_200_000,
        "currency": "NGN",
        "description": "unlimited homework for a 90-day term",
    },
    {
        "code": "starter",
        "name": "Starter",
        "price_minor": 200_000,
        "currency": "NGN",
        "description": "10 homework questions in 30 days",
    },
]


def defaults(settings: ConversationSettings) -> dict[str, Any]:
    return {
        "business_name": settings.business_name,
        "currency": settings.currency,
        "free_credits": 3,
        "reassign_after_seconds": 1800,
        "idle_timeout_seconds": 1800,
        "subjects": ["Mathematics", "English", "Physics", "Chemistry", "Biology"],
        "levels": ["Primary", "JSS", "SSS", "University"],
        "plans": DEFAULT_PLANS,
    }


# What each key must hold, for the admin API to refuse nonsense before it is stored.
VALUE_TYPES: dict[str, type] = {
    "business_name": str,
    "currency": str,
    "free_credits": int,
    "reassign_after_seconds": int,
    "idle_timeout_seconds": int,
    "subjects": list,
    "levels": list,
    "plans": list,
}


@dataclass(frozen=True)
class DeskSettings:
    business_name: str
    currency: str
    free_credits: int
    reassign_after_seconds: int
    idle_timeout_seconds: int
    subjects: tuple[str, ...]
    levels: tuple[str, ...]
    plans: tuple[engine.Plan, ...]


async def stored(session: AsyncSession) -> dict[str, tuple[Any, datetime]]:
    rows = await session.scalars(select(AdminSetting))
    return {row.key: (row.value, row.updated_at) for row in rows}


async def load(session: AsyncSession, settings: ConversationSettings) -> DeskSettings:
    values = defaults(settings)
    values.update({key: value for key, (value, _) in (await stored(session)).items()})
    return DeskSettings(
        business_name=str(values["business_name"]),
        currency=str(values["currency"]),
        free_credits=int(values["free_credits"]),
        reassign_after_seconds=int(values["reassign_after_seconds"]),
        idle_timeout_seconds=int(values["idle_timeout_seconds"]),
        subjects=tuple(str(s) for s in values["subjects"]),
        levels=tuple(str(s) for s in values["levels"]),
        plans=tuple(
            engine.Plan(
                code=str(p["code"]),
                name=str(p["name"]),
                price_minor=int(p["price_minor"]),
                currency=str(p.get("currency", values["currency"])),
                description=str(p.get("description", "")),
            )
            for p in values["plans"]
        ),
    )
