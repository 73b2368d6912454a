"""The audit log: every write through the admin API, who made it, and before and after."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from conversation.models import AuditEntry


def snapshot(model: BaseModel | None) -> dict[str, Any] | None:
    return None if model is None else model.model_dump(mode="json")


def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    resource: str,
    resource_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Add the entry to the caller's transaction, so it commits with the change or not at all."""
    session.add(
        AuditEntry(
            actor=actor,
            action=action,
            resource=resource,
            resource_id=resource_id,
            before=before,
            after=after,
            at=datetime.now(UTC),
        )
    )
