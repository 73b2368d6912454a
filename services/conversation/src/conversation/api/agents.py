"""Admin: support agents — register, list, and put on or off duty."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from conversation import audit
from conversation.api.deps import ActorDep, Limit, Offset, SessionDep
from conversation.api.pages import Page, page_of
from conversation.models import Agent

router = APIRouter(prefix="/api/agents", tags=["agents"])


class AgentIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"phone_number": "+2348031112222", "name": "Grace"}]}
    )

    phone_number: str = Field(pattern=r"^\+[1-9]\d{6,14}$")
    name: str = Field(min_length=2, max_length=200)
    on_duty: bool = True


class AgentPatch(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"on_duty": False}]})

    name: str | None = Field(None, min_length=2, max_length=200)
    on_duty: bool | None = None


class AgentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    phone_number: str
    name: str
    on_duty: bool
    created_at: datetime


@router.post("", status_code=status.HTTP_201_CREATED, summary="Register a support agent")
async def create_agent(body: AgentIn, session: SessionDep, actor: ActorDep) -> AgentOut:
    async with session.begin():
        if await session.scalar(select(Agent.id).where(Agent.phone_number == body.phone_number)):
            raise HTTPException(409, "an agent with this phone number exists")
        agent = Agent(**body.model_dump(), created_at=datetime.now(UTC))
        session.add(agent)
        await session.flush()
        out = AgentOut.model_validate(agent)
        audit.record(
            session,
            actor=actor,
            action="create",
            resource="agent",
            resource_id=str(agent.id),
            before=None,
            after=audit.snapshot(out),
        )
    return out


@router.get("", summary="List support agents")
async def list_agents(session: SessionDep, limit: Limit = 50, offset: Offset = 0) -> Page[AgentOut]:
    return await page_of(
        session, select(Agent).order_by(Agent.created_at), AgentOut, limit=limit, offset=offset
    )


@router.patch("/{agent_id}", summary="Rename an agent or put them on or off duty")
async def update_agent(
    agent_id: uuid.UUID, body: AgentPatch, session: SessionDep, actor: ActorDep
) -> AgentOut:
    async with session.begin():
        agent = await session.get(Agent, agent_id)
        if agent is None:
            raise HTTPException(404, f"no agent with id {agent_id}")
        before = audit.snapshot(AgentOut.model_validate(agent))
        for field, value in body.model_dump(exclude_none=True).items():
            setattr(agent, field, value)
        await session.flush()
        out = AgentOut.model_validate(agent)
        audit.record(
            session,
            actor=actor,
            action="update",
            resource="agent",
            resource_id=str(agent.id),
            before=before,
            after=audit.snapshot(out),
        )
    return out
