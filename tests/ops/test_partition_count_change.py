"""Changing BROKER_PARTITIONS, carried out on RabbitMQ as deploy/RUNBOOK.md says.

A replica started beside live replicas with another partition count refuses to start
before it binds anything, because the bindings the other count left on the
`<queue>.partitions` exchange send some numbers' messages to two partitions, even after
every replica agrees again. Deleting the old partition queues and the exchange before
starting with the new count leaves each message in exactly the one partition its slot
names. The RUNBOOK deletes the exchange through the management API, which the test broker
may not serve; here the same delete goes over AMQP.
"""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections import Counter
from urllib.parse import unquote, urlsplit

import aio_pika
import pytest
from prometheus_client import REGISTRY

from shared.events import Envelope, Event, OutboundMessageRequested
from shared.messaging import QueueSpec
from shared.messaging import partitions as layout
from shared.messaging.partitioned import PartitionCountMismatchError
from shared.messaging.rabbitmq import RabbitBroker
from tests.ops.conftest import queue_depths

# The real queue's name, so the RUNBOOK's commands run here as written.
QUEUE = "notifier"
ROUTING_KEYS = (OutboundMessageRequested.event_type,)
# Enough numbers that every one of the 64 slots gets some.
NUMBERS = [f"+23480{n:08d}" for n in range(600)]


def spec(partitions: int) -> QueueSpec:
    return QueueSpec(name=QUEUE, routing_keys=ROUTING_KEYS, prefetch=8, partitions=partitions)


def message(number: str) -> Envelope[Event]:
    event = OutboundMessageRequested(message_id=uuid.uuid4(), to_number=number, text="hi")
    return Envelope.wrap(event, key=number)  # type: ignore[return-value]


async def never_called(envelope: Envelope[Event]) -> None:
    raise AssertionError("nothing is consumed here: the messages are counted in their queues")


async def replica(url: str, partitions: int, service: str) -> RabbitBroker:
    """A replica that declares its partitions and their routing and listens for its peers."""
    broker = RabbitBroker(url, service=service, rebalance_seconds=0.2)
    await broker.connect(attempts=3)
    try:
        await broker.consume(spec(partitions), never_called)
    except BaseException:
        await broker.close()
        raise
    return broker


async def publish_one_per_number(url: str) -> list[Envelope[Event]]:
    publisher = RabbitBroker(url, service="gateway")
    await publisher.connect(attempts=3)
    try:
        sent = [message(number) for number in NUMBERS]
        for envelope in sent:
            await publisher.publish(envelope)
        return sent
    finally:
        await publisher.close()


def vhost_of(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/")) or "/"


def rabbitmqctl(url: str, command: str, *args: str) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "-q", command, "-p", vhost_of(url), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    # rabbitmqctl exits 0 on some refusals and says so on stdout, as an Erlang tuple.
    assert "error" not in done.stdout, done.stdout
    return done.stdout


def bindings_from(url: str, exchange: str) -> int:
    """The RUNBOOK's check: one binding per slot, so SLOTS when only one count is in place."""
    listed = rabbitmqctl(url, "list_bindings", "source_name")
    return sum(1 for line in listed.splitlines() if line.strip() == exchange)


def partition_depths(url: str) -> dict[str, int]:
    return {
        name: depth
        for name, depth in queue_depths(url).items()
        if name.startswith(f"{QUEUE}.p") and name.removeprefix(f"{QUEUE}.p").isdigit()
    }


async def settled_depths(url: str, total: int) -> dict[str, int]:
    """The partitions' depths once RabbitMQ counts ``total`` messages in them (a quorum
    queue's count is refreshed every few seconds, not at each publish)."""
    for _ in range(100):
        depths = await asyncio.to_thread(partition_depths, url)
        if sum(depths.values()) == total:
            return depths
        await asyncio.sleep(0.2)
    return depths


def expected_depths(sent: list[Envelope[Event]], partitions: int) -> dict[str, int]:
    counts = Counter(
        layout.queue_name(QUEUE, layout.partition_of(layout.slot_of(e), partitions)) for e in sent
    )
    return {
        layout.queue_name(QUEUE, p): counts[layout.queue_name(QUEUE, p)] for p in range(partitions)
    }


def mismatch(service: str) -> float | None:
    return REGISTRY.get_sample_value(
        "tutordesk_partition_count_mismatch", {"service": service, "queue": QUEUE}
    )


async def test_a_replica_with_another_partition_count_refuses_to_start_and_binds_nothing(
    own_rabbitmq_url: str,
) -> None:
    service = f"notifier-{uuid.uuid4().hex[:6]}"
    exchange = layout.exchange_name(QUEUE)
    eight = await replica(own_rabbitmq_url, 8, service)
    try:
        with pytest.raises(PartitionCountMismatchError, match="BROKER_PARTITIONS"):
            await replica(own_rabbitmq_url, 4, service)
        # Only the running count's bindings: one per slot.
        assert bindings_from(own_rabbitmq_url, exchange) == layout.SLOTS
        assert mismatch(service) == 0  # the odd one said it was leaving
    finally:
        await eight.close()


@pytest.mark.timeout(180)
async def test_the_runbook_change_of_partition_count_sends_each_message_to_one_partition(
    own_rabbitmq_url: str,
) -> None:
    url = own_rabbitmq_url
    exchange = layout.exchange_name(QUEUE)
    await (await replica(url, 4, "notifier")).close()
    assert bindings_from(url, exchange) == layout.SLOTS

    # Started with 8 beside what 4 left: the old bindings stay, and every slot whose
    # partition differs under the two counts now reaches two partitions.
    await (await replica(url, 8, "notifier")).close()
    assert bindings_from(url, exchange) > layout.SLOTS
    sent = await publish_one_per_number(url)
    doubled = sum(
        1
        for e in sent
        if layout.partition_of(layout.slot_of(e), 4) != layout.partition_of(layout.slot_of(e), 8)
    )
    depths = await settled_depths(url, len(sent) + doubled)
    assert sum(depths.values()) == len(sent) + doubled, depths

    # The RUNBOOK: with the replicas stopped and the queues drained (purged here), check each
    # partition queue is empty (quorum queues refuse delete's if-empty flag), delete them,
    # then the exchange, then start with 8.
    for name in depths:
        rabbitmqctl(url, "purge_queue", name)
    assert set((await settled_depths(url, 0)).values()) == {0}
    for name in depths:
        rabbitmqctl(url, "delete_queue", name)
    assert partition_depths(url) == {}
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        await channel.exchange_delete(exchange)
    assert bindings_from(url, exchange) == 0

    await (await replica(url, 8, "notifier")).close()
    assert bindings_from(url, exchange) == layout.SLOTS
    sent = await publish_one_per_number(url)
    depths = await settled_depths(url, len(sent))
    assert depths == expected_depths(sent, 8)
