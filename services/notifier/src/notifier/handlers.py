"""Sends requested messages at most once each, as their channel and the 24-hour window
allow; records what providers report; keeps each number's window and opt-out; fetches
inbound media for the other services."""

from __future__ import annotations

import asyncio
import enum
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import bindparam, case, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier import delivery, metrics
from notifier.media_fetch import MediaFetcher
from notifier.models import Contact, DeliveryStatus, OutboundMessage, inbox
from notifier.outbound_media import OutboundMedia
from notifier.outbound_plan import Part, plan
from notifier.pacing import BULK, REPLY, SendPacer
from notifier.settings import TemplateConfig
from notifier.twilio_sender import (
    Accepted,
    PermanentSendError,
    TransientSendError,
    UnconfirmedSendError,
)
from shared.db import single_statement
from shared.events import (
    Channel,
    ContactPreferenceChanged,
    DeliveryStatusReceived,
    Envelope,
    InboundMessageReceived,
    MediaFetchRequested,
    MessagePriority,
    NotificationKind,
    OutboundMessageRequested,
)
from shared.messaging import PermanentFailure
from shared.messaging.dispatch import is_outage
from shared.messaging.inbox import claim
from shared.messaging.outbox import Outbox

log = logging.getLogger(__name__)


# Statuses counted as a message's outcome.
FINAL = frozenset({"delivered", "read", *delivery.FAILURES})

# The status path's statements, built once: three statuses come for every message sent,
# and building a statement and its cache key costs as much as running it.
_messages = OutboundMessage.__table__
_ADD_STATUS = insert(DeliveryStatus.__table__)
# The status (and its updated_at, and for a failure its error) where it ranks higher, in
# SQL as delivery.rank ranks it; the message's channel where it did.
_ADVANCE = (
    update(_messages)
    .where(
        _messages.c.provider_message_id == bindparam("reported_for"),
        case(
            {state: delivery.rank(state) for state in delivery.STATES},
            value=_messages.c.status,
            else_=-1,
        )
        < bindparam("reported_rank"),
    )
    .returning(_messages.c.channel)
)


def part_id(message_id: uuid.UUID, part: int) -> uuid.UUID:
    """The first part keeps the requested id; later parts get stable ids derived from it."""
    return message_id if part == 0 else uuid.uuid5(message_id, f"part-{part}")


class NotResendableError(Exception):
    """Only a message that failed or was held may be sent again."""

    def __init__(self, status: str) -> None:
        super().__init__(f"only failed or held messages can be resent; this one is {status}")
        self.status = status


class ChannelSender(Protocol):
    channel: Channel

    async def send(self, to_number: str, payload: dict[str, Any]) -> Accepted: ...

    async def find_accepted(
        self, to_number: str, payload: dict[str, Any], since: datetime
    ) -> list[Accepted]: ...


class ReadMarker(Protocol):
    async def mark_read(self, provider_message_id: str) -> bool: ...


Templates = Callable[[NotificationKind, Channel], TemplateConfig | None]


@dataclass
class Wiring:
    """What the handler needs besides its database: providers, policy and helpers."""

    senders: Mapping[Channel, ChannelSender]
    pacer: SendPacer
    media: OutboundMedia
    templates: Templates = lambda kind, channel: None
    window: timedelta = timedelta(hours=24)
    read_marker: ReadMarker | None = None
    fetcher: MediaFetcher | None = None
    outbox: Outbox | None = None
    counts: dict[str, list[int]] = field(default_factory=dict)  # channel -> [sent, failed]


class _Turn(enum.Enum):
    SEND = "send"  # ours to send now
    DONE = "done"  # the provider has it already
    REFUSED = "refused"  # failed for good; the parts after it are not sent
    WAIT = "wait"  # another handling is sending it right now
    UNCONFIRMED = "unconfirmed"  # its sender died mid-call: ask the provider


