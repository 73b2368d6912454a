"""Runs services: their HTTP servers, their background work, and a clean stop on a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import uvicorn
from fastapi import FastAPI

log = logging.getLogger(__name__)


class Service(Protocol):
    name: str
    app: FastAPI

    async def start(self) -> None:
        """Connect, start consumers and relays. HTTP is already serving."""
        ...

    async def stop(self) -> None:
        """Stop taking work, finish what is in hand, flush, disconnect."""
        ...


@dataclass
class Listener:
    app: FastAPI
    host: str
    port: int


class _QuietServer(uvicorn.Server):
    # Several servers share one loop; the signal handling is ours, not each server's.
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(services: list[Service], listeners: list[Listener]) -> None:
    """Serve until SIGINT or SIGTERM, then stop HTTP, then each service in turn."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    servers = [
        _QuietServer(
            uvicorn.Config(
                listener.app,
                host=listener.host,
                port=listener.port,
                log_config=None,
                access_log=False,
                timeout_graceful_shutdown=10,
                lifespan="off",
                # The C parser: h11, uvicorn's pure-Python one, costs several times the CPU.
                http="httptools",
            )
        )
        for listener in listeners
    ]
    http = [asyncio.create_task(server.serve()) for server in servers]
    starting: asyncio.Future[list[None]] = asyncio.gather(*(s.start() for s in services))
    stopped = asyncio.create_task(stop.wait())
    everything: set[asyncio.Future[Any]] = {starting, stopped, *http}
    done, _ = await asyncio.wait(everything, return_when=asyncio.FIRST_COMPLETED)
    if starting in done and starting.exception() is None:
        log.info("services.started", extra={"services": [s.name for s in services]})
        waiting: set[asyncio.Future[Any]] = {stopped, *http}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    failed = [t for t in http if t.done() and (t.exception() or not t.result())]
    log.info("services.stopping")
    for server in servers:
        server.should_exit = True
    await asyncio.gather(*http, return_exceptions=True)
    if not starting.done():
        starting.cancel()
    await asyncio.gather(starting, return_exceptions=True)
    for service in reversed(services):
        try:
            await service.stop()
        except Exception:
            log.exception("service.stop_failed", extra={"service_name": service.name})
    stopped.cancel()
    log.info("services.stopped")
    if failed or (starting.done() and not starting.cancelled() and starting.exception()):
        exc = starting.exception() if starting.done() and not starting.cancelled() else None
        raise SystemExit(f"a service failed to start: {exc!r}" if exc else "an HTTP server failed")
