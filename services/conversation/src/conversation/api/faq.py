"""Admin: the FAQ the chat shows — list, add, edit, remove."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from conversation import audit
from conversation.api.deps import ActorDep, Limit, Offset, SessionDep
from conversation.api.pages import Page, page_of
from conversation.models import FaqEntry

router = APIRouter(prefix="/api/faq", tags=["faq"])


class FaqIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "topic": "Can I get a refund?",
                    "answer": "Yes, within 7 days if no homework was sent.",
                    "position": 5,
                }
            ]
        }
    )

    topic: str = Field(min_length=2, max_length=100)
    answer: str = Field(min_length=2, max_length=4000)
    position: int = 100
    active: bool = True


class FaqPatch(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"answer": "Updated answer."}]})

    topic: str | None = Field(None, min_length=2, max_length=100)
    answer: str | None = Field(None, min_length=2, max_length=4000)
    position: int | None = None
    active: bool | None = None


class FaqOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    topic: str
    answer: str
    position: int
    active: bool


@router.get("", summary="List FAQ entries in the order shown")
async def list_faq(session: SessionDep, limit: Limit = 50, offset: Offset = 0) -> Page[FaqOut]:
    query = select(FaqEntry).order_by(FaqEntry.position, FaqEntry.id)
    return await page_of(session, query, FaqOut, limit=limit, offset=offset)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Add an FAQ entry")
async def create_faq(body: FaqIn, session: SessionDep, actor: ActorDep) -> FaqOut:
    async with session.begin():
        if await session.scalar(select(FaqEntry.id).where(FaqEntry.topic == body.topic)):
            raise HTTPException(409, "an entry with this topic exists")
        entry = FaqEntry(**body.model_dump())
        session.add(entry)
        await session.flush()
        out = FaqOut.model_validate(entry)
        audit.record(
            session,
            actor=actor,
            action="create",
            resource="faq",
            resource_id=str(entry.id),
            before=None,
            after=audit.snapshot(out),
        )
    return out


async def _get(session: SessionDep, entry_id: int) -> FaqEntry:
    entry = await session.get(FaqEntry, entry_id)
    if entry is None:
        raise HTTPException(404, f"no FAQ entry {entry_id}")
    return entry


@router.patch("/{entry_id}", summary="Edit an FAQ entry")
async def update_faq(entry_id: int, body: FaqPatch, session: SessionDep, actor: ActorDep) -> FaqOut:
    async with session.begin():
        entry = await _get(session, entry_id)
        before = audit.snapshot(FaqOut.model_validate(entry))
        for field, value in body.model_dump(exclude_none=True).items():
            setattr(entry, field, value)
        await session.flush()
        out = FaqOut.model_validate(entry)
        audit.record(
            session,
            actor=actor,
            action="update",
            resource="faq",
            resource_id=str(entry.id),
            before=before,
            after=audit.snapshot(out),
        )
    return out


@router.delete("/{entry_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove an entry")
async def delete_faq(entry_id: int, session: SessionDep, actor: ActorDep) -> None:
    async with session.begin():
        entry = await _get(session, entry_id)
        before = audit.snapshot(FaqOut.model_validate(entry))
        await session.delete(entry)
        audit.record(
            session,
            actor=actor,
            action="delete",
            resource="faq",
            resource_id=str(entry_id),
            before=before,
            after=None,
        )
