"""Sends requested messages at most once each and records what providers report."""

from __future__ import annotations

import asyncio
import enum
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier import delivery, metrics
from notifier.models import DeliveryStatus, OutboundMessage
from notifier.rendering import render_for_twilio
from notifier.twilio_sender import (
    CHANNEL,
    Accepted,
    PermanentSendError,
    TransientSendError,
    TwilioSender,
)
from shared.events import DeliveryStatusReceived, OutboundMessageRequested
from shared.messaging import PermanentFailure

log = logging.getLogger(__name__)


def part_id(message_id: uuid.UUID, part: int) -> uuid.UUID:
    """The first part keeps the requested id; later parts get stable ids derived from it."""
    return message_id if part == 0 else uuid.uuid5(message_id, f"part-{part}")


class NotResendableError(Exception):
    """Only a message that failed may be sent again."""

    def __init__(self, status: str) -> None:
        super().__init__(f"only failed messages can be resent; this one is {status}")
        self.status = status


class _Turn(enum.Enum):
    SEND = "send"  # ours to send now
    DONE = "done"  # the provider has it already
    REFUSED = "refused"  # failed for good; the parts after it are not sent
    WAIT = "wait"  # another handling is sending it right now


class NotifierHandler:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sender: TwilioSender,
        *,
        give_up_after: int = 5,
        lease: timedelta = timedelta(seconds=120),
        lease_poll_seconds: float = 0.2,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sessions = sessions
        self.sender = sender
        # Handlings that met only transient errors before the message counts as failed.
        self.give_up_after = give_up_after
        self.lease = lease
        self.lease_poll_seconds = lease_poll_seconds
        self.clock = clock

    # --- sending ---------------------------------------------------------------------

    async def send_requested(self, request: OutboundMessageRequested) -> None:
        parts = render_for_twilio(request.text, request.options)
        for index, body in enumerate(parts):
            row_id = part_id(request.message_id, index)
            await self._record(request, row_id, index, body)
            turn = await self._take_turn(row_id)
            if turn is _Turn.DONE:
                continue
            if turn is _Turn.REFUSED:
                break  # the rest would make no sense without this part
            media = [m.url for m in request.media] if index == 0 else []
            if not await self._send_taken(row_id, request.to_number, body, media):
                break

    async def resend(self, row_id: uuid.UUID) -> None:
        """Send a failed message again (admin). Raises LookupError, NotResendableError or
        TransientSendError; a refusal is recorded on the row like any other."""
        async with self.sessions() as session, session.begin():
            row = await session.get(OutboundMessage, row_id, with_for_update=True)
            if row is None:
                raise LookupError(row_id)
            if row.status != delivery.FAILED:
                raise NotResendableError(row.status)
            # The old provider id's statuses stay in the history table; the new send
            # gets its own.
            row.provider_message_id = row.error_code = row.error_message = None
            self._start_submitting(row)
            to_number, body = row.to_number, row.body
        await self._send_taken(row_id, to_number, body, [], redeliverable=False)

    async def _record(
        self, request: OutboundMessageRequested, row_id: uuid.UUID, index: int, body: str
    ) -> None:
        """Commit the row before anything is sent; a duplicate request finds it there."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            await session.execute(
                insert(OutboundMessage)
                .values(
                    id=row_id,
                    request_id=request.message_id,
                    part=index,
                    to_number=request.to_number,
                    channel=request.channel.value,
                    priority=request.priority.value,
                    body=body,
                    options=[o.model_dump() for o in request.options],
                    status=delivery.PENDING,
                    attempts=0,
                    in_reply_to=request.in_reply_to,
                    created_at=now,
                    updated_at=now,
                )
                # Two replicas may get the same request at once; one insert is enough.
                .on_conflict_do_nothing(index_elements=[OutboundMessage.id])
            )

    async def _take_turn(self, row_id: uuid.UUID) -> _Turn:
        """Mark the row as being sent by us, unless it is sent, refused, or being sent."""
        while True:
            async with self.sessions() as session, session.begin():
                row = await session.get(OutboundMessage, row_id, with_for_update=True)
                assert row is not None, "recorded before"
                turn = self._turn_for(row)
                if turn is _Turn.SEND:
                    self._start_submitting(row)
            if turn is not _Turn.WAIT:
                if turn is not _Turn.SEND:
                    log.info(
                        "message.already_handled",
                        extra={"message_id": str(row_id), "turn": turn.value},
                    )
                return turn
            await asyncio.sleep(self.lease_poll_seconds)

    def _turn_for(self, row: OutboundMessage) -> _Turn:
        if row.provider_message_id:
            return _Turn.DONE
        if row.status == delivery.FAILED:
            return _Turn.REFUSED
        if row.status == delivery.SUBMITTING:
            if self.clock() - _aware(row.updated_at) < self.lease:
                return _Turn.WAIT
            # Its sender died mid-call: the provider may or may not have it. Sending
            # again risks a duplicate, but never sending loses the message for good.
            log.warning("message.send_unconfirmed", extra={"message_id": str(row.id)})
        return _Turn.SEND

    def _start_submitting(self, row: OutboundMessage) -> None:
        row.status = delivery.SUBMITTING
        row.attempts += 1
        row.updated_at = self.clock()

    async def _send_taken(
        self,
        row_id: uuid.UUID,
        to_number: str,
        body: str,
        media: list[str],
        *,
        redeliverable: bool = True,
    ) -> bool:
        """Send a row we hold; True when the provider accepted it, False when it refused."""
        try:
            accepted = await self.sender.send(to_number, body, media)
        except PermanentSendError as error:
            await self._record_failure(row_id, error.code, str(error), final=True)
            metrics.SENDS.labels(CHANNEL, "failed").inc()
            log.error("message.refused", extra={"message_id": str(row_id), "code": error.code})
            return False
        except TransientSendError as error:
            attempts = await self._record_failure(
                row_id, error.code, str(error), final=not redeliverable
            )
            if redeliverable and attempts >= self.give_up_after:
                await self._record_failure(row_id, error.code, str(error), final=True)
                metrics.SENDS.labels(CHANNEL, "failed").inc()
                log.error(
                    "message.given_up",
                    extra={"message_id": str(row_id), "code": error.code, "attempts": attempts},
                )
                raise PermanentFailure(
                    f"provider kept answering {error.code} after {attempts} handlings"
                ) from error
            metrics.SENDS.labels(CHANNEL, "deferred").inc()
            log.warning(
                "message.deferred",
                extra={"message_id": str(row_id), "code": error.code, "attempts": attempts},
            )
            raise
        await self._record_accepted(row_id, accepted)
        metrics.SENDS.labels(CHANNEL, "sent").inc()
        log.info("message.sent", extra={"message_id": str(row_id)})
        return True

    async def _record_accepted(self, row_id: uuid.UUID, accepted: Accepted) -> None:
        async with self.sessions() as session, session.begin():
            row = await session.get(OutboundMessage, row_id, with_for_update=True)
            assert row is not None
            row.provider_message_id = accepted.provider_message_id
            row.status = delivery.advance(delivery.SUBMITTING, accepted.status)
            row.error_code = row.error_message = None
            row.sent_at = row.updated_at = self.clock()
        # A fast provider may have reported statuses before this commit.
        await self._apply_history(accepted.provider_message_id)

    async def _record_failure(
        self, row_id: uuid.UUID, code: str, reason: str, *, final: bool
    ) -> int:
        async with self.sessions() as session, session.begin():
            row = await session.get(OutboundMessage, row_id, with_for_update=True)
            assert row is not None
            row.status = delivery.FAILED if final else delivery.PENDING
            row.error_code, row.error_message = code, reason[:500]
            row.updated_at = self.clock()
            return row.attempts

    # --- statuses --------------------------------------------------------------------

    async def record_status(self, report: DeliveryStatusReceived) -> None:
        metrics.DELIVERY_STATUSES.labels(report.channel.value, report.status).inc()
        async with self.sessions() as session, session.begin():
            session.add(
                DeliveryStatus(
                    provider_message_id=report.provider_message_id,
                    status=report.status,
                    error_code=report.error_code,
                    error_message=report.error_message,
                    received_at=self.clock(),
                )
            )
        await self._apply_history(report.provider_message_id)

    async def _apply_history(self, provider_message_id: str) -> None:
        """Bring the message up to the best status in its history.

        Both the sender (after committing the id) and every status (after committing the
        history row) call this in a transaction of its own, so whichever commits second
        sees the other's row: a status that raced the send is never lost.
        """
        async with self.sessions() as session, session.begin():
            row = await session.scalar(
                select(OutboundMessage)
                .where(OutboundMessage.provider_message_id == provider_message_id)
                .with_for_update()
            )
            if row is None:
                return  # kept in the history; applied when the send is recorded
            history = (
                await session.scalars(
                    select(DeliveryStatus)
                    .where(DeliveryStatus.provider_message_id == provider_message_id)
                    .order_by(DeliveryStatus.id)
                )
            ).all()
            status = delivery.best((h.status for h in history), start=row.status)
            if status == row.status:
                return
            row.status, row.updated_at = status, self.clock()
            if status in delivery.FAILURES:
                reason = next(h for h in reversed(history) if h.status == status)
                row.error_code, row.error_message = reason.error_code, reason.error_message


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
