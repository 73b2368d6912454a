"""Run the benchmark: floors first, then the whole stack at rising rates; print a table.

Needs RabbitMQ and PostgreSQL (RABBITMQ_URL / DATABASE_URL, defaults: the local servers);
makes its own vhost and database and drops them after. About two to three minutes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

from bench.one_hop import one_hop_floor
from shared import sandbox_defaults
from shared.testing import free_port
from stack.testing import Stack, base_env, start_stack, stop_stack

RATES = (10, 20, 40, 80, 160, 320)
STEP_SECONDS = 6.0
OURS = ("gateway", "conversation", "payments", "notifier")
ALL = (".*", ".*", ".*")
HOPS = 2  # broker hops from webhook to provider call: inbound queue, outbound queue
# What one message costs besides CPU, summed over our services' /metrics.
COUNTED = {
    "tutordesk_db_transactions_total": "database transactions",
    "tutordesk_db_statements_total": "statements",
    "tutordesk_events_published_total": "broker publishes",
}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(latencies: list[float], q: float = 0.5) -> str:
    return f"{pct(latencies, q) * 1000:.1f} ms"


def signed_form(url: str, number: str) -> tuple[dict[str, str], dict[str, str]]:
    form = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": sandbox_defaults.TWILIO_ACCOUNT_SID,
        "From": f"whatsapp:{number}",
        "To": sandbox_defaults.TWILIO_WHATSAPP_FROM,
        "Body": "hi",
        "NumMedia": "0",
    }
    signature = RequestValidator(sandbox_defaults.TWILIO_AUTH_TOKEN).compute_signature(url, form)
    return form, {"X-Twilio-Signature": signature}


def number(i: int) -> str:
    return f"+2349{os.getpid() % 100:02d}{i:07d}"


async def closed_loop(
    post: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]],
    seconds: float,
    workers: int = 32,
) -> tuple[float, list[float]]:
    """As fast as ``workers`` concurrent clients can go: requests/s and latencies."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds
    counter = iter(range(10**9))
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=workers)) as client:

        async def worker() -> None:
            while time.perf_counter() < stop:
                started = time.perf_counter()
                response = await client.post_fn(client, next(counter))  # type: ignore[attr-defined]
                if response.status_code == 200:
                    latencies.append(time.perf_counter() - started)

        client.post_fn = post  # type: ignore[attr-defined]
        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(workers)))
        return len(latencies) / (time.perf_counter() - began), latencies


def start_floor(kind: str, rabbitmq_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.floor_app", kind, str(port), rabbitmq_url],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.post(url + "/nothing", timeout=1)
            return process, url
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


async def http_floor(kind: str, rabbitmq_url: str) -> tuple[float, list[float]]:
    process, url = start_floor(kind, rabbitmq_url)
    try:

        async def post(client: httpx.AsyncClient, i: int) -> httpx.Response:
            form, headers = signed_form(url + "/hook", number(i))
            return await client.post(url + "/hook", data=form, headers=headers)

        await closed_loop(post, 1.0)  # warm up
        return await closed_loop(post, 5.0)
    finally:
        process.terminate()
        process.wait(10)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def our_pids(stack: Stack) -> dict[str, int]:
    return {
        name: process.popen.pid
        for name, process in stack.processes.items()
        if process.popen is not None and name in OURS
    }


def counted(stack: Stack) -> dict[str, float]:
    totals = dict.fromkeys(COUNTED, 0.0)
    for name in OURS:
        page = httpx.get(stack.urls[name] + "/metrics", timeout=10).text
        for family in text_string_to_metric_families(page):
            for sample in family.samples:
                if sample.name in totals:
                    totals[sample.name] += sample.value
    return totals


async def replies_at(stack: Stack) -> dict[str, datetime]:
    async with httpx.AsyncClient(timeout=30) as client:
        messages = (await client.get(stack.sandbox + "/sandbox/twilio/messages")).json()
    found: dict[str, datetime] = {}
    for message in messages["messages"]:
        to = message["to"].removeprefix("whatsapp:")
        found.setdefault(to, datetime.fromisoformat(message["created_at"]))
    return found


async def step(stack: Stack, rate: int, first: int) -> dict[str, float]:
    """``rate`` webhooks a second for STEP_SECONDS, each from a new number saying hi."""
    url = stack.gateway + "/api/v1/whatsapp/webhook"
    count = int(rate * STEP_SECONDS)
    sent_at: dict[str, float] = {}
    acks: list[float] = []
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=200)) as client:

        async def one(i: int) -> None:
            phone = number(first + i)
            form, headers = signed_form(url, phone)
            started = time.time()
            sent_at[phone] = started
            response = await client.post(url, data=form, headers=headers)
            if response.status_code == 200:
                acks.append(time.time() - started)

        began = time.perf_counter()
        tasks = []
        for i in range(count):
            delay = began + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        ack_elapsed = time.perf_counter() - began
    deadline = time.monotonic() + 30
    while True:
        seen = await replies_at(stack)
        done = {p: seen[p].timestamp() for p in sent_at if p in seen}
        if len(done) == count or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    e2e = [done[p] - sent_at[p] for p in done]
    span = (max(done.values()) - min(sent_at.values())) if done else float("inf")
    return {
        "rate": rate,
        "acks_per_s": len(acks) / ack_elapsed,
        "ack_p50": pct(acks, 0.5) * 1000,
        "ack_p99": pct(acks, 0.99) * 1000,
        "e2e_per_s": len(done) / span,
        "e2e_p50": pct(e2e, 0.5) * 1000,
        "e2e_p95": pct(e2e, 0.95) * 1000,
        "e2e_p99": pct(e2e, 0.99) * 1000,
        "complete": len(done) / count,
        "messages": len(done),
    }


