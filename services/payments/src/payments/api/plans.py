"""Admin: subscription plans. Removing a plan retires it (paid ones still refer to it)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from sqlalchemy import func, select

from payments.api.deps import Limit, Offset, SessionDep
from payments.models import Plan

router = APIRouter(prefix="/api/plans", tags=["plans"])


class PlanIn(BaseModel):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=1000)
    price_minor: StrictInt = Field(gt=0, description="In the smallest unit: 500000 = ₦5,000")
    currency: str = Field(default="NGN", pattern=r"^[A-Z]{3}$")
    duration_days: StrictInt = Field(gt=0, le=3660)
    homework_credits: StrictInt | None = Field(default=None, ge=0, description="null: unlimited")
    position: StrictInt = 0
    active: bool = True


class PlanPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=1000)
    price_minor: StrictInt | None = Field(default=None, gt=0)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    duration_days: StrictInt | None = Field(default=None, gt=0, le=3660)
    homework_credits: StrictInt | None = Field(default=None, ge=0)
    position: StrictInt | None = None
    active: bool | None = None


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    description: str
    price_minor: int
    currency: str
    duration_days: int
    homework_credits: int | None
    position: int
    active: bool


class PlanPage(BaseModel):
    items: list[PlanOut]
    total: int
    limit: int
    offset: int


async def _plan(session: SessionDep, code: str) -> Plan:
    plan = await session.get(Plan, code)
    if plan is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no plan with code {code!r}")
    return plan


@router.get("", summary="List plans in menu order")
async def list_plans(
    session: SessionDep, limit: Limit = 50, offset: Offset = 0, active: bool | None = None
) -> PlanPage:
    query = select(Plan)
    if active is not None:
        query = query.where(Plan.active.is_(active))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(Plan.position, Plan.code).limit(limit).offset(offset)
    )
    return PlanPage(
        items=[PlanOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.post("", status_code=status.HTTP_201_CREATED, summary="Add a plan")
async def create_plan(body: PlanIn, session: SessionDep) -> PlanOut:
    if await session.get(Plan, body.code) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"plan {body.code!r} exists already")
    now = datetime.now(UTC)
    plan = Plan(**body.model_dump(), created_at=now, updated_at=now)
    session.add(plan)
    await session.commit()
    return PlanOut.model_validate(plan)


@router.get("/{code}", summary="One plan")
async def get_plan(code: str, session: SessionDep) -> PlanOut:
    return PlanOut.model_validate(await _plan(session, code))


@router.patch("/{code}", summary="Change a plan; payments already made keep their price")
async def update_plan(code: str, body: PlanPatch, session: SessionDep) -> PlanOut:
    plan = await _plan(session, code)
    for field, value in body.model_dump(exclude_unset=True).items():
        if value is None and field != "homework_credits":
            continue
        setattr(plan, field, value)
    plan.updated_at = datetime.now(UTC)
    await session.commit()
    return PlanOut.model_validate(plan)


@router.delete("/{code}", status_code=status.HTTP_204_NO_CONTENT, summary="Retire a plan")
async def retire_plan(code: str, session: SessionDep) -> Response:
    plan = await _plan(session, code)
    plan.active, plan.updated_at = False, datetime.now(UTC)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
