"""Which replicas of a partitioned queue's consumers are alive, learnt over the broker.

Every replica announces itself on a fanout exchange every ``interval`` seconds and listens
on a queue of its own. A replica not heard from for ``3 * interval`` is taken to be gone; a
stopping replica says so at once. Each announcement also carries the replica's partition
count, so replicas started with different ``BROKER_PARTITIONS`` are reported, not ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractIncomingMessage

from shared import metrics
from shared.messaging import partitions as layout

log = logging.getLogger(__name__)


class Presence:
    def __init__(self, queue: str, partitions: int, *, service: str, interval: float) -> None:
        self.queue = queue
        self.partitions = partitions
        self.service = service
        self.interval = interval
        self.me = uuid.uuid4().hex
        self._seen: dict[str, float] = {}
        # The partition count each live peer announced.
        self._counts: dict[str, int] = {}
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._task: asyncio.Task[None] | None = None
        self.changed = asyncio.Event()

    def members(self) -> set[str]:
        horizon = time.monotonic() - 3 * self.interval
        return {member for member, seen in self._seen.items() if seen >= horizon} | {self.me}

    def owned(self) -> set[int]:
        return layout.owned(self.partitions, self.members(), self.me)

    def other_counts(self) -> set[int]:
        """Partition counts that live peers announced and that differ from ours."""
        live = self.members()
        return {n for m, n in self._counts.items() if m in live and n != self.partitions}

    async def heard_from_peers(self) -> None:
        """Wait long enough to hear every live peer's announcement once."""
        await asyncio.sleep(self.interval * 1.5)

    async def start(self, channel: AbstractChannel) -> None:
        self._channel = channel
        self._exchange = await channel.declare_exchange(
            layout.presence_exchange(self.queue), aio_pika.ExchangeType.FANOUT, durable=True
        )
        inbox = await channel.declare_queue("", exclusive=True, auto_delete=True)
        await inbox.bind(self._exchange)
        await inbox.consume(self._on_announcement, no_ack=True)
        await self._announce()
        self._task = asyncio.create_task(self._announce_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._announce(leaving=True), 2)

    async def _announce_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self._announce()
            except Exception as exc:
                # The connection is away; it reconnects by itself and we carry on.
                log.debug("presence.announce_failed", extra={"error": type(exc).__name__})
            before = self.members()
            self._forget_silent()
            if self.members() != before:
                self.changed.set()

    async def _announce(self, *, leaving: bool = False) -> None:
        if self._exchange is None:
            return
        body = {"id": self.me, "partitions": self.partitions, "leaving": leaving}
        await self._exchange.publish(
            aio_pika.Message(
                json.dumps(body).encode(),
                content_type="application/json",
                expiration=3 * self.interval,
            ),
            routing_key="",
        )

    def _forget_silent(self) -> None:
        horizon = time.monotonic() - 3 * self.interval
        for member in [m for m, seen in self._seen.items() if seen < horizon]:
            del self._seen[member]
            self._counts.pop(member, None)
        self._measure_mismatch()

    def _measure_mismatch(self) -> None:
        mismatch = bool(self.other_counts())
        metrics.PARTITION_MISMATCH.labels(self.service, self.queue).set(int(mismatch))

    async def _on_announcement(self, message: AbstractIncomingMessage) -> None:
        try:
            body = json.loads(message.body)
            member, partitions, leaving = body["id"], body["partitions"], body["leaving"]
        except (ValueError, KeyError, TypeError):
            return
        if member == self.me:
            return
        if partitions != self.partitions and self._counts.get(member) != partitions:
            log.error(
                "partitions.mismatch",
                extra={"queue": self.queue, "ours": self.partitions, "theirs": partitions},
            )
        known = member in self._seen
        if leaving:
            self._seen.pop(member, None)
            self._counts.pop(member, None)
        else:
            self._seen[member] = time.monotonic()
            self._counts[member] = partitions
        self._measure_mismatch()
        if known == leaving:
            self.changed.set()
