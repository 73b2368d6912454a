"""Loads what a turn may need to know (who is writing, their profile, subscription, work)
into the engine's pure Context."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from conversation import catalog, engine
from conversation.desk_settings import DeskSettings
from conversation.models import (
    Agent,
    FaqEntry,
    Homework,
    Student,
    Subscription,
    SupportTicket,
    Tutor,
    TutorAssignment,
)

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
OPEN_WORK = ("offered", "accepted")


def new_reference(prefix: str) -> str:
    return f"{prefix}-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything here is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def role_of(session: AsyncSession, phone: str) -> str:
    # Both asked in one statement: this runs on every turn.
    tutor = select(Tutor.id).where(Tutor.phone_number == phone, Tutor.active.is_(True))
    agent = select(Agent.id).where(Agent.phone_number == phone)
    is_tutor, is_agent = (await session.execute(select(tutor.exists(), agent.exists()))).one()
    if is_tutor:
        return "tutor"
    if is_agent:
        return "agent"
    return "student"


def subscription_view(row: Subscription | None) -> engine.SubscriptionView | None:
    if row is None:
        return None
    left = None if row.homework_credits is None else max(row.homework_credits - row.credits_used, 0)
    return engine.SubscriptionView(row.plan_name, row.status, aware(row.ends_at), left)


async def load(
    session: AsyncSession, phone: str, desk: DeskSettings, now: datetime
) -> engine.Context:
    role = await role_of(session, phone)
    student = await session.scalar(select(Student).where(Student.phone_number == phone))
    profile = (
        engine.Profile(student.name, student.level, student.email) if student is not None else None
    )
    used = student.free_credits_used if student is not None else 0
    faq_rows = await session.scalars(
        select(FaqEntry).where(FaqEntry.active.is_(True)).order_by(FaqEntry.position, FaqEntry.id)
    )
    ctx = engine.Context(
        now=now,
        catalog=await catalog.active_products(session),
        business_name=desk.business_name,
        currency=desk.currency,
        new_reference=new_reference("ORD"),
        role=role,
        profile=profile,
        subscription=subscription_view(await session.get(Subscription, phone)),
        free_credits_left=max(desk.free_credits - used, 0),
        subjects=desk.subjects,
        levels=desk.levels,
        plans=desk.plans,
        faq=tuple(engine.FaqItem(row.topic, row.answer) for row in faq_rows),
        new_homework_reference=new_reference("HW"),
        new_ticket_reference=new_reference("TCK"),
        idle_limit=timedelta(seconds=desk.idle_timeout_seconds),
    )
    if role == "tutor":
        return await _with_work(session, ctx, phone)
    if role == "agent":
        return await _with_tickets(session, ctx, phone)
    ticket = await session.scalar(
        select(SupportTicket)
        .where(SupportTicket.phone_number == phone, SupportTicket.status == "open")
        .order_by(SupportTicket.created_at.desc())
    )
    if ticket is None:
        return ctx
    return _replace(ctx, open_ticket=_ticket(ticket))


def _ticket(row: SupportTicket) -> engine.TicketItem:
    return engine.TicketItem(row.reference, row.description, row.status, row.agent_phone)


def _replace(ctx: engine.Context, **changes: object) -> engine.Context:
    from dataclasses import replace

    return replace(ctx, **changes)  # type: ignore[arg-type]


async def _with_work(session: AsyncSession, ctx: engine.Context, phone: str) -> engine.Context:
    rows = await session.execute(
        select(TutorAssignment.status, Homework)
        .join(Homework, Homework.id == TutorAssignment.homework_id)
        .join(Tutor, Tutor.id == TutorAssignment.tutor_id)
        .where(Tutor.phone_number == phone, TutorAssignment.status.in_(OPEN_WORK))
        .order_by(TutorAssignment.offered_at)
    )
    work = tuple(
        engine.WorkItem(hw.reference, hw.subject, hw.question, status) for status, hw in rows.all()
    )
    return _replace(ctx, work=work)


async def _with_tickets(session: AsyncSession, ctx: engine.Context, phone: str) -> engine.Context:
    rows = await session.scalars(
        select(SupportTicket)
        .where(
            SupportTicket.status == "open",
            or_(SupportTicket.agent_phone.is_(None), SupportTicket.agent_phone == phone),
        )
        .order_by(SupportTicket.created_at)
    )
    return _replace(ctx, tickets=tuple(_ticket(row) for row in rows))
