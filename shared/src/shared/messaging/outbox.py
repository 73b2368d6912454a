"""Transactional outbox: events commit with the state change that caused them, then a
flush right after the commit (or the relay, for anything left behind) publishes them.

Events with the same key (a phone number) leave in the order they were written: a row is
published only after every older row of its key, whichever replica wrote it. Flushes and
the relay lock rows in id order and wait for each other rather than skip, so a row one
flush holds is never overtaken by a newer row of its key; locking in one order everywhere
also keeps them from deadlocking.
"""

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
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    and_,
    delete,
    func,
    insert,
    or_,
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
        Column("key", String(64), nullable=True),
        Index("ix_outbox_key_id", "key", "id"),
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
                key=envelope.key,
                body=envelope.to_json().decode(),
                created_at=datetime.now(UTC),
            )
        )
        return envelope.id

    async def flush(self, event_ids: list[uuid.UUID] | None = None) -> int:
        """Publish pending rows (these ids with any older rows of their keys, or the oldest
        rows) and delete each one the broker confirmed. Returns how many were published."""
        if event_ids is not None and not event_ids:
            return 0
        published = 0
        t = self.table
        async with self.sessions() as session, session.begin():
            query = select(t.c.id, t.c.body).order_by(t.c.id)
            if event_ids is not None:
                # An alias, so that the subqueries do not correlate with the outer rows.
                own = t.alias("own")
                keys = select(own.c.key).where(own.c.event_id.in_(event_ids))
                newest = select(func.max(own.c.id)).where(own.c.event_id.in_(event_ids))
                query = query.where(
                    or_(
                        t.c.event_id.in_(event_ids),
                        and_(t.c.key.in_(keys), t.c.id <= newest.scalar_subquery()),
                    )
                )
            else:
                cutoff = datetime.now(UTC) - timedelta(seconds=self.relay_grace)
                query = query.where(t.c.created_at < cutoff).limit(self.batch_size)
            rows = (await session.execute(query.with_for_update())).all()
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
