"""One shape for every paginated list, and the query that fills it."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T", bound=BaseModel)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


async def page_of(
    session: AsyncSession,
    query: Select[Any],
    out: type[T],
    *,
    limit: int,
    offset: int,
) -> Page[T]:
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = await session.scalars(query.limit(limit).offset(offset))
    return Page[out](  # type: ignore[valid-type]
        items=[out.model_validate(row, from_attributes=True) for row in rows],
        total=total or 0,
        limit=limit,
        offset=offset,
    )
