"""Admin: students — create, read, list and search, export everything, erase."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, select, update

from conversation import audit, intents
from conversation.api.deps import ActorDep, Limit, Offset, SessionDep
from conversation.api.pages import Page, page_of
from conversation.models import (
    CartItem,
    ConversationState,
    FloodBucket,
    Homework,
    Lead,
    Order,
    Student,
    Subscription,
    SupportMessage,
    SupportTicket,
    TutorAssignment,
    TutorSolution,
)

router = APIRouter(prefix="/api/students", tags=["students"])
PHONE = Field(pattern=r"^\+[1-9]\d{6,14}$", examples=["+2348012345678"])


class StudentIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "phone_number": "+2348012345678",
                    "name": "Ada Obi",
                    "level": "SSS",
                    "email": "ada@example.com",
                }
            ]
        }
    )

    phone_number: str = PHONE
    name: str = Field(min_length=2, max_length=200)
    level: str = Field(min_length=1, max_length=64)
    email: str

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        checked = intents.email(value)
        if checked is None:
            raise ValueError("not a valid email address")
        return checked


class StudentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    phone_number: str
    name: str
    level: str
    email: str
    free_credits_used: int
    created_at: datetime


async def _get(session: SessionDep, student_id: uuid.UUID) -> Student:
    student = await session.get(Student, student_id)
    if student is None:
        raise HTTPException(404, f"no student with id {student_id}")
    return student


@router.post("", status_code=status.HTTP_201_CREATED, summary="Register a student")
async def create_student(body: StudentIn, session: SessionDep, actor: ActorDep) -> StudentOut:
    async with session.begin():
        taken = await session.scalar(
            select(Student.id).where(Student.phone_number == body.phone_number)
        )
        if taken is not None:
            raise HTTPException(409, "a student with this phone number exists")
        student = Student(**body.model_dump(), free_credits_used=0, created_at=datetime.now(UTC))
        session.add(student)
        await session.flush()
        out = StudentOut.model_validate(student)
        audit.record(
            session,
            actor=actor,
            action="create",
            resource="student",
            resource_id=str(student.id),
            before=None,
            after=audit.snapshot(out),
        )
    return out


@router.get("", summary="List students, or search by phone number")
async def list_students(
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
    phone: str | None = Query(None, description="Part of an E.164 number", examples=["+23480"]),
) -> Page[StudentOut]:
    query = select(Student).order_by(Student.created_at.desc())
    if phone:
        query = query.where(Student.phone_number.contains(phone.strip()))
    return await page_of(session, query, StudentOut, limit=limit, offset=offset)


@router.get("/{student_id}", summary="One student")
async def get_student(student_id: uuid.UUID, session: SessionDep) -> StudentOut:
    return StudentOut.model_validate(await _get(session, student_id))


def _row(row: Any) -> dict[str, Any]:
    return {column.key: _plain(getattr(row, column.key)) for column in row.__table__.columns}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


@router.get("/{student_id}/export", summary="Everything we hold about one student")
async def export_student(student_id: uuid.UUID, session: SessionDep) -> dict[str, Any]:
    student = await _get(session, student_id)
    phone = student.phone_number
    homework = (await session.scalars(select(Homework).where(Homework.phone_number == phone))).all()
    homework_ids = [h.id for h in homework]
    solutions = (
        await session.scalars(
            select(TutorSolution).where(TutorSolution.homework_id.in_(homework_ids))
        )
    ).all()
    tickets = (
        await session.scalars(select(SupportTicket).where(SupportTicket.phone_number == phone))
    ).all()
    messages = (
        await session.scalars(
            select(SupportMessage).where(SupportMessage.ticket_id.in_([t.id for t in tickets]))
        )
    ).all()
    orders = (await session.scalars(select(Order).where(Order.phone_number == phone))).all()
    lead = await session.get(Lead, phone)
    state = await session.get(ConversationState, phone)
    subscription = await session.get(Subscription, phone)
    flood_bucket = await session.get(FloodBucket, phone)
    return {
        "student": _row(student),
        "lead": _row(lead) if lead else None,
        "conversation": _row(state) if state else None,
        "flood_bucket": _row(flood_bucket) if flood_bucket else None,
        "subscription": _row(subscription) if subscription else None,
        "homework": [_row(h) for h in homework],
        "solutions": [_row(s) for s in solutions],
        "tickets": [_row(t) for t in tickets],
        "support_messages": [_row(m) for m in messages],
        "orders": [{**_row(o), "lines": [_row(line) for line in o.lines]} for o in orders],
    }


@router.delete(
    "/{student_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Erase one student: their profile, chats, homework and tickets; orders are kept "
    "for the accounts with the phone number removed",
)
async def erase_student(student_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> None:
    async with session.begin():
        student = await _get(session, student_id)
        phone = student.phone_number
        homework_ids = select(Homework.id).where(Homework.phone_number == phone)
        ticket_ids = select(SupportTicket.id).where(SupportTicket.phone_number == phone)
        await session.execute(
            delete(TutorSolution).where(TutorSolution.homework_id.in_(homework_ids))
        )
        await session.execute(
            delete(TutorAssignment).where(TutorAssignment.homework_id.in_(homework_ids))
        )
        await session.execute(delete(Homework).where(Homework.phone_number == phone))
        await session.execute(
            delete(SupportMessage).where(SupportMessage.ticket_id.in_(ticket_ids))
        )
        await session.execute(delete(SupportTicket).where(SupportTicket.phone_number == phone))
        for table in (CartItem, ConversationState, FloodBucket, Lead, Subscription):
            await session.execute(delete(table).where(table.phone_number == phone))
        await session.execute(
            update(Order).where(Order.phone_number == phone).values(phone_number="erased")
        )
        await session.delete(student)
        # The audit entry must not keep what was erased.
        audit.record(
            session,
            actor=actor,
            action="erase",
            resource="student",
            resource_id=str(student_id),
            before={"id": str(student_id)},
            after=None,
        )
