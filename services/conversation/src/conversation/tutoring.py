"""The tutor loop's bookkeeping: offer homework to the least-loaded active tutor for its
subject, tell them on WhatsApp, and reassign offers not accepted in time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversation import copy, desk_settings, metrics
from conversation.context import OPEN_WORK, aware
from conversation.models import Homework, Student, SupportTicket, Tutor, TutorAssignment
from conversation.outgoing import Outgoing, channel_of
from conversation.settings import ConversationSettings
from shared.events import MediaRef, NotificationKind
from shared.messaging import BrokerUnavailableError
from shared.messaging.outbox import Outbox

log = logging.getLogger(__name__)


async def least_loaded_tutor(
    session: AsyncSession, subject: str, exclude: set[uuid.UUID]
) -> Tutor | None:
    tutors = (await session.scalars(select(Tutor).where(Tutor.active.is_(True)))).all()
    able = [
        t
        for t in tutors
        if subject.lower() in {s.lower() for s in t.subjects} and t.id not in exclude
    ]
    if not able:
        return None
    loads = dict(
        (
            await session.execute(
                select(TutorAssignment.tutor_id, func.count())
                .where(TutorAssignment.status.in_(OPEN_WORK))
                .group_by(TutorAssignment.tutor_id)
            )
        ).all()
    )
    return min(able, key=lambda t: (loads.get(t.id, 0), t.created_at, str(t.id)))


async def offer(
    session: AsyncSession,
    homework: Homework,
    out: Outgoing,
    now: datetime,
    *,
    reassign_after: timedelta,
    exclude: set[uuid.UUID] | None = None,
) -> Tutor | None:
    """Offer the homework to the best tutor, or leave it waiting when there is none."""
    tutor = await least_loaded_tutor(session, homework.subject, exclude or set())
    if tutor is None:
        homework.status = "waiting"
        metrics.HOMEWORK.labels("waiting").inc()
        log.info("homework.waiting_for_tutor", extra={"reference": homework.reference})
        return None
    session.add(
        TutorAssignment(
            homework_id=homework.id, tutor_id=tutor.id, status="offered", offered_at=now
        )
    )
    homework.status = "assigned"
    homework.updated_at = now
    metrics.HOMEWORK.labels("assigned").inc()
    student = await session.scalar(
        select(Student).where(Student.phone_number == homework.phone_number)
    )
    level = student.level if student is not None else "-"
    minutes = max(int(reassign_after.total_seconds() // 60), 1)
    text = copy.homework_offered(
        homework.reference, homework.subject, level, homework.question, homework.note, minutes
    )
    media = (MediaRef.model_validate(homework.photo),) if homework.photo else ()
    out.message(
        tutor.phone_number,
        await channel_of(session, tutor.phone_number),
        text,
        media=media,
        kind=NotificationKind.HOMEWORK_ASSIGNED,
        template_params=(homework.reference, homework.subject),
    )
    log.info("homework.offered", extra={"reference": homework.reference})
    return tutor


async def reassign_overdue(
    session: AsyncSession, now: datetime, reassign_after: timedelta, trace_id: str
) -> Outgoing:
    """Expire offers older than ``reassign_after`` and offer their homework again; also
    offer homework that found no tutor before. Returns the messages to send."""
    out = Outgoing(f"reassign:{now.isoformat()}", trace_id)
    locking = session.get_bind().dialect.name == "postgresql"
    overdue = select(TutorAssignment).where(
        TutorAssignment.status == "offered", TutorAssignment.offered_at < now - reassign_after
    )
    if locking:
        overdue = overdue.with_for_update(skip_locked=True)
    for assignment in (await session.scalars(overdue)).all():
        assignment.status = "expired"
        assignment.closed_at = now
        homework = await session.get(Homework, assignment.homework_id)
        tutor = await session.get(Tutor, assignment.tutor_id)
        if homework is None or tutor is None:
            continue
        out.message(
            tutor.phone_number,
            await channel_of(session, tutor.phone_number),
            copy.homework_taken_away(homework.reference),
        )
        metrics.HOMEWORK.labels("reassigned").inc()
        tried = set(
            (
                await session.scalars(
                    select(TutorAssignment.tutor_id).where(
                        TutorAssignment.homework_id == homework.id
                    )
                )
            ).all()
        )
        if await offer(session, homework, out, now, reassign_after=reassign_after, exclude=tried):
            continue
        # Everyone able has had it: offer it again to anyone but the one who let it lapse.
        await offer(session, homework, out, now, reassign_after=reassign_after, exclude={tutor.id})
    waiting = select(Homework).where(Homework.status == "waiting")
    if locking:
        waiting = waiting.with_for_update(skip_locked=True)
    for homework in (await session.scalars(waiting)).all():
        if homework.updated_at is not None and now - aware(homework.updated_at) < reassign_after:
            continue
        homework.updated_at = now
        await offer(session, homework, out, now, reassign_after=reassign_after)
    open_tickets = await session.scalar(
        select(func.count()).select_from(SupportTicket).where(SupportTicket.status == "open")
    )
    metrics.TICKETS_OPEN.set(open_tickets or 0)
    return out


async def run_reassignment_loop(
    settings: ConversationSettings,
    sessions: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    stop: asyncio.Event,
    clock: Callable[[], datetime],
) -> None:
    """Every few seconds, reassign overdue offers; runs until ``stop`` is set."""
    while not stop.is_set():
        try:
            async with sessions() as session, session.begin():
                desk = await desk_settings.load(session, settings)
                out = await reassign_overdue(
                    session,
                    clock(),
                    timedelta(seconds=desk.reassign_after_seconds),
                    trace_id="reassign",
                )
                ids = [await outbox.add(session, event) for event in out.events]
            if ids:
                try:
                    await outbox.flush(ids)
                except BrokerUnavailableError:
                    log.warning("outbox.flush_deferred_to_relay", extra={"events": len(ids)})
        except Exception:
            log.exception("reassignment.failed")
            metrics.REASSIGNMENT_FAILURES.inc()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.reassign_check_seconds)
