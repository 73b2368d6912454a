"""Consuming a partitioned queue on RabbitMQ: every replica subscribes to every partition,
the broker lets one consumer per partition be active, and replicas hand partitions over
until each is active on its own share (see partitions.py).

A handover must not let the next consumer start while this one still works on the
partition's earlier messages. RabbitMQ (3.10) activates the next consumer as soon as the
active one cancels, with whatever it still holds unacked; so a replica lets go of a
partition by refusing new deliveries, finishing the ones in hand, and only then closing
the partition's channel, which returns the refused ones to the head of the queue in their
order, and activates the next consumer, in one step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractRobustConnection,
)

from shared import metrics
from shared.messaging import partitions as layout
from shared.messaging.broker import QueueSpec
from shared.messaging.presence import Presence

log = logging.getLogger(__name__)

Deliver = Callable[[AbstractIncomingMessage, Callable[[], bool]], Awaitable[None]]
DeclareDeadLetters = Callable[[AbstractChannel, QueueSpec], Awaitable[None]]


async def run_to_end(work: Coroutine[Any, Any, None], keep: set[asyncio.Task[None]]) -> None:
    """Await ``work``, which goes on to its end even if the awaiting task is cancelled, as
    aiormq cancels a channel's deliveries when the channel or connection closes. A handler
    stopped halfway, between a provider's answer and recording it say, leaves work that its
    redelivery cannot tell apart from work never done; finished, it is recorded, its ack is
    lost, and the redelivery finds it done. ``keep`` holds the task until it ends."""
    task = asyncio.ensure_future(work)
    keep.add(task)
    task.add_done_callback(keep.discard)
    await asyncio.shield(task)


class PartitionCountMismatchError(RuntimeError):
    """Another live replica consumes the queue with a different partition count."""


class _Subscription:
    """One replica's hold on one partition, from subscribing until it lets go."""

    def __init__(self, partition: int) -> None:
        self.partition = partition
        self.channel: AbstractChannel | None = None
        # Set by the first delivery: only the active consumer is sent anything.
        self.active = False
        self.letting_go = False
        self.in_hand = 0
        self.idle = asyncio.Event()
        self.idle.set()


