"""Transactional outbox: events commit with the state change that caused them, then a
flush right after the commit (or the relay, for anything left behind) publishes them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import metrics
from shared.events import Envelope, Event, decode_envelope
from shared.messaging.broker import Broker, BrokerUnavailableError

log = logging.getLogger(__name__)


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("event_type", String(100), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    )


class Outbox:
    def __init__(
        self,
        table: Table,
        sessions: async_sessionmaker[AsyncSession],
        broker: Broker,
        *,
        service: str,
        batch_size: int = 200,
        relay_interval: float = 0.5,
        relay_grace: float = 3.0,
    ) -> None:
        self.table = table
        self.sessions = sessions
        self.broker = broker
        self.service = service
        self.batch_size = batch_size
        self.relay_interval = relay_interval
        # Rows younger than this are left to the flush that follows their own commit, so
        # the relay does not publish them out of order with later rows.
        self.relay_grace = relay_grace

    async def add(self, session: AsyncSession, envelope: Envelope[Event]) -> uuid.UUID:
        await session.execute(
            insert(self.table).values(
                event_id=envelope.id,
                event_type=envelope.type,
                body=envelope.to_json().decode(),
                created_at=datetime.now(UTC),
            )
        )
        return envelope.id

    async def flush(self, event_ids: list[uuid.UUID] | None = None) -> int:
        """Publish pending rows (these ids, or the oldest first) and delete each one the
        broker confirmed. Returns how many were published."""
        if event_ids is not None and not event_ids:
            return 0
        published = 0
        async with self.sessions() as session, session.begin():
            query = select(self.table.c.id, self.table.c.body).order_by(self.table.c.id)
            if event_ids is not None:
                query = query.where(self.table.c.event_id.in_(event_ids))
            else:
                cutoff = datetime.now(UTC) - timedelta(seconds=self.relay_grace)
                query = query.where(self.table.c.created_at < cutoff)
            query = query.limit(self.batch_size).with_for_update(skip_locked=True)
            rows = (await session.execute(query)).all()
            done: list[int] = []
            try:
                for row in rows:
                    await self.broker.publish(decode_envelope(row.body))
                    done.append(row.id)
            finally:
                if done:
                    await session.execute(delete(self.table).where(self.table.c.id.in_(done)))
                published = len(done)
        return published

    async def run_relay(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                while await self.flush() == self.batch_size:
                    pass
                await self._measure_backlog()
            except BrokerUnavailableError:
                log.warning("outbox.relay_waiting_for_broker")
            except Exception:
                log.exception("outbox.relay_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.relay_interval)

    async def _measure_backlog(self) -> None:
        async with self.sessions() as session:
            count, oldest = (
                await session.execute(
                    select(func.count(), func.min(self.table.c.created_at)).select_from(self.table)
                )
            ).one()
        metrics.OUTBOX_BACKLOG.labels(self.service).set(count)
        age = 0.0
        if oldest is not None:
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=UTC)
            age = (datetime.now(UTC) - oldest).total_seconds()
        metrics.OUTBOX_OLDEST_AGE.labels(self.service).set(age)
