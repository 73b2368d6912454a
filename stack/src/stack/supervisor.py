"""One process per service against RabbitMQ and PostgreSQL, stopped together on Ctrl-C."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from shared import sandbox_defaults
from shared.logging import configure_logging
from stack.catalog import SERVICES

log = logging.getLogger(__name__)

PROCESSES = [definition.name for definition in SERVICES] + ["sandbox"]
DEFAULT_PORTS = {
    "gateway": 8000,
    "conversation": 8001,
    "payments": 8002,
    "notifier": 8003,
    "sandbox": sandbox_defaults.SANDBOX_PORT,
}


async def run_processes(names: list[str] | None = None) -> int:
    configure_logging("stack")
    names = names or PROCESSES
    children: dict[str, asyncio.subprocess.Process] = {}
    for name in names:
        # One environment for all: NAME_PORT tells the children apart, as in embedded mode.
        env = os.environ.copy()
        env["PORT"] = os.environ.get(f"{name.upper()}_PORT", str(DEFAULT_PORTS[name]))
        children[name] = await asyncio.create_subprocess_exec(sys.executable, "-m", name, env=env)
        log.info("stack.process_started", extra={"child": name, "pid": children[name].pid})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    waits = {asyncio.create_task(p.wait()): n for n, p in children.items()}
    stopping = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({stopping, *waits}, return_when=asyncio.FIRST_COMPLETED)
    exit_code = 0
    for task in done:
        if task in waits:
            log.error("stack.process_exited", extra={"child": waits[task], "code": task.result()})
            exit_code = 1
    for process in children.values():
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    await asyncio.gather(*(p.wait() for p in children.values()))
    stopping.cancel()
    log.info("stack.stopped")
    return exit_code
