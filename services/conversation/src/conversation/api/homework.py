"""Admin: homework — submit on a student's behalf, read, list by status, assign to a tutor,
post a solution."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conversation import audit, context, desk_settings, tutoring
from conversation.actions import deliver_solution
from conversation.api.deps import ActorDep, Limit, Offset, OutboxDep, SessionDep, SettingsDep
from conversation.api.pages import Page, page_of
from conversation.models import Homework, Student, Tutor, TutorAssignment, TutorSolution
from conversation.outgoing import Outgoing
from shared.messaging import BrokerUnavailableError
from shared.messaging.outbox import Outbox

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/homework", tags=["homework"])


class HomeworkIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "phone_number": "+2348012345678",
                    "subject": "Mathematics",
                    "question": "Solve 2x + 3 = 11",
                    "note": "Show the working",
                }
            ]
        }
    )

    phone_number: str = Field(pattern=r"^\+[1-9]\d{6,14}$")
    subject: str = Field(min_length=2, max_length=100)
    question: str = Field(min_length=3, max_length=4000)
    note: str = Field("", max_length=1000)


class AssignIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"tutor_id": "5b0f6a53-3c1f-4a47-9d6e-0b7c2f1d9e10"}]}
    )

    tutor_id: uuid.UUID


class SolutionIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "x = 4, since 2x = 8."}]})

    text: str = Field(min_length=1, max_length=4000)


class HomeworkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    reference: str
    phone_number: str
    subject: str
    question: str
    note: str
    photo: dict[str, Any] | None
    status: str
    paid_with: str
    rating: int | None
    created_at: datetime
    updated_at: datetime


async def _get(session: AsyncSession, key: str) -> Homework:
    try:
        homework = await session.get(Homework, uuid.UUID(key))
    except ValueError:
        homework = await session.scalar(select(Homework).where(Homework.reference == key))
    if homework is None:
        raise HTTPException(404, f"no homework {key!r}")
    return homework


async def _send(outbox: Outbox, ids: list[uuid.UUID]) -> None:
    try:
        await outbox.flush(ids)
    except BrokerUnavailableError:
        log.warning("outbox.flush_deferred_to_relay", extra={"events": len(ids)})


@router.post("", status_code=status.HTTP_201_CREATED, summary="Submit homework for a student")
async def create_homework(
    body: HomeworkIn,
    session: SessionDep,
    outbox: OutboxDep,
    settings: SettingsDep,
    actor: ActorDep,
) -> HomeworkOut:
    now = datetime.now(UTC)
    async with session.begin():
        if not await session.scalar(
            select(Student.id).where(Student.phone_number == body.phone_number)
        ):
            raise HTTPException(422, "register the student first (POST /api/students)")
        desk = await desk_settings.load(session, settings)
        homework = Homework(
            reference=context.new_reference("HW"),
            **body.model_dump(),
            status="submitted",
            paid_with="admin",
            created_at=now,
            updated_at=now,
        )
        session.add(homework)
        await session.flush()
        out = Outgoing(f"admin:{uuid.uuid4()}", uuid.uuid4().hex)
        await tutoring.offer(
            session,
            homework,
            out,
            now,
            reassign_after=timedelta(seconds=desk.reassign_after_seconds),
        )
        await session.flush()
        result = HomeworkOut.model_validate(homework)
        audit.record(
            session,
            actor=actor,
            action="create",
            resource="homework",
            resource_id=homework.reference,
            before=None,
            after=audit.snapshot(result),
        )
        ids = [await outbox.add(session, event) for event in out.events]
    await _send(outbox, ids)
    return result


@router.get("", summary="List homework, newest first, optionally by status")
async def list_homework(
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
    status_: str | None = Query(
        None,
        alias="status",
        examples=["waiting"],
        description="submitted, waiting, assigned, accepted, solved or rated",
    ),
    phone: str | None = Query(None),
) -> Page[HomeworkOut]:
    query = select(Homework).order_by(Homework.created_at.desc())
    if status_:
        query = query.where(Homework.status == status_)
    if phone:
        query = query.where(Homework.phone_number == phone)
    return await page_of(session, query, HomeworkOut, limit=limit, offset=offset)


@router.get("/{homework_id}", summary="One homework, by id or reference")
async def get_homework(homework_id: str, session: SessionDep) -> HomeworkOut:
    return HomeworkOut.model_validate(await _get(session, homework_id))


@router.post("/{homework_id}/assign", summary="Give the homework to a chosen tutor")
async def assign_homework(
    homework_id: str,
    body: AssignIn,
    session: SessionDep,
    outbox: OutboxDep,
    settings: SettingsDep,
    actor: ActorDep,
) -> HomeworkOut:
    now = datetime.now(UTC)
    async with session.begin():
        homework = await _get(session, homework_id)
        tutor = await session.get(Tutor, body.tutor_id)
        if tutor is None or not tutor.active:
            raise HTTPException(422, "no active tutor with that id")
        if homework.status in ("solved", "rated"):
            raise HTTPException(409, "the homework is already solved")
        before = audit.snapshot(HomeworkOut.model_validate(homework))
        await _withdraw_open_offers(session, homework, now)
        desk = await desk_settings.load(session, settings)
        out = Outgoing(f"admin:{uuid.uuid4()}", uuid.uuid4().hex)
        others = set((await session.scalars(select(Tutor.id).where(Tutor.id != tutor.id))).all())
        await tutoring.offer(
            session,
            homework,
            out,
            now,
            reassign_after=timedelta(seconds=desk.reassign_after_seconds),
            exclude=others,
        )
        await session.flush()
        result = HomeworkOut.model_validate(homework)
        audit.record(
            session,
            actor=actor,
            action="assign",
            resource="homework",
            resource_id=homework.reference,
            before=before,
            after={**(audit.snapshot(result) or {}), "tutor_id": str(tutor.id)},
        )
        ids = [await outbox.add(session, event) for event in out.events]
    await _send(outbox, ids)
    return result


async def _withdraw_open_offers(session: AsyncSession, homework: Homework, now: datetime) -> None:
    """An admin decision overrides whatever tutors were offered or had accepted."""
    open_offers = await session.scalars(
        select(TutorAssignment).where(
            TutorAssignment.homework_id == homework.id,
            TutorAssignment.status.in_(("offered", "accepted")),
        )
    )
    for assignment in open_offers:
        assignment.status, assignment.closed_at = "withdrawn", now


@router.post("/{homework_id}/solution", summary="Post a solution; the student gets it on WhatsApp")
async def post_solution(
    homework_id: str,
    body: SolutionIn,
    session: SessionDep,
    outbox: OutboxDep,
    actor: ActorDep,
) -> HomeworkOut:
    now = datetime.now(UTC)
    async with session.begin():
        homework = await _get(session, homework_id)
        if homework.status in ("solved", "rated"):
            raise HTTPException(409, "the homework is already solved")
        before = audit.snapshot(HomeworkOut.model_validate(homework))
        await _withdraw_open_offers(session, homework, now)
        homework.status, homework.updated_at = "solved", now
        session.add(
            TutorSolution(
                homework_id=homework.id, tutor_id=None, text=body.text, photo=None, created_at=now
            )
        )
        out = Outgoing(f"admin:{uuid.uuid4()}", uuid.uuid4().hex)
        await deliver_solution(session, out, homework, body.text, None, now)
        await session.flush()
        result = HomeworkOut.model_validate(homework)
        audit.record(
            session,
            actor=actor,
            action="solve",
            resource="homework",
            resource_id=homework.reference,
            before=before,
            after={**(audit.snapshot(result) or {}), "solution": body.text},
        )
        ids = [await outbox.add(session, event) for event in out.events]
    await _send(outbox, ids)
    return result
