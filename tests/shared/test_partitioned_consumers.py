"""Partitioned queues on RabbitMQ: several replicas of a consumer, replicas joining and
leaving, and still one key's messages handled one at a time, in the order published."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import aio_pika
import pytest
from prometheus_client import REGISTRY
from sqlalchemy.exc import OperationalError

from shared.events import Envelope, OutboundMessageRequested
from shared.messaging import QueueSpec
from shared.messaging.partitioned import PartitionCountMismatchError
from shared.messaging.presence import Presence
from shared.messaging.rabbitmq import RabbitBroker

pytestmark = pytest.mark.asyncio

Record = Callable[[str, Envelope[OutboundMessageRequested]], Awaitable[None]]


def message(key: str, seq: int) -> Envelope[OutboundMessageRequested]:
    event = OutboundMessageRequested(message_id=uuid.uuid4(), to_number=key, text=str(seq))
    return Envelope.wrap(event, key=key)


class Cluster:
    """Replicas of one consumer in this process, and a publisher, on one fresh exchange."""

    def __init__(self, url: str, spec: QueueSpec) -> None:
        self.url = url
        self.spec = spec
        self.exchange = f"x-{uuid.uuid4().hex[:8]}"
        self.replicas: dict[str, RabbitBroker] = {}
        self.publisher = RabbitBroker(url, service="publisher", exchange_name=self.exchange)

    async def add(self, name: str, record: Record) -> RabbitBroker:
        broker = RabbitBroker(
            self.url, service="test", exchange_name=self.exchange, rebalance_seconds=0.3
        )
        await broker.connect()

        async def handler(envelope: Envelope) -> None:  # type: ignore[type-arg]
            await record(name, envelope)

        await broker.consume(self.spec, handler)
        self.replicas[name] = broker
        return broker

    async def close(self) -> None:
        for broker in self.replicas.values():
            await broker.close()
        await self.publisher.close()


def partitioned_spec(partitions: int = 4, **overrides: object) -> QueueSpec:
    values: dict[str, object] = {
        "name": f"p-{uuid.uuid4().hex[:8]}",
        "routing_keys": ("message.outbound.#",),
        "prefetch": 8,
        "max_attempts": 3,
        "retry_delay_ms": 50,
        "partitions": partitions,
    }
    values.update(overrides)
    return QueueSpec(**values)  # type: ignore[arg-type]


@pytest.fixture
async def cluster_factory(rabbitmq_url: str) -> AsyncIterator[Callable[[QueueSpec], Cluster]]:
    made: list[Cluster] = []

    def make(spec: QueueSpec) -> Cluster:
        cluster = Cluster(rabbitmq_url, spec)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        await cluster.close()


class OrderLog:
    """What each replica handled, and a check that no key was ever handled twice at once."""

    def __init__(self) -> None:
        self.by_key: dict[str, list[int]] = defaultdict(list)
        self.by_replica: dict[str, int] = defaultdict(int)
        self.busy: set[str] = set()
        self.overlaps = 0

    async def record(self, replica: str, envelope: Envelope[OutboundMessageRequested]) -> None:
        key = envelope.key or ""
        if key in self.busy:
            self.overlaps += 1
        self.busy.add(key)
        try:
            await asyncio.sleep(random.uniform(0, 0.004))
            self.by_key[key].append(int(envelope.payload.text or "0"))
            self.by_replica[replica] += 1
        finally:
            self.busy.discard(key)

    def handled(self) -> int:
        return sum(len(seqs) for seqs in self.by_key.values())


async def until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_order_per_key_holds_while_replicas_join_and_leave(
    cluster_factory: Callable[[QueueSpec], Cluster],
) -> None:
    keys, per_key = [f"+23480000{i:05d}" for i in range(24)], 40
    cluster = cluster_factory(partitioned_spec(partitions=4))
    log = OrderLog()
    await cluster.publisher.connect()
    await cluster.add("a", log.record)

    async def publish_all() -> None:
        for seq in range(per_key):
            for key in keys:
                await cluster.publisher.publish(message(key, seq))
            await asyncio.sleep(0.02)

    publishing = asyncio.create_task(publish_all())
    await until(lambda: log.handled() > 100)
    await cluster.add("b", log.record)
    await cluster.add("c", log.record)
    await until(lambda: log.by_replica["b"] > 0 and log.by_replica["c"] > 0)
    # A replica leaves with messages in hand and more on the way.
    await cluster.replicas.pop("a").close()
    await publishing
    await until(lambda: log.handled() >= len(keys) * per_key)
    await asyncio.sleep(0.5)

    assert log.overlaps == 0
    assert {key: seqs for key, seqs in log.by_key.items()} == {
        key: list(range(per_key)) for key in keys
    }
    assert all(log.by_replica[name] > 0 for name in ("a", "b", "c"))


async def test_replicas_settle_on_disjoint_even_shares(
    cluster_factory: Callable[[QueueSpec], Cluster],
) -> None:
    cluster = cluster_factory(partitioned_spec(partitions=6))
    log = OrderLog()
    await cluster.publisher.connect()
    for name in ("a", "b", "c"):
        await cluster.add(name, log.record)
    keys = [f"+23481000{i:05d}" for i in range(60)]

    def shares() -> list[set[int]]:
        return [b._partitioned[0].active_partitions() for b in cluster.replicas.values()]

    def settled() -> bool:
        current = shares()
        return sorted(len(s) for s in current) == [2, 2, 2] and len(set().union(*current)) == 6

    deadline = asyncio.get_running_loop().time() + 30
    seq = 0
    while not settled():
        assert asyncio.get_running_loop().time() < deadline, f"shares never settled: {shares()}"
        for key in keys:
            await cluster.publisher.publish(message(key, seq))
        seq += 1
        await asyncio.sleep(0.1)
    await until(lambda: log.handled() >= len(keys) * seq)
    assert log.overlaps == 0
    assert all(seqs == list(range(seq)) for seqs in log.by_key.values())


async def test_a_failing_message_is_retried_before_its_keys_later_messages(
    cluster_factory: Callable[[QueueSpec], Cluster],
) -> None:
    cluster = cluster_factory(partitioned_spec(partitions=2))
    order: list[int] = []
    failures = {3: 2}  # message 3 fails twice, then succeeds

    async def record(_: str, envelope: Envelope[OutboundMessageRequested]) -> None:
        seq = int(envelope.payload.text or "0")
        if failures.get(seq):
            failures[seq] -= 1
            raise RuntimeError("not yet")
        order.append(seq)

    await cluster.publisher.connect()
    await cluster.add("a", record)
    for seq in range(10):
        await cluster.publisher.publish(message("+2348200000001", seq))
    await until(lambda: len(order) == 10)
    assert order == list(range(10))


@pytest.mark.parametrize("partitions", [0, 2])
async def test_a_database_outage_is_waited_out_without_using_up_attempts(
    cluster_factory: Callable[[QueueSpec], Cluster], partitions: int
) -> None:
    cluster = cluster_factory(partitioned_spec(partitions=partitions, max_attempts=2))
    outage = {"left": 4}
    handled: list[int] = []

    async def record(_: str, envelope: Envelope[OutboundMessageRequested]) -> None:
        if outage["left"]:
            outage["left"] -= 1
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("db is down"))
        handled.append(int(envelope.payload.text or "0"))

    await cluster.publisher.connect()
    broker = await cluster.add("a", record)
    await cluster.publisher.publish(message("+2348300000001", 7))
    await until(lambda: handled == [7], timeout=30)
    dead = await broker._publish_channel.declare_queue(  # type: ignore[union-attr]
        cluster.spec.dead_letter_queue, passive=True
    )
    assert dead.declaration_result.message_count == 0


async def test_a_replica_with_another_partition_count_refuses_to_start(
    cluster_factory: Callable[[QueueSpec], Cluster],
) -> None:
    cluster = cluster_factory(partitioned_spec(partitions=4))
    log = OrderLog()
    first = await cluster.add("a", log.record)
    odd = RabbitBroker(
        cluster.url, service="test", exchange_name=cluster.exchange, rebalance_seconds=0.3
    )
    await odd.connect()
    try:
        with pytest.raises(PartitionCountMismatchError, match="BROKER_PARTITIONS"):
            await odd.consume(replace(cluster.spec, partitions=2), log.record)  # type: ignore[arg-type]
    finally:
        await odd.close()

    # A peer with another count that stays up is reported, and no longer once it leaves.
    def mismatch() -> float | None:
        return REGISTRY.get_sample_value(
            "tutordesk_partition_count_mismatch", {"service": "test", "queue": cluster.spec.name}
        )

    peer = Presence(cluster.spec.name, 2, service="peer", interval=0.3)
    connection = await aio_pika.connect_robust(cluster.url)
    try:
        await peer.start(await connection.channel())
        await until(lambda: mismatch() == 1, timeout=5)
        assert first._partitioned[0].presence.other_counts() == {2}
        await peer.stop()
        await until(lambda: mismatch() == 0, timeout=5)
    finally:
        await connection.close()
