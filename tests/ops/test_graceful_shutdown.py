"""Graceful shutdown under load: with two replicas each of conversation and notifier as
separate processes on RabbitMQ and PostgreSQL, SIGTERM one of each while students are
ordering. The stopped replicas finish what they hold and exit cleanly; every student gets
every reply exactly once and in order (counted where Twilio would get them, at the
sandbox); no message was handled twice and none is left parked or waiting."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import pytest

from shared.testing import free_port
from stack.testing import Process, Stack, Student, base_env, wait_healthy
from tests.ops.conftest import queue_depths

STUDENTS = 8
# Each message and a fragment its one reply must hold (the ordering seed, plus the cart).
SCRIPT: list[tuple[str, str]] = [
    ("hi", "Welcome to Bright Path Tutors"),
    ("1", "WAEC Mathematics Pack"),
    ("1 x 2", "Added 2 × WAEC Mathematics Pack"),
    ("cart", "₦10,000"),
    ("place order", "Order summary"),
    ("yes", "ORD-"),
]
REPLICAS = ("conversation-a", "conversation-b", "notifier-a", "notifier-b")
STOPPED = ("conversation-a", "notifier-a")


@pytest.fixture
def replicated_stack(
    own_rabbitmq_url: str, own_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    names = ("sandbox", "gateway", "payments", *REPLICAS)
    ports = {name: free_port() for name in names}
    env = base_env({"gateway": ports["gateway"], "sandbox": ports["sandbox"]})
    env.update(RABBITMQ_URL=own_rabbitmq_url, DATABASE_URL=own_database_url)
    log_dir = tmp_path_factory.mktemp("logs")
    stack = Stack({name: f"http://127.0.0.1:{port}" for name, port in ports.items()})
    for name in names:
        module = name.split("-")[0]
        process = Process(name, module, {**env, "PORT": str(ports[name])}, log_dir)
        stack.processes[name] = process
        process.start()
    try:
        for name, process in stack.processes.items():
            wait_healthy(stack.urls[name], process, timeout=90)
        yield stack
    finally:
        for process in stack.processes.values():
            process.stop()


async def converse(student: Student, progress: list[int]) -> None:
    """Say each line after the reply to the last one, as a person does; polls the sandbox
    gently (a shared two-core machine runs seven processes here)."""
    # A keep-alive connection the server closes just as it is reused fails the request;
    # a provider then retries the same webhook (same MessageSid), and so do we.
    transport = httpx.AsyncHTTPTransport(retries=3)
    async with httpx.AsyncClient(timeout=30, transport=transport) as client:
        for count, (text, _) in enumerate(SCRIPT, start=1):
            form, headers = student.webhook(text)
            for attempt in range(3):
                try:
                    accepted = await client.post(
                        student.stack.gateway + "/api/v1/whatsapp/webhook",
                        data=form,
                        headers=headers,
                    )
                    break
                except httpx.TransportError:
                    if attempt == 2:
                        raise
            assert accepted.status_code == 200, accepted.text
            deadline = time.monotonic() + 60
            while True:
                try:
                    listed = await client.get(
                        student.stack.sandbox + "/sandbox/twilio/messages",
                        params={"to": student.phone},
                    )
                except httpx.TransportError:
                    assert time.monotonic() < deadline, f"sandbox unreachable for {text!r}"
                    await asyncio.sleep(0.2)
                    continue
                if len(listed.json()["messages"]) >= count:
                    break
                assert time.monotonic() < deadline, f"no reply to {text!r} in 60 s"
                await asyncio.sleep(0.2)
            progress.append(1)


def terminate(process: Process) -> tuple[int, float]:
    """SIGTERM, then how it exited and how long it took."""
    assert process.popen is not None
    started = time.monotonic()
    process.popen.send_signal(signal.SIGTERM)
    code = process.popen.wait(40)
    return code, time.monotonic() - started


def metric_total(url: str, name: str) -> float:
    text = httpx.get(url + "/metrics", timeout=5).text
    pattern = re.compile(rf"^{name}(?:{{[^}}]*}})? (\S+)$", re.M)
    return sum(float(value) for value in pattern.findall(text))


# Seven processes start on a two-core machine: give the whole test more than the default.
@pytest.mark.timeout(360)
async def test_sigterm_under_load_loses_nothing_and_repeats_nothing(
    replicated_stack: Stack, own_rabbitmq_url: str
) -> None:
    stack = replicated_stack
    students = [Student(stack) for _ in range(STUDENTS)]
    progress: list[int] = []
    load = asyncio.gather(*(converse(s, progress) for s in students))

    # Stop one replica of each consumer once a third of the conversation has happened,
    # with the rest still in flight.
    total = STUDENTS * len(SCRIPT)
    while len(progress) < total // 3:
        assert not load.done(), load.exception() if load.done() else None
        await asyncio.sleep(0.05)
    stopped = await asyncio.gather(
        *(asyncio.to_thread(terminate, stack.processes[name]) for name in STOPPED)
    )
    replies_when_stopped = len(progress)
    await asyncio.wait_for(load, 120)

    for name, (code, seconds) in zip(STOPPED, stopped, strict=True):
        log = stack.processes[name].log_path.read_text()
        assert code == 0, f"{name} exited with {code}:\n{stack.processes[name].log_tail()}"
        assert seconds < 30, f"{name} took {seconds:.1f} s to stop"
        assert '"event": "service.stopped"' in log, stack.processes[name].log_tail()
        assert "Traceback" not in log, stack.processes[name].log_tail()
    assert replies_when_stopped < total, "the load was over before the replicas stopped"

    # After "yes", payments answers the order's payment request with a Paystack link.
    expected = len(SCRIPT) + 1
    for student in students:
        replies = await student.wait_for(expected, within=60)
        assert len(replies) == expected, (student.phone[-3:], replies)
        for reply, (text, fragment) in zip(replies, SCRIPT, strict=False):
            assert fragment in reply, f"reply to {text!r} lacks {fragment!r}: {reply!r}"
        assert "Pay for order ORD-" in replies[-1], replies[-1]
    await asyncio.sleep(1.0)
    for student in students:
        assert len(await student.received()) == expected, "a reply came twice"

    # No message handled twice: the surviving conversation replica never had to drop one
    # that the stopped replica had already handled.
    survivor = stack.urls["conversation-b"]
    assert metric_total(survivor, "tutordesk_inbox_duplicates_total") == 0
    assert metric_total(survivor, "tutordesk_messages_handled_total") > 0
    # Nothing parked, and nothing left waiting once the delivery statuses the sandbox
    # keeps calling back with (they follow each reply) are through.
    deadline = time.monotonic() + 45
    while True:
        depths = await asyncio.to_thread(queue_depths, own_rabbitmq_url)
        for queue in ("conversation", "notifier", "payments"):
            assert depths.get(f"{queue}.dead", 0) == 0, depths
        # conversation and notifier are split into partitions (conversation.p0 ...).
        consuming = [
            q for q in depths if q.split(".")[0] in ("conversation", "notifier", "payments")
        ]
        assert any(q.startswith("conversation.p") for q in consuming), depths
        if all(depths[q] == 0 for q in consuming if not q.endswith(".dead")):
            break
        assert time.monotonic() < deadline, f"messages left waiting: {depths}"
        await asyncio.sleep(1)


@pytest.mark.timeout(240)
def test_sigterm_stops_a_consumer_whose_broker_is_gone(
    own_rabbitmq_url: str, own_database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = base_env({"gateway": free_port(), "sandbox": free_port()})
    env.update(RABBITMQ_URL=own_rabbitmq_url, DATABASE_URL=own_database_url, PORT=str(port))
    process = Process("conversation", "conversation", env, tmp_path)
    url = f"http://127.0.0.1:{port}"
    process.start()
    try:
        wait_healthy(url, process, timeout=90)
        # The vhost goes away: RabbitMQ closes the connection and refuses every reconnect.
        vhost = unquote(urlsplit(own_rabbitmq_url).path.lstrip("/"))
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=True, timeout=60)
        deadline = time.monotonic() + 30
        while httpx.get(url + "/health", timeout=5).status_code != 503:
            assert time.monotonic() < deadline, "/health never reported the broker down"
            time.sleep(0.5)
        code, seconds = terminate(process)
    finally:
        process.stop()
    assert code == 0, process.log_tail()
    assert seconds < 40, f"took {seconds:.1f} s: past Kubernetes' 45 s grace with startup"
    assert '"event": "service.stopped"' in process.log_path.read_text(), process.log_tail()
