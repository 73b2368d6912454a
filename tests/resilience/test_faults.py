"""Faults under load, over real servers and the services as separate processes: a replica
of conversation and one of notifier killed (kill -9), the RabbitMQ node stopped for 10 s,
the PostgreSQL cluster stopped. Each run ends with every number's replies, counted at the
sandbox, equal to those an undisturbed run of the same stack gives: none lost, none twice,
none out of order."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aio_pika
import httpx
import pytest

from shared.testing import free_port
from stack.testing import Stack, base_env, start_stack, stop_stack
from tests.ops.conftest import fresh_database, fresh_vhost
from tests.resilience.load import (
    Load,
    Outcome,
    conversations,
    distinct_scripts,
    expected_like,
    ordering_script,
    phone_numbers,
    tally,
)
from tests.resilience.servers import PrivatePostgres, PrivateRabbitMQ, queue_depths

NUMBERS = 20
VARIANTS = 3  # scripts differ in the item and quantity ordered
OUTAGE_SECONDS = 10.0


@contextlib.contextmanager
def running_stack(
    rabbitmq_url: str, database_url: str, log_dir: Path, replicas: dict[str, int] | None = None
) -> Iterator[Stack]:
    ports = {"gateway": free_port(), "sandbox": free_port()}
    env = base_env(ports)
    env.update(RABBITMQ_URL=rabbitmq_url, DATABASE_URL=database_url)
    # A notifier killed mid-send leaves its message to another replica once the send
    # lease is out; the sandbox answers within milliseconds, so a short lease is safe
    # and keeps that number waiting seconds rather than the production two minutes.
    env["SEND_LEASE_SECONDS"] = "10"
    stack = start_stack(env, log_dir, replicas=replicas, ports=ports)
    try:
        yield stack
    finally:
        stop_stack(stack)


@dataclass
class Prepared:
    load: Load
    expected: dict[str, list[str]]  # each number's replies when nothing goes wrong
    dead: DeadLetters


async def prepare(stack: Stack, rabbitmq_url: str, node: PrivateRabbitMQ | None = None) -> Prepared:
    """A calm run of each script on the stack (which also declares every queue), then
    the load to play under the fault."""
    plan = conversations(NUMBERS, lambda i: ordering_script(i % VARIANTS))
    calm = distinct_scripts(plan, phone_numbers(VARIANTS))
    outcome = await Load(stack, calm, settle=1.0).run()
    for conversation in calm:
        got = outcome.replies[conversation.phone]
        assert len(got) == conversation.replies, f"the calm run: {got}\n{stack.logs()}"
    assert "Pay for order ORD-" in got[-1], got
    vhost = urlsplit(rabbitmq_url).path.lstrip("/") or "/"
    depths = await asyncio.to_thread(queue_depths, node, vhost)
    return Prepared(
        Load(stack, plan), expected_like(outcome, calm, plan), DeadLetters(rabbitmq_url, depths)
    )


class DeadLetteredError(AssertionError):
    """A message went to a dead-letter queue during the fault."""


class DeadLetters:
    """The dead-letter queues of one vhost, looked into over AMQP (cheaply, every second
    while a load runs): what waits there, by queue and event type, left in place."""

    def __init__(self, rabbitmq_url: str, depths: dict[str, int]) -> None:
        self.url = rabbitmq_url
        self.queues = sorted(name for name in depths if name.endswith(".dead"))
        assert self.queues, f"no dead-letter queue among {sorted(depths)}"

    async def parked(self) -> Counter[str]:
        found: Counter[str] = Counter()
        connection = await aio_pika.connect(self.url)
        try:
            channel = await connection.channel()
            for name in self.queues:
                queue = await channel.declare_queue(name, passive=True)
                while (message := await queue.get(no_ack=False, fail=False)) is not None:
                    found[f"{name}: {message.type}"] += 1
            # Closing the channel returns every message it held, unacknowledged, to its queue.
            await channel.close()
        finally:
            await connection.close()
        return found


async def with_fault(
    ready: Prepared, fault: Callable[[], Awaitable[None]], at: float = 1 / 3
) -> Outcome:
    """Run the load and, once ``at`` of its turns are done, the fault beside it. A message
    dead-lettered meanwhile ends the run at once: its reply will never come."""
    load, dead = ready.load, ready.dead
    running = asyncio.create_task(load.run())
    while load.turns_done < load.turns_total * at:
        if running.done():
            break
        await asyncio.sleep(0.05)
    assert not running.done(), "the load was over before the fault"
    await fault()
    while not running.done():
        try:
            parked = await dead.parked()
        except (OSError, aio_pika.exceptions.AMQPError):
            parked = Counter()  # the broker is not back yet
        if parked:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
            raise DeadLetteredError(f"dead-lettered under the fault: {dict(parked)}")
        await asyncio.wait({running}, timeout=1)
    return running.result()


def assert_all_replied_once(stack: Stack, outcome: Outcome, expected: dict[str, list[str]]) -> None:
    result = tally(expected, outcome.replies)
    print(f"\n{result}; webhook answers {dict(outcome.statuses)}; {outcome.seconds:.1f} s")
    assert not outcome.refused, f"webhooks refused for good: {outcome.refused}"
    assert result.clean, f"{result}\nunanswered {outcome.unanswered}\n{stack.logs()}"
    assert not outcome.unanswered, outcome.unanswered


async def health(url: str) -> int:
    async with httpx.AsyncClient(timeout=5) as client:
        try:
            return (await client.get(url + "/health")).status_code
        except httpx.TransportError:
            return 0


# Up to eight processes start on a shared two-core machine, then a calm run and the load.
@pytest.mark.timeout(300)
async def test_kill_9_of_a_conversation_and_a_notifier_replica_loses_and_repeats_nothing(
    rabbitmq_url: str, database_url: str, tmp_path: Path
) -> None:
    replicas = {"conversation": 2, "notifier": 2}
    with (
        fresh_vhost(rabbitmq_url) as broker,
        fresh_database(database_url) as database,
        running_stack(broker, database, tmp_path, replicas) as stack,
    ):
        ready = await prepare(stack, broker)
        victims = [stack.processes["conversation-1"], stack.processes["notifier-1"]]

        async def kill() -> None:
            for process in victims:
                await asyncio.to_thread(process.kill)

        outcome = await with_fault(ready, kill)
        assert all(p.popen is not None and p.popen.returncode == -9 for p in victims)
        assert_all_replied_once(stack, outcome, ready.expected)
        assert not await ready.dead.parked()


@pytest.mark.timeout(300)
async def test_rabbitmq_stopped_for_ten_seconds_under_load_loses_and_repeats_nothing(
    private_rabbitmq: PrivateRabbitMQ, database_url: str, tmp_path: Path
) -> None:
    node = private_rabbitmq
    with (
        fresh_database(database_url) as database,
        running_stack(node.url, database, tmp_path) as stack,
    ):
        ready = await prepare(stack, node.url, node)
        pids = {name: p.popen.pid for name, p in stack.processes.items() if p.popen}
        during: dict[str, int] = {}

        async def outage() -> None:
            await asyncio.to_thread(node.stop)
            stopped = time.monotonic()
            await asyncio.sleep(2)  # for each client to notice its closed socket
            for name, url in stack.urls.items():
                if name != "sandbox":
                    during[name] = await health(url)
            await asyncio.sleep(OUTAGE_SECONDS - (time.monotonic() - stopped))
            await asyncio.to_thread(node.start)

        outcome = await with_fault(ready, outage)
        print(f"\nRabbitMQ node: boots {node.boot_seconds} s, stops {node.stop_seconds} s")
        # Meanwhile the gateway said 503, so the provider retried, and every service
        # said on /health that its broker was down ...
        assert outcome.statuses[503] > 0, outcome.statuses
        assert all(status == 503 for status in during.values()), during
        # ... and each came back by itself, in the process it started in.
        for name, url in stack.urls.items():
            deadline = time.monotonic() + 60
            while await health(url) != 200:
                assert time.monotonic() < deadline, f"{name} unhealthy:\n{stack.logs()}"
                await asyncio.sleep(0.5)
        assert {n: p.popen.pid for n, p in stack.processes.items() if p.popen} == pids
        assert all(p.popen is not None and p.popen.poll() is None for p in stack.processes.values())
        assert_all_replied_once(stack, outcome, ready.expected)
        assert not await ready.dead.parked()


@pytest.mark.timeout(300)
async def test_postgresql_stopped_and_started_under_load_loses_and_repeats_nothing(
    private_postgres: PrivatePostgres, rabbitmq_url: str, tmp_path: Path
) -> None:
    cluster = private_postgres
    with (
        fresh_vhost(rabbitmq_url) as broker,
        running_stack(broker, cluster.url, tmp_path) as stack,
    ):
        ready = await prepare(stack, broker)

        async def outage() -> None:
            await asyncio.to_thread(cluster.stop)
            await asyncio.sleep(OUTAGE_SECONDS)
            await asyncio.to_thread(cluster.start)

        outcome = await with_fault(ready, outage)
        print(f"\nPostgreSQL: boots {cluster.boot_seconds} s, stops {cluster.stop_seconds} s")
        assert_all_replied_once(stack, outcome, ready.expected)
        assert not await ready.dead.parked()
