"""Admin: the audit log of every admin write, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from conversation.api.deps import Limit, Offset, SessionDep
from conversation.api.pages import Page, page_of
from conversation.models import AuditEntry

router = APIRouter(prefix="/api/audit", tags=["audit"])


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    actor: str
    action: str
    resource: str
    resource_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: datetime


@router.get("", summary="Read the audit log")
async def list_audit(
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
    resource: str | None = Query(None, examples=["student"]),
    resource_id: str | None = Query(None),
) -> Page[AuditOut]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if resource:
        query = query.where(AuditEntry.resource == resource)
    if resource_id:
        query = query.where(AuditEntry.resource_id == resource_id)
    return await page_of(session, query, AuditOut, limit=limit, offset=offset)