class PartitionedConsumer:
    def __init__(
        self,
        connection: AbstractRobustConnection,
        spec: QueueSpec,
        *,
        exchange_name: str,
        service: str,
        rebalance_seconds: float,
        queue_arguments: dict[str, Any],
        deliver: Deliver,
        declare_dead_letters: DeclareDeadLetters,
    ) -> None:
        self.connection = connection
        self.spec = spec
        self.exchange_name = exchange_name
        self.service = service
        self.rebalance_seconds = rebalance_seconds
        self.queue_arguments = {**queue_arguments, "x-single-active-consumer": True}
        self.deliver = deliver
        self.declare_dead_letters = declare_dead_letters
        self.presence = Presence(
            spec.name, spec.partitions, service=service, interval=rebalance_seconds
        )
        self._subscriptions: dict[int, _Subscription] = {}
        self._stopping = False
        self._rebalancer: asyncio.Task[None] | None = None
        self._handing_over: set[int] = set()
        self._running: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        setup = await self.connection.channel()
        await self.presence.start(setup)
        # Bindings made for another partition count outlive the replica that made them
        # and send messages to two partitions; so refuse to start beside such a peer.
        await self.presence.heard_from_peers()
        others = self.presence.other_counts()
        if others:
            await self.presence.stop()
            raise PartitionCountMismatchError(
                f"{self.spec.name}: running replicas use {sorted(others)} partitions, this one"
                f" {self.spec.partitions}; every replica needs the same BROKER_PARTITIONS"
                " (see RUNBOOK.md, changing BROKER_PARTITIONS)"
            )
        await self._declare_routing(setup)
        for partition in range(self.spec.partitions):
            await self._subscribe(partition)
        self._rebalancer = asyncio.create_task(self._rebalance_forever())
        log.info(
            "broker.consuming",
            extra={
                "queue": self.spec.name,
                "partitions": self.spec.partitions,
                "prefetch": self.spec.prefetch,
            },
        )

    async def _declare_routing(self, channel: AbstractChannel) -> None:
        """topic exchange --routing keys--> headers exchange --slot--> partition queues."""
        await self.declare_dead_letters(channel, self.spec)
        topic = await channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        by_slot = await channel.declare_exchange(
            layout.exchange_name(self.spec.name), aio_pika.ExchangeType.HEADERS, durable=True
        )
        for routing_key in self.spec.routing_keys:
            await by_slot.bind(topic, routing_key=routing_key)
        for partition in range(self.spec.partitions):
            queue = await channel.declare_queue(
                layout.queue_name(self.spec.name, partition),
                durable=True,
                arguments=self.queue_arguments,
            )
            for slot in layout.slots_of(partition, self.spec.partitions):
                await queue.bind(
                    by_slot, arguments={"x-match": "all", layout.SLOT_HEADER: str(slot)}
                )

    async def _subscribe(self, partition: int) -> None:
        subscription = _Subscription(partition)
        channel = await self.connection.channel()
        await channel.set_qos(prefetch_count=self.spec.prefetch)
        queue = await channel.declare_queue(
            layout.queue_name(self.spec.name, partition),
            durable=True,
            arguments=self.queue_arguments,
        )
        subscription.channel = channel
        self._subscriptions[partition] = subscription

        async def on_message(message: AbstractIncomingMessage) -> None:
            if subscription.letting_go or self._stopping:
                # Held unacked until the channel closes, then delivered to the next consumer.
                return
            if not subscription.active:
                subscription.active = True
                self._measure()
            subscription.in_hand += 1
            subscription.idle.clear()

            async def handle() -> None:
                try:
                    await self.deliver(message, lambda: subscription.letting_go or self._stopping)
                finally:
                    subscription.in_hand -= 1
                    if subscription.in_hand == 0:
                        subscription.idle.set()

            await run_to_end(handle(), self._running)

        await queue.consume(on_message)

    async def _rebalance_forever(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.presence.changed.wait(), self.rebalance_seconds)
            self.presence.changed.clear()
            try:
                await self.rebalance()
            except Exception:
                log.exception("partitions.rebalance_failed", extra={"queue": self.spec.name})

    async def rebalance(self) -> None:
        """Let go of the partitions this replica is active on but another should own."""
        if self._stopping or self.connection.is_closed:
            return
        owned = self.presence.owned()
        surplus = [
            s.partition
            for s in self._subscriptions.values()
            if s.active and s.partition not in owned and s.partition not in self._handing_over
        ]
        await asyncio.gather(*(self._hand_over(partition) for partition in surplus))

    async def _hand_over(self, partition: int) -> None:
        self._handing_over.add(partition)
        try:
            subscription = self._subscriptions[partition]
            await self._let_go(subscription, drain_for=None)
            if not self._stopping:
                # Back at the end of the line, ready to take over if the owner goes away.
                await self._subscribe(partition)
            metrics.PARTITION_HANDOVERS.labels(self.service, self.spec.name).inc()
            log.info(
                "partitions.handed_over", extra={"queue": self.spec.name, "partition": partition}
            )
        finally:
            self._handing_over.discard(partition)
            self._measure()

    async def _let_go(self, subscription: _Subscription, drain_for: float | None) -> None:
        subscription.letting_go = True
        try:
            await asyncio.wait_for(subscription.idle.wait(), drain_for)
        except TimeoutError:
            log.warning(
                "partitions.drain_timed_out",
                extra={"queue": self.spec.name, "in_hand": subscription.in_hand},
            )
        subscription.active = False
        if subscription.channel is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(subscription.channel.close(), 5)

    async def stop(self, drain_timeout: float, rpc_timeout: float) -> None:
        self._stopping = True
        if self._rebalancer is not None:
            self._rebalancer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._rebalancer
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.presence.stop(), rpc_timeout)
        await asyncio.gather(
            *(self._let_go(s, drain_timeout) for s in self._subscriptions.values())
        )
        self._measure()

    def _measure(self) -> None:
        active = sum(1 for s in self._subscriptions.values() if s.active and not s.letting_go)
        metrics.PARTITIONS_ACTIVE.labels(self.service, self.spec.name).set(active)

    def active_partitions(self) -> set[int]:
        return {p for p, s in self._subscriptions.items() if s.active and not s.letting_go}