async def gateway_max(stack: Stack) -> tuple[float, list[float]]:
    url = stack.gateway + "/api/v1/whatsapp/webhook"

    async def post(client: httpx.AsyncClient, i: int) -> httpx.Response:
        form, headers = signed_form(url, number(5_000_000 + i))
        return await client.post(url, data=form, headers=headers)

    return await closed_loop(post, 5.0)


def fresh_backends() -> tuple[str, str, Callable[[], None]]:
    rabbit = urlsplit(os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/"))
    database = make_url(
        os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    ).set(drivername="postgresql+psycopg")
    name = f"tutordesk_bench_{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", name, rabbit.username or "guest", *ALL],
        check=True,
    )
    admin = create_engine(database.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], check=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return (
        urlunsplit(rabbit._replace(path=f"/{name}")),
        database.set(database=name).render_as_string(hide_password=False),
        drop,
    )


async def run() -> None:
    rabbitmq_url, database_url, drop = fresh_backends()
    try:
        print("floors ...", flush=True)
        bare_rate, bare_lat = await http_floor("bare", rabbitmq_url)
        twilio_rate, twilio_lat = await http_floor("twilio", rabbitmq_url)
        hop_rate = await one_hop_floor(rabbitmq_url, database_url)
        ports = {"gateway": free_port(), "sandbox": free_port()}
        env = base_env(ports)
        env.update(RABBITMQ_URL=rabbitmq_url, DATABASE_URL=database_url, LOG_LEVEL="WARNING")
        # The notifier paces sends to what a WhatsApp sender may send (20 a second by
        # default, all from one sender here): a provider's limit, not our throughput.
        env["SENDS_PER_SECOND"] = "1000"
        print("starting the stack ...", flush=True)
        stack = start_stack(env, Path(tempfile.mkdtemp(prefix="bench-")), ports=ports)
        try:
            pids = our_pids(stack)
            cpu_before = {n: cpu_seconds(p) for n, p in pids.items()}
            counts_before = counted(stack)
            results: list[dict[str, float]] = []
            first = 0
            for rate in RATES:
                print(f"  {rate}/s ...", flush=True)
                result = await step(stack, rate, first)
                first += int(rate * STEP_SECONDS)
                results.append(result)
                if result["complete"] < 1 or result["e2e_per_s"] < 0.8 * rate:
                    break
            messages = sum(r["messages"] for r in results)
            cpu = sum(cpu_seconds(p) - cpu_before[n] for n, p in pids.items())
            counts = {k: v - counts_before[k] for k, v in counted(stack).items()}
            gateway_rate, gateway_lat = await gateway_max(stack)
            memory = {n: peak_mib(p) for n, p in pids.items()}
        finally:
            stop_stack(stack)
    finally:
        drop()
    kept_up = [r for r in results if r["complete"] == 1 and r["e2e_per_s"] >= 0.8 * r["rate"]]
    best = max(kept_up, key=lambda r: r["e2e_per_s"]) if kept_up else results[0]
    half = [r for r in results if r["rate"] <= best["rate"] / 2] or [results[0]]
    at_half = half[-1]
    e2e_floor = hop_rate / HOPS
    print()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")
    print("floors")
    print(f"  bare FastAPI endpoint              {bare_rate:6.0f} req/s, p50 {ms(bare_lat)}")
    print(f"  + Twilio form, signature, confirm  {twilio_rate:6.0f} req/s, p50 {ms(twilio_lat)}")
    print(f"  consume -> txn -> confirm -> ack   {hop_rate:6.0f} msg/s")
    print("gateway (closed loop, 32 clients)")
    print(
        f"  {gateway_rate:.0f} acks/s, p50 {pct(gateway_lat, 0.5) * 1000:.1f} ms, "
        f"p99 {pct(gateway_lat, 0.99) * 1000:.1f} ms; {gateway_rate / twilio_rate:.2f} of its floor"
        " (target 0.7)"
    )
    print("end to end, webhook in -> provider API call out, by offered rate")
    for r in results:
        print(
            f"  {r['rate']:4.0f}/s offered: acks {r['acks_per_s']:5.1f}/s "
            f"(p50 {r['ack_p50']:.0f} ms, p99 {r['ack_p99']:.0f} ms); "
            f"e2e {r['e2e_per_s']:5.1f}/s, p50 {r['e2e_p50']:.0f} / p95 {r['e2e_p95']:.0f} / "
            f"p99 {r['e2e_p99']:.0f} ms, {r['complete']:.0%} complete"
        )
    print(
        f"  max sustained {best['e2e_per_s']:.1f} msg/s = {best['e2e_per_s'] / e2e_floor:.2f} of "
        f"the one-hop floor / {HOPS} hops ({e2e_floor:.0f}/s; target 0.5)"
    )
    half_p99 = at_half["e2e_p99"]
    print(f"  p99 at {at_half['rate']:.0f}/s (half the max): {half_p99:.0f} ms (target < 150)")
    print(f"CPU per message across our processes: {cpu / max(messages, 1) * 1000:.1f} ms")
    print(
        "per message, across our processes: "
        + ", ".join(f"{counts[k] / max(messages, 1):.1f} {what}" for k, what in COUNTED.items())
    )
    print("peak memory: " + ", ".join(f"{n} {m:.0f} MiB" for n, m in memory.items()))


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
