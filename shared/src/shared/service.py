"""The life of a consuming service: connect, consume, relay its outbox, and stop cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.messaging.broker import Broker, Handler, QueueSpec
from shared.messaging.outbox import Outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Consumer:
    spec: QueueSpec
    handler: Handler


class ConsumingService:
    """Owns a broker connection, a database engine, its consumers and its outbox relay."""

    def __init__(
        self,
        *,
        name: str,
        app: FastAPI,
        broker: Broker,
        engine: AsyncEngine,
        outbox: Outbox | None,
        consumers: Sequence[Consumer],
    ) -> None:
        self.name = name
        self.app = app
        self.broker = broker
        self.engine = engine
        self.outbox = outbox
        self.consumers = list(consumers)
        self._stop = asyncio.Event()
        self._background: list[asyncio.Task[None]] = []
        self._consuming = False

    async def start(self) -> None:
        await self.broker.connect()
        for consumer in self.consumers:
            await self.broker.consume(consumer.spec, consumer.handler)
        self._consuming = True
        if self.outbox is not None:
            self._background.append(asyncio.create_task(self.outbox.run_relay(self._stop)))
        await self.on_started()

    async def consuming(self) -> bool:
        """A /health check: true once every queue is declared, bound and consumed. Until
        then an event published for this service has no queue to land in, so the service
        must not be reported ready (a test or an orchestrator would send it work)."""
        return self._consuming and self.broker.is_connected()

    async def on_started(self) -> None:
        """Hook for a service's own background work."""

    def run_in_background(self, task: asyncio.Task[None]) -> None:
        self._background.append(task)

    @property
    def stopping(self) -> asyncio.Event:
        return self._stop

    async def stop(self) -> None:
        await self.broker.stop_consuming()
        self._stop.set()
        for task in self._background:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, 10)
        if self.outbox is not None:
            # Publish whatever the last handlers committed before we go.
            self.outbox.relay_grace = 0
            try:
                while await self.outbox.flush():
                    pass
            except Exception:
                # What is left is published by another replica's relay, or on next start.
                log.exception("outbox.final_flush_failed", extra={"service_name": self.name})
        await self.broker.close()
        await self.engine.dispose()
        log.info("service.stopped", extra={"service_name": self.name})
