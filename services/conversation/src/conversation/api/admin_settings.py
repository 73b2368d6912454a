"""Admin: the desk's settings (business name, currency, free credits, reassignment time,
subjects, levels, plans)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict

from conversation import audit, desk_settings
from conversation.api.deps import ActorDep, SessionDep, SettingsDep
from conversation.models import AdminSetting

router = APIRouter(prefix="/api/settings", tags=["settings"])


class SettingOut(BaseModel):
    key: str
    value: Any
    overridden: bool
    updated_at: datetime | None = None


class SettingIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"value": 5}]})

    value: Any


class SettingsOut(BaseModel):
    items: list[SettingOut]
    total: int
    limit: int
    offset: int


@router.get("", summary="Every setting: its value, and whether it differs from the default")
async def list_settings(session: SessionDep, settings: SettingsDep) -> SettingsOut:
    stored = await desk_settings.stored(session)
    items = [
        SettingOut(
            key=key,
            value=stored[key][0] if key in stored else default,
            overridden=key in stored,
            updated_at=stored[key][1] if key in stored else None,
        )
        for key, default in desk_settings.defaults(settings).items()
    ]
    return SettingsOut(items=items, total=len(items), limit=len(items), offset=0)


def _check(key: str, value: Any) -> None:
    expected = desk_settings.VALUE_TYPES.get(key)
    if expected is None:
        raise HTTPException(404, f"no setting {key!r}")
    if not isinstance(value, expected) or (isinstance(value, bool) and expected is int):
        raise HTTPException(422, f"{key} must be a {expected.__name__}")
    if isinstance(value, int) and value < 0:
        raise HTTPException(422, f"{key} must not be negative")
    if key == "plans" and isinstance(value, list):
        for plan in value:
            if not isinstance(plan, dict) or not {"code", "name", "price_minor"} <= plan.keys():
                raise HTTPException(422, "each plan needs code, name and price_minor")


@router.put("/{key}", summary="Set one setting")
async def put_setting(
    key: str, body: SettingIn, session: SessionDep, settings: SettingsDep, actor: ActorDep
) -> SettingOut:
    _check(key, body.value)
    now = datetime.now(UTC)
    async with session.begin():
        row = await session.get(AdminSetting, key)
        before_value = row.value if row else desk_settings.defaults(settings)[key]
        if row is None:
            row = AdminSetting(key=key, value=body.value, updated_at=now)
            session.add(row)
        else:
            row.value, row.updated_at = body.value, now
        audit.record(
            session,
            actor=actor,
            action="update",
            resource="setting",
            resource_id=key,
            before={"value": before_value},
            after={"value": body.value},
        )
    return SettingOut(key=key, value=body.value, overridden=True, updated_at=now)