class NotifierHandler:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        wiring: Wiring,
        *,
        give_up_after: int = 5,
        lease: timedelta = timedelta(seconds=120),
        lease_poll_seconds: float = 0.2,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sessions = sessions
        self.wiring = wiring
        # Handlings that met only transient errors before the message counts as failed.
        self.give_up_after = give_up_after
        self.lease = lease
        self.lease_poll_seconds = lease_poll_seconds
        self.clock = clock

    # --- sending ---------------------------------------------------------------------

    async def send_requested(self, request: OutboundMessageRequested) -> None:
        channel = request.channel.value
        contact = await self._contact(request.to_number)
        now = self.clock()
        last = _aware(contact.last_inbound_at) if contact and contact.last_inbound_at else None
        decided = plan(
            request,
            opted_out=bool(contact and contact.opted_out),
            window_open=last is not None and now - last < self.wiring.window,
            template=self.wiring.templates(request.kind, request.channel),
        )
        if decided.status in delivery.NOT_SENT:
            for index, part in enumerate(decided.parts):
                row_id = part_id(request.message_id, index)
                await self._record(request, row_id, index, part, decided.status, decided.reason)
            if decided.status == delivery.HELD:
                metrics.HELD.labels(channel, request.kind.value).inc()
            else:
                metrics.SUPPRESSED.labels(channel).inc()
            metrics.SENDS.labels(channel, decided.status).inc()
            log.info(
                "message.not_sent",
                extra={"message_id": str(request.message_id), "status": decided.status},
            )
            return
        if decided.template is not None:
            metrics.TEMPLATE_FALLBACKS.labels(channel, request.kind.value).inc()
            log.info(
                "message.as_template",
                extra={"message_id": str(request.message_id), "kind": request.kind.value},
            )
        lane = BULK if request.priority is MessagePriority.BULK else REPLY
        for index, part in enumerate(decided.parts):
            row_id = part_id(request.message_id, index)
            if await self._record(
                request, row_id, index, part, delivery.SUBMITTING, template=decided.template
            ):
                # A row this handling inserted is ours to send: recorded as being sent.
                turn, payload = _Turn.SEND, dict(part.payload)
            else:
                turn, payload = await self._take_turn(row_id)
            if turn is _Turn.DONE:
                continue
            if turn is _Turn.REFUSED:
                break  # the rest would make no sense without this part
            sent = await self._send_taken(
                row_id, request.channel, request.to_number, payload, lane=lane
            )
            if not sent:
                break

    async def resend(self, row_id: uuid.UUID) -> None:
        """Send a failed or held message again (admin). Raises LookupError,
        NotResendableError or TransientSendError; a refusal is recorded on the row."""
        async with self.sessions() as session, session.begin():
            row = await session.get(OutboundMessage, row_id, with_for_update=True)
            if row is None:
                raise LookupError(row_id)
            if row.status != delivery.FAILED and row.status != delivery.HELD:
                raise NotResendableError(row.status)
            # The old provider id's statuses stay in the history table; the new send
            # gets its own.
            row.provider_message_id = row.error_code = row.error_message = None
            self._start_submitting(row)
            to_number, channel, payload = row.to_number, Channel(row.channel), _payload(row)
        await self._send_taken(row_id, channel, to_number, payload, lane=REPLY, redeliverable=False)

    async def _record(
        self,
        request: OutboundMessageRequested,
        row_id: uuid.UUID,
        index: int,
        part: Part,
        status: str = delivery.PENDING,
        reason: str | None = None,
        template: str | None = None,
    ) -> bool:
        """Commit the row before anything is sent; a duplicate request finds it there.
        True when this call inserted it, as ``status`` (submitting: as one attempt)."""
        now = self.clock()
        async with single_statement(self.sessions) as session:
            inserted = await session.execute(
                _insert(session)(OutboundMessage)
                .values(
                    id=row_id,
                    request_id=request.message_id,
                    part=index,
                    to_number=request.to_number,
                    channel=request.channel.value,
                    priority=request.priority.value,
                    kind=request.kind.value,
                    body=part.body,
                    options=[o.model_dump() for o in request.options],
                    payload=part.payload,
                    template=template,
                    status=status,
                    error_code=reason,
                    attempts=1 if status == delivery.SUBMITTING else 0,
                    in_reply_to=request.in_reply_to,
                    created_at=now,
                    updated_at=now,
                )
                # Two replicas may get the same request at once; one insert is enough.
                .on_conflict_do_nothing(index_elements=[OutboundMessage.id])
                .returning(OutboundMessage.id)
            )
            return inserted.first() is not None

    async def _take_turn(self, row_id: uuid.UUID) -> tuple[_Turn, dict[str, Any]]:
        """Mark the row as being sent by us, unless it is sent, refused, or being sent.
        The payload comes from the row: what the first handling decided is what goes."""
        while True:
            async with self.sessions() as session, session.begin():
                row = await session.get(OutboundMessage, row_id, with_for_update=True)
                assert row is not None, "recorded before"
                turn = self._turn_for(row)
                if turn is _Turn.SEND:
                    self._start_submitting(row)
                payload = _payload(row)
                channel, to_number, since = Channel(row.channel), row.to_number, row.updated_at
            if turn is _Turn.UNCONFIRMED:
                turn = await self._settle_unconfirmed(row_id, channel, to_number, payload, since)
                if turn is _Turn.WAIT:
                    continue  # the row moved meanwhile: look again
            if turn is not _Turn.WAIT:
                if turn is not _Turn.SEND:
                    log.info(
                        "message.already_handled",
                        extra={"message_id": str(row_id), "turn": turn.value},
                    )
                return turn, payload
            await asyncio.sleep(self.lease_poll_seconds)

    def _turn_for(self, row: OutboundMessage) -> _Turn:
        if row.provider_message_id:
            return _Turn.DONE
        if row.status == delivery.FAILED or row.status in delivery.NOT_SENT:
            return _Turn.REFUSED
        if row.status == delivery.SUBMITTING:
            if self.clock() - _aware(row.updated_at) < self.lease:
                return _Turn.WAIT
            return _Turn.UNCONFIRMED
        return _Turn.SEND

    async def _settle_unconfirmed(
        self,
        row_id: uuid.UUID,
        channel: Channel,
        to_number: str,
        payload: dict[str, Any],
        since: datetime,
    ) -> _Turn:
        """The provider may or may not have a send whose sender died. Where the provider
        can be asked, a message it accepted with this body since then, that no other row
        claims, is this one; otherwise it is sent again, risking a duplicate rather than
        losing the message for good."""
        sender = self.wiring.senders.get(channel)
        found = (
            [] if sender is None else await sender.find_accepted(to_number, payload, _aware(since))
        )
        adopted: Accepted | None = None
        async with self.sessions() as session, session.begin():
            row = await session.get(OutboundMessage, row_id, with_for_update=True)
            assert row is not None
            if row.status != delivery.SUBMITTING or _aware(row.updated_at) != _aware(since):
                return _Turn.WAIT
            ids = [a.provider_message_id for a in found]
            claimed = set(
                await session.scalars(
                    select(OutboundMessage.provider_message_id).where(
                        OutboundMessage.provider_message_id.in_(ids)
                    )
                )
            )
            adopted = next((a for a in found if a.provider_message_id not in claimed), None)
            if adopted is None:
                log.warning("message.send_unconfirmed", extra={"message_id": str(row_id)})
                self._start_submitting(row)
                return _Turn.SEND
            row.provider_message_id = adopted.provider_message_id
            row.status = delivery.advance(delivery.SUBMITTING, adopted.status)
            row.error_code = row.error_message = None
            row.sent_at = row.updated_at = self.clock()
        log.info("message.send_recovered", extra={"message_id": str(row_id)})
        self._count(channel.value, sent=True)
        await self._apply_history(adopted.provider_message_id)
        return _Turn.DONE

    def _start_submitting(self, row: OutboundMessage) -> None:
        row.status = delivery.SUBMITTING
        row.attempts += 1
        row.updated_at = self.clock()

    async def _send_taken(
        self,
        row_id: uuid.UUID,
        channel: Channel,
        to_number: str,
        payload: dict[str, Any],
        *,
        lane: int,
        redeliverable: bool = True,
    ) -> bool:
        """Send a row we hold; True when the provider accepted it, False when it refused."""
        label = channel.value
        try:
            sender = self.wiring.senders.get(channel)
            if sender is None:
                raise PermanentSendError("channel_not_configured", f"no {label} sender configured")
            resolved = self.wiring.media.resolve(channel, payload)
            await self.wiring.pacer.wait_turn(label, to_number, lane)
            accepted = await sender.send(to_number, resolved)
        except PermanentSendError as error:
            await self._record_failure(row_id, error.code, str(error), final=True)
            self._count(label, sent=False)
            log.error("message.refused", extra={"message_id": str(row_id), "code": error.code})
            return False
        except UnconfirmedSendError as error:
            # The provider may have it: the row stays "submitting" with its lease run out,
            # so the next handling asks the provider before sending (_settle_unconfirmed).
            await self._lapse_lease(row_id)
            metrics.SENDS.labels(label, "unconfirmed").inc()
            log.warning(
                "message.unconfirmed", extra={"message_id": str(row_id), "code": error.code}
            )
            raise
        except TransientSendError as error:
            attempts = await self._record_failure(
                row_id, error.code, str(error), final=not redeliverable
            )
            if redeliverable and attempts >= self.give_up_after:
                await self._record_failure(row_id, error.code, str(error), final=True)
                self._count(label, sent=False)
                log.error(
                    "message.given_up",
                    extra={"message_id": str(row_id), "code": error.code, "attempts": attempts},
                )
                raise PermanentFailure(
                    f"provider kept answering {error.code} after {attempts} handlings"
                ) from error
            metrics.SENDS.labels(label, "deferred").inc()
            log.warning(
                "message.deferred",
                extra={"message_id": str(row_id), "code": error.code, "attempts": attempts},
            )
            raise
        await self._record_accepted(row_id, accepted)
        self._count(label, sent=True)
        log.info("message.sent", extra={"message_id": str(row_id)})
        return True

    async def _lapse_lease(self, row_id: uuid.UUID) -> None:
        async with self.sessions() as session, session.begin():
            row = await session.get(OutboundMessage, row_id, with_for_update=True)
            if row is not None and row.status == delivery.SUBMITTING:
                row.updated_at = self.clock() - self.lease - timedelta(seconds=1)

    def _count(self, channel: str, *, sent: bool) -> None:
        metrics.SENDS.labels(channel, "sent" if sent else "failed").inc()
        counts = self.wiring.counts.setdefault(channel, [0, 0])
        counts[0 if sent else 1] += 1
        metrics.SEND_SUCCESS_RATIO.labels(channel).set(counts[0] / (counts[0] + counts[1]))

    async def _record_accepted(self, row_id: uuid.UUID, accepted: Accepted) -> None:
        # The provider has the message now. Until that is recorded the row says
        # "submitting", and the message's number waits for the lease to run out and the
        # provider to be asked: so a database that is away is waited for here, for up to
        # half the lease, before the handling gives up.
        give_up = time.monotonic() + self.lease.total_seconds() / 2
        pause = self.lease_poll_seconds
        while True:
            try:
                now = self.clock()
                async with single_statement(self.sessions) as session:
                    result = await session.execute(
                        update(OutboundMessage)
                        .where(OutboundMessage.id == row_id)
                        .values(
                            provider_message_id=accepted.provider_message_id,
                            status=delivery.advance(delivery.SUBMITTING, accepted.status),
                            error_code=None,
                            error_message=None,
                            sent_at=now,
                            updated_at=now,
                        )
                        .execution_options(synchronize_session=False)
                    )
                    assert result.rowcount == 1, "recorded before"  # type: ignore[attr-defined]
                break
            except Exception as exc:
                if not is_outage(exc) or time.monotonic() + pause > give_up:
                    raise
                metrics.RECORD_RETRIES.inc()
                log.warning(
                    "message.sent_not_yet_recorded",
                    extra={"message_id": str(row_id), "error_type": type(exc).__name__},
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)
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
        async with single_statement(self.sessions) as session:
            await session.execute(
                _ADD_STATUS,
                {
                    "provider_message_id": report.provider_message_id,
                    "status": report.status,
                    "error_code": report.error_code,
                    "error_message": report.error_message,
                    "received_at": self.clock(),
                },
            )
        # Only after the history row's commit: a message whose id is not yet recorded is
        # brought up to date by its sender, which reads the history after recording it.
        # The comparison is the database's, on the row as it is when locked, so two
        # statuses of one message at once cannot undo each other.
        values: dict[str, Any] = {
            "reported_for": report.provider_message_id,
            "reported_rank": delivery.rank(report.status),
            "status": report.status,
            "updated_at": self.clock(),
        }
        if report.status in delivery.FAILURES:
            values.update(error_code=report.error_code, error_message=report.error_message)
        async with single_statement(self.sessions) as session:
            channel = (await session.execute(_ADVANCE, values)).scalar()
        if channel is not None and report.status in FINAL:
            metrics.FINAL_STATUSES.labels(channel, report.status).inc()

    async def _apply_history(self, provider_message_id: str) -> None:
        """Bring a message whose provider id was just committed up to the best status in
        its history: statuses that came first found no message to update.

        Read only after that commit, so a status this misses was committed later, and its
        own update, made after its commit, finds the message.
        """
        async with single_statement(self.sessions) as session:
            history = (
                await session.execute(
                    select(
                        DeliveryStatus.status,
                        DeliveryStatus.error_code,
                        DeliveryStatus.error_message,
                    )
                    .where(DeliveryStatus.provider_message_id == provider_message_id)
                    .order_by(DeliveryStatus.id)
                )
            ).all()
        if not history:
            return
        async with self.sessions() as session, session.begin():
            row = (
                await session.execute(
                    select(OutboundMessage.id, OutboundMessage.status, OutboundMessage.channel)
                    .where(OutboundMessage.provider_message_id == provider_message_id)
                    .with_for_update()
                )
            ).first()
            if row is None:
                return
            status = delivery.best((h.status for h in history), start=row.status)
            if status == row.status:
                return
            values: dict[str, Any] = {"status": status, "updated_at": self.clock()}
            if status in FINAL:
                metrics.FINAL_STATUSES.labels(row.channel, status).inc()
            if status in delivery.FAILURES:
                reason = next(h for h in reversed(history) if h.status == status)
                values.update(error_code=reason.error_code, error_message=reason.error_message)
            await session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id == row.id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    # --- contacts: the 24-hour window and opting out ---------------------------------

    async def _contact(self, number: str) -> Contact | None:
        async with single_statement(self.sessions) as session:
            return await session.get(Contact, number)

    async def _locked_contact(self, session: AsyncSession, number: str) -> Contact:
        await session.execute(
            _insert(session)(Contact)
            .values(phone_number=number, opted_out=False, updated_at=self.clock())
            .on_conflict_do_nothing(index_elements=[Contact.phone_number])
        )
        contact = await session.get(Contact, number, with_for_update=True, populate_existing=True)
        assert contact is not None
        return contact

    async def record_inbound(self, message: InboundMessageReceived) -> None:
        """The user wrote: their window opens (from when they wrote, never later than
        now); on the Cloud API their message is marked read."""
        now = self.clock()
        written = min(message.received_at, now)
        async with single_statement(self.sessions) as session:
            upsert = _insert(session)(Contact).values(
                phone_number=message.from_number,
                last_inbound_at=written,
                opted_out=False,
                updated_at=now,
            )
            later = upsert.excluded.last_inbound_at
            # One statement: the window only ever moves later.
            await session.execute(
                upsert.on_conflict_do_update(
                    index_elements=[Contact.phone_number],
                    set_={
                        "last_inbound_at": case(
                            (
                                or_(
                                    Contact.last_inbound_at.is_(None),
                                    Contact.last_inbound_at < later,
                                ),
                                later,
                            ),
                            else_=Contact.last_inbound_at,
                        ),
                        "updated_at": upsert.excluded.updated_at,
                    },
                )
            )
        marker = self.wiring.read_marker
        if marker is not None and message.channel is Channel.CLOUD_API:
            await marker.mark_read(message.provider_message_id)

    async def record_preference(self, change: ContactPreferenceChanged) -> None:
        """Opted out or back in; a change older than the one recorded is ignored."""
        async with self.sessions() as session, session.begin():
            contact = await self._locked_contact(session, change.phone_number)
            recorded = contact.preference_changed_at
            if recorded is not None and _aware(recorded) > change.changed_at:
                return
            contact.opted_out = change.opted_out
            contact.preference_changed_at = change.changed_at
            contact.updated_at = self.clock()
        log.info("contact.preference", extra={"opted_out": change.opted_out})

    # --- inbound media ---------------------------------------------------------------

    async def fetch_media(self, request: MediaFetchRequested) -> None:
        """Fetch, check and store; publish media.fetched once per request."""
        fetcher, outbox = self.wiring.fetcher, self.wiring.outbox
        if fetcher is None or outbox is None:
            raise PermanentFailure("media fetching is not wired")
        consumer, key = "media-fetch", str(request.request_id)
        async with self.sessions() as session:
            done = await session.scalar(
                select(inbox.c.message_key).where(
                    inbox.c.consumer == consumer, inbox.c.message_key == key
                )
            )
        if done is not None:
            return
        outcome = await fetcher.fetch(request)
        label = outcome.rejection.value if outcome.rejection else "stored"
        metrics.MEDIA_FETCHES.labels(request.channel.value, label).inc()
        envelope = Envelope.wrap(outcome, key=request.phone_number)
        async with self.sessions() as session, session.begin():
            if not await claim(session, inbox, consumer, key):
                return
            await outbox.add(session, envelope)
        try:
            await outbox.flush([envelope.id])
        except Exception:
            # The relay publishes it; the outcome is committed.
            log.warning("outbox.flush_deferred_to_relay", exc_info=True)


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _payload(row: OutboundMessage) -> dict[str, Any]:
    if row.payload is not None:
        return dict(row.payload)
    # Rows from before payloads were stored: plain text on either channel.
    if row.channel == Channel.CLOUD_API.value:
        return {"type": "text", "text": {"preview_url": False, "body": row.body}}
    return {"body": row.body, "media": []}


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
