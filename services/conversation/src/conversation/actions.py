"""Carries out a turn's effects against the database, adding the events they cause."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from conversation import copy, effects, metrics, tutoring
from conversation.context import aware
from conversation.desk_settings import DeskSettings
from conversation.flows import homework as homework_flow
from conversation.models import (
    Agent,
    ConversationState,
    Homework,
    Order,
    Student,
    Subscription,
    SupportMessage,
    SupportTicket,
    Tutor,
    TutorAssignment,
    TutorSolution,
)
from conversation.outgoing import Outgoing, channel_of, derived_id
from shared.events import (
    Channel,
    ContactPreferenceChanged,
    MediaFetchRequested,
    NotificationKind,
    PaymentPurpose,
    PaymentRequested,
)

log = logging.getLogger(__name__)


class EffectRefusedError(Exception):
    """An effect that no longer applies (e.g. work reassigned meanwhile); logged, skipped."""


@dataclass
class Actor:
    """Who is writing and what the turn is in answer to."""

    phone: str
    channel: Channel
    now: datetime
    desk: DeskSettings


class Actions:
    def __init__(self, session: AsyncSession, actor: Actor, out: Outgoing) -> None:
        self.session = session
        self.actor = actor
        self.out = out
        self.media_request: str | None = None

    async def apply(self, effect: effects.Effect) -> None:
        method = getattr(self, "_" + type(effect).__name__)
        try:
            await method(effect)
        except EffectRefusedError as exc:
            log.warning("effect.refused", extra={"effect": type(effect).__name__, "why": str(exc)})

    # --- everyone ------------------------------------------------------------------

    async def _ChangeContactPreference(self, effect: effects.ChangeContactPreference) -> None:
        self.out.event(
            ContactPreferenceChanged(phone_number=self.actor.phone, opted_out=effect.opted_out),
            key=self.actor.phone,
        )

    async def _FetchMedia(self, effect: effects.FetchMedia) -> None:
        request_id = derived_id(self.out.source, "media")
        self.media_request = str(request_id)
        self.out.event(
            MediaFetchRequested(
                request_id=request_id,
                phone_number=self.actor.phone,
                channel=self.actor.channel,
                media=effect.media,
            ),
            key=self.actor.phone,
        )

    # --- students -------------------------------------------------------------------

    async def _student(self) -> Student | None:
        return await self.session.scalar(
            select(Student).where(Student.phone_number == self.actor.phone)
        )

    async def _SaveProfile(self, effect: effects.SaveProfile) -> None:
        student = await self._student()
        if student is None:
            student = Student(
                phone_number=self.actor.phone, free_credits_used=0, created_at=self.actor.now
            )
            self.session.add(student)
        student.name, student.level, student.email = effect.name, effect.level, effect.email
        log.info("student.registered")

    async def _SubmitHomework(self, effect: effects.SubmitHomework) -> None:
        now = self.actor.now
        homework = Homework(
            reference=effect.reference,
            phone_number=self.actor.phone,
            subject=effect.subject,
            question=effect.question,
            note=effect.note,
            photo=effect.photo.model_dump(mode="json") if effect.photo else None,
            status="submitted",
            paid_with=effect.paid_with,
            created_at=now,
            updated_at=now,
        )
        self.session.add(homework)
        if effect.paid_with == "subscription":
            subscription = await self.session.get(Subscription, self.actor.phone)
            if subscription is not None:
                subscription.credits_used += 1
        else:
            student = await self._student()
            if student is not None:
                student.free_credits_used += 1
        metrics.HOMEWORK.labels("submitted").inc()
        log.info("homework.submitted", extra={"reference": homework.reference})
        await self.session.flush()
        await tutoring.offer(
            self.session,
            homework,
            self.out,
            now,
            reassign_after=timedelta(seconds=self.actor.desk.reassign_after_seconds),
        )

    async def _RateHomework(self, effect: effects.RateHomework) -> None:
        homework = await self.session.scalar(
            select(Homework).where(
                Homework.reference == effect.reference, Homework.phone_number == self.actor.phone
            )
        )
        if homework is None:
            raise EffectRefusedError("no such homework for this student")
        homework.rating = effect.rating
        homework.status = "rated"
        homework.updated_at = self.actor.now
        metrics.HOMEWORK.labels("rated").inc()

    async def _RequestPlanPayment(self, effect: effects.RequestPlanPayment) -> None:
        student = await self._student()
        self.out.event(
            PaymentRequested(
                request_id=derived_id(self.out.source, "payment"),
                purpose=PaymentPurpose.PLAN,
                phone_number=self.actor.phone,
                email=student.email if student else None,
                plan_code=effect.plan_code,
            ),
            key=self.actor.phone,
        )

    async def _RetryOrderPayment(self, effect: effects.RetryOrderPayment) -> None:
        order = await self.session.scalar(
            select(Order).where(
                Order.reference == effect.order_reference,
                Order.phone_number == self.actor.phone,
            )
        )
        if order is None or order.status not in ("awaiting_payment", "payment_failed"):
            raise EffectRefusedError("no unpaid order with that reference for this number")
        order.status = "awaiting_payment"
        student = await self._student()
        self.out.event(
            PaymentRequested(
                request_id=derived_id(self.out.source, "payment"),
                purpose=PaymentPurpose.ORDER,
                phone_number=self.actor.phone,
                email=student.email if student else None,
                order_id=order.id,
                order_reference=order.reference,
                amount_minor=order.total_minor,
                currency=order.currency,
            ),
            key=self.actor.phone,
        )

    async def _ticket(self, reference: str) -> SupportTicket:
        ticket = await self.session.scalar(
            select(SupportTicket).where(SupportTicket.reference == reference).with_for_update()
        )
        if ticket is None:
            raise EffectRefusedError("no such ticket")
        return ticket

    async def _who(self, phone: str) -> str:
        student = await self.session.scalar(select(Student).where(Student.phone_number == phone))
        return student.name if student is not None else "a student"

    async def _OpenTicket(self, effect: effects.OpenTicket) -> None:
        now = self.actor.now
        agent = await self._agent_on_duty()
        ticket = SupportTicket(
            reference=effect.reference,
            phone_number=self.actor.phone,
            channel=self.actor.channel.value,
            description=effect.description,
            status="open",
            agent_phone=agent.phone_number if agent else None,
            created_at=now,
        )
        self.session.add(ticket)
        await self.session.flush()
        self.session.add(
            SupportMessage(
                ticket_id=ticket.id, sender="student", text=effect.description, created_at=now
            )
        )
        metrics.TICKETS_OPEN.inc()
        log.info("ticket.opened", extra={"reference": ticket.reference})
        if agent is not None:
            who = await self._who(self.actor.phone)
            await self._to(
                agent.phone_number,
                copy.new_ticket(ticket.reference, who, effect.description),
                params=(ticket.reference, who),
            )

    async def _agent_on_duty(self) -> Agent | None:
        agents = (await self.session.scalars(select(Agent).where(Agent.on_duty.is_(True)))).all()
        if not agents:
            return None
        loads = dict(
            (
                await self.session.execute(
                    select(SupportTicket.agent_phone, func.count())
                    .where(SupportTicket.status == "open")
                    .group_by(SupportTicket.agent_phone)
                )
            ).all()
        )
        return min(agents, key=lambda a: (loads.get(a.phone_number, 0), a.created_at))

    async def _to(
        self,
        phone: str,
        text: str,
        *,
        kind: NotificationKind = NotificationKind.SUPPORT_MESSAGE,
        params: tuple[str, ...] = (),
        **extra: object,
    ) -> None:
        self.out.message(
            phone,
            await channel_of(self.session, phone),
            text,
            kind=kind,
            template_params=params,
            **extra,  # type: ignore[arg-type]
        )

    async def _MessageAgent(self, effect: effects.MessageAgent) -> None:
        ticket = await self._ticket(effect.ticket_reference)
        self.session.add(
            SupportMessage(
                ticket_id=ticket.id, sender="student", text=effect.text, created_at=self.actor.now
            )
        )
        if ticket.agent_phone:
            who = await self._who(ticket.phone_number)
            await self._to(
                ticket.agent_phone,
                copy.student_line(ticket.reference, who, effect.text),
                params=(ticket.reference, effect.text),
            )

    async def _CloseTicket(self, effect: effects.CloseTicket) -> None:
        ticket = await self._ticket(effect.ticket_reference)
        if ticket.status != "open":
            raise EffectRefusedError("ticket already closed")
        ticket.status = "closed"
        ticket.closed_at = self.actor.now
        metrics.TICKETS_OPEN.dec()
        log.info("ticket.closed", extra={"reference": ticket.reference, "by": effect.by})
        if effect.by == "student" and ticket.agent_phone:
            await self._to(
                ticket.agent_phone,
                copy.ticket_closed_for_agent(ticket.reference),
                params=(ticket.reference,),
            )
        elif effect.by == "agent":
            await self._to(
                ticket.phone_number,
                copy.ticket_closed_for_student(ticket.reference),
                params=(ticket.reference,),
            )

    # --- agents -----------------------------------------------------------------------

    async def _PickTicket(self, effect: effects.PickTicket) -> None:
        ticket = await self._ticket(effect.ticket_reference)
        ticket.agent_phone = self.actor.phone

    async def _MessageStudent(self, effect: effects.MessageStudent) -> None:
        ticket = await self._ticket(effect.ticket_reference)
        if ticket.status != "open":
            raise EffectRefusedError("ticket closed")
        self.session.add(
            SupportMessage(
                ticket_id=ticket.id, sender="agent", text=effect.text, created_at=self.actor.now
            )
        )
        await self._to(
            ticket.phone_number,
            copy.agent_line(effect.text),
            params=(ticket.reference, effect.text),
        )

    # --- tutors -----------------------------------------------------------------------

    async def _assignment(self, reference: str, statuses: tuple[str, ...]) -> TutorAssignment:
        assignment = await self.session.scalar(
            select(TutorAssignment)
            .join(Homework, Homework.id == TutorAssignment.homework_id)
            .join(Tutor, Tutor.id == TutorAssignment.tutor_id)
            .where(
                Homework.reference == reference,
                Tutor.phone_number == self.actor.phone,
                TutorAssignment.status.in_(statuses),
            )
            .with_for_update(of=TutorAssignment)
        )
        if assignment is None:
            raise EffectRefusedError("no such open assignment for this tutor")
        return assignment

    async def _AcceptWork(self, effect: effects.AcceptWork) -> None:
        assignment = await self._assignment(effect.reference, ("offered",))
        assignment.status = "accepted"
        assignment.accepted_at = self.actor.now
        homework = await self.session.get(Homework, assignment.homework_id)
        assert homework is not None
        homework.status = "accepted"
        homework.updated_at = self.actor.now
        metrics.HOMEWORK.labels("accepted").inc()
        metrics.ASSIGNMENT_WAIT.observe(
            (self.actor.now - aware(assignment.offered_at)).total_seconds()
        )

    async def _SendSolution(self, effect: effects.SendSolution) -> None:
        assignment = await self._assignment(effect.reference, ("offered", "accepted"))
        now = self.actor.now
        assignment.status = "solved"
        assignment.closed_at = now
        assignment.accepted_at = assignment.accepted_at or now
        homework = await self.session.get(Homework, assignment.homework_id)
        assert homework is not None
        homework.status = "solved"
        homework.updated_at = now
        self.session.add(
            TutorSolution(
                homework_id=homework.id,
                tutor_id=assignment.tutor_id,
                text=effect.text,
                photo=effect.photo.model_dump(mode="json") if effect.photo else None,
                created_at=now,
            )
        )
        metrics.HOMEWORK.labels("solved").inc()
        await deliver_solution(self.session, self.out, homework, effect.text, effect.photo, now)


async def deliver_solution(
    session: AsyncSession,
    out: Outgoing,
    homework: Homework,
    text: str,
    photo: object,
    now: datetime,
) -> None:
    """Send the solution to the student and, if they are idle at the menu, ask for a rating."""
    from shared.events import MediaRef

    media = (photo,) if isinstance(photo, MediaRef) else ()
    student = homework.phone_number
    out.message(
        student,
        await channel_of(session, student),
        copy.solution_ready(homework.reference, text),
        homework_flow.RATING_OPTIONS,
        media=media,
        kind=NotificationKind.SOLUTION_READY,
        template_params=(homework.reference,),
    )
    row = await session.get(ConversationState, student, with_for_update=True)
    if row is not None and row.state == "menu":
        row.state = homework_flow.RATING
        row.data = {
            "homework": homework.reference,
            "offered": [o.id for o in homework_flow.RATING_OPTIONS],
            "options": [[o.id, o.title] for o in homework_flow.RATING_OPTIONS],
        }
        row.last_inbound_at = row.updated_at = now
