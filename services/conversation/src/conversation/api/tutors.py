"""Admin: tutors — register, list, change subjects or pause, and see their open work."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from conversation import audit
from conversation.api.deps import ActorDep, Limit, Offset, SessionDep
from conversation.api.pages import Page, page_of
from conversation.models import Homework, Tutor, TutorAssignment

router = APIRouter(prefix="/api/tutors", tags=["tutors"])


class TutorIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "phone_number": "+2348098765432",
                    "name": "Tola Bello",
                    "subjects": ["Mathematics", "Physics"],
                }
            ]
        }
    )

    phone_number: str = Field(pattern=r"^\+[1-9]\d{6,14}$")
    name: str = Field(min_length=2, max_length=200)
    subjects: list[str] = Field(min_length=1)
    active: bool = True


class TutorPatch(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"active": False}]})

    name: str | None = Field(None, min_length=2, max_length=200)
    subjects: list[str] | None = None
    active: bool | None = None


class TutorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    phone_number: str
    name: str
    subjects: list[str]
    active: bool
    created_at: datetime


class WorkOut(BaseModel):
    homework_reference: str
    subject: str
    status: str
    offered_at: datetime


@router.post("", status_code=status.HTTP_201_CREATED, summary="Register a tutor")
async def create_tutor(body: TutorIn, session: SessionDep, actor: ActorDep) -> TutorOut:
    async with session.begin():
        if await session.scalar(select(Tutor.id).where(Tutor.phone_number == body.phone_number)):
            raise HTTPException(409, "a tutor with this phone number exists")
        tutor = Tutor(**body.model_dump(), created_at=datetime.now(UTC))
        session.add(tutor)
        await session.flush()
        out = TutorOut.model_validate(tutor)
        audit.record(
            session,
            actor=actor,
            action="create",
            resource="tutor",
            resource_id=str(tutor.id),
            before=None,
            after=audit.snapshot(out),
        )
    return out


@router.get("", summary="List tutors")
async def list_tutors(
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
    active: bool | None = Query(None),
) -> Page[TutorOut]:
    query = select(Tutor).order_by(Tutor.created_at)
    if active is not None:
        query = query.where(Tutor.active.is_(active))
    return await page_of(session, query, TutorOut, limit=limit, offset=offset)


async def _get(session: SessionDep, tutor_id: uuid.UUID) -> Tutor:
    tutor = await session.get(Tutor, tutor_id)
    if tutor is None:
        raise HTTPException(404, f"no tutor with id {tutor_id}")
    return tutor


@router.get("/{tutor_id}", summary="One tutor")
async def get_tutor(tutor_id: uuid.UUID, session: SessionDep) -> TutorOut:
    return TutorOut.model_validate(await _get(session, tutor_id))


@router.patch("/{tutor_id}", summary="Change a tutor's name, subjects or whether they get work")
async def update_tutor(
    tutor_id: uuid.UUID, body: TutorPatch, session: SessionDep, actor: ActorDep
) -> TutorOut:
    async with session.begin():
        tutor = await _get(session, tutor_id)
        before = audit.snapshot(TutorOut.model_validate(tutor))
        for field, value in body.model_dump(exclude_none=True).items():
            setattr(tutor, field, value)
        await session.flush()
        out = TutorOut.model_validate(tutor)
        audit.record(
            session,
            actor=actor,
            action="update",
            resource="tutor",
            resource_id=str(tutor.id),
            before=before,
            after=audit.snapshot(out),
        )
    return out


@router.get("/{tutor_id}/work", summary="A tutor's open work (offered or accepted)")
async def tutor_work(tutor_id: uuid.UUID, session: SessionDep) -> list[WorkOut]:
    await _get(session, tutor_id)
    rows = await session.execute(
        select(TutorAssignment, Homework)
        .join(Homework, Homework.id == TutorAssignment.homework_id)
        .where(
            TutorAssignment.tutor_id == tutor_id,
            TutorAssignment.status.in_(("offered", "accepted")),
        )
        .order_by(TutorAssignment.offered_at)
    )
    return [
        WorkOut(
            homework_reference=h.reference,
            subject=h.subject,
            status=a.status,
            offered_at=a.offered_at,
        )
        for a, h in rows.all()
    ]
