"""An in-process broker with RabbitMQ's routing, ack, retry and dead-letter behaviour."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from pydantic import ValidationError

from shared import metrics
from shared.events import Envelope, Event, UnknownEventError, decode_envelope
from shared.messaging.broker import BrokerUnavailableError, Handler, QueueSpec
from shared.messaging.dispatch import Dispatcher, Outcome

log = logging.getLogger(__name__)


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: ``*`` is one word, ``#`` is zero or more words."""

    def match(p: list[str], k: list[str]) -> bool:
        if not p:
            return not k
        if p[0] == "#":
            return any(match(p[1:], k[i:]) for i in range(len(k) + 1))
        if not k:
            return False
        return (p[0] == "*" or p[0] == k[0]) and match(p[1:], k[1:])

    return match(pattern.split("."), routing_key.split("."))


@dataclass
class _Queue:
    spec: QueueSpec
    items: asyncio.Queue[tuple[bytes, int]] = field(default_factory=asyncio.Queue)
    dead: list[bytes] = field(default_factory=list)


class InMemoryBroker:
    """Messages are serialised as on the wire, so a handler sees exactly what RabbitMQ
    would deliver. Several services in one process share one instance."""

    def __init__(self, *, service: str = "embedded") -> None:
        self.service = service
        self._queues: dict[str, _Queue] = {}
        self._bindings: dict[str, set[str]] = defaultdict(set)
        self._tasks: set[asyncio.Task[None]] = set()
        self._consumers: list[asyncio.Task[None]] = []
        self._connected = False
        self.published: list[Envelope[Event]] = []

    async def connect(self) -> None:
        self._connected = True

    def is_connected(self) -> bool:
        return self._connected

    async def publish(self, envelope: Envelope[Event]) -> None:
        if not self._connected:
            raise BrokerUnavailableError("in-memory broker is closed")
        body = envelope.to_json()
        self.published.append(envelope)
        for pattern, queue_names in self._bindings.items():
            if topic_matches(pattern, envelope.routing_key):
                for name in queue_names:
                    self._queues[name].items.put_nowait((body, 1))
        metrics.EVENTS_PUBLISHED.labels(self.service, envelope.type).inc()

    def dead_letters(self, queue_name: str) -> list[bytes]:
        return list(self._queues[queue_name].dead)

    def depth(self, queue_name: str) -> int:
        return self._queues[queue_name].items.qsize()

    async def consume(
        self, spec: QueueSpec, handler: Handler, *, service: str | None = None
    ) -> None:
        queue = self._queues.setdefault(spec.name, _Queue(spec))
        for key in spec.routing_keys:
            self._bindings[key].add(spec.name)
        dispatcher = Dispatcher(service or self.service, spec, handler)
        self._consumers.append(asyncio.create_task(self._consume_loop(queue, dispatcher)))

    async def _consume_loop(self, queue: _Queue, dispatcher: Dispatcher) -> None:
        window = asyncio.Semaphore(queue.spec.prefetch)
        while True:
            body, attempt = await queue.items.get()
            await window.acquire()
            task = asyncio.create_task(self._deliver(queue, dispatcher, body, attempt, window))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self,
        queue: _Queue,
        dispatcher: Dispatcher,
        body: bytes,
        attempt: int,
        window: asyncio.Semaphore,
    ) -> None:
        try:
            try:
                envelope = decode_envelope(body)
            except (ValidationError, UnknownEventError, ValueError):
                log.error("message.undecodable", extra={"queue": queue.spec.name})
                queue.dead.append(body)
                return
            outcome = await dispatcher.dispatch(envelope, attempt, redelivered=attempt > 1)
            if outcome is Outcome.RETRY:
                asyncio.get_running_loop().call_later(
                    queue.spec.retry_delay_ms / 1000, queue.items.put_nowait, (body, attempt + 1)
                )
            elif outcome is Outcome.DEAD:
                queue.dead.append(body)
        finally:
            window.release()

    async def stop_consuming(self) -> None:
        for task in self._consumers:
            task.cancel()
        self._consumers.clear()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        await self.stop_consuming()
        self._connected = False


class ServiceBroker:
    """One service's view of a shared in-memory broker: metrics carry its own name."""

    def __init__(self, broker: InMemoryBroker, service: str) -> None:
        self._broker = broker
        self.service = service

    async def connect(self) -> None:
        await self._broker.connect()

    def is_connected(self) -> bool:
        return self._broker.is_connected()

    async def publish(self, envelope: Envelope[Event]) -> None:
        await self._broker.publish(envelope)

    async def consume(self, spec: QueueSpec, handler: Handler) -> None:
        await self._broker.consume(spec, handler, service=self.service)

    async def stop_consuming(self) -> None:
        """The shared broker stops once, when the embedded stack shuts down."""

    async def close(self) -> None:
        """See stop_consuming."""
