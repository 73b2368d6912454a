"""The embedded default: all four services and the sandbox in one process, on an
in-memory broker and SQLite files, serving the same ports as a full deployment.

One process shares one environment, so ``PORT`` cannot tell the services apart here:
``GATEWAY_PORT``, ``CONVERSATION_PORT``, ``PAYMENTS_PORT``, ``NOTIFIER_PORT`` and
``SANDBOX_PORT`` move them."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sandbox.app import create_app as create_sandbox_app
from sandbox.settings import SandboxSettings
from shared.logging import configure_logging
from shared.messaging.memory import InMemoryBroker, ServiceBroker
from shared.migrations import upgrade_async
from shared.runtime import Listener, Service, serve
from stack.catalog import SERVICES

log = logging.getLogger(__name__)


async def run_embedded(var_dir: Path, host: str = "127.0.0.1") -> None:
    configure_logging("stack")
    var_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before serving
    broker = InMemoryBroker(service="embedded")
    services: list[Service] = []
    listeners: list[Listener] = []
    for definition in SERVICES:
        overrides: dict[str, object] = {"host": host}
        port = os.environ.get(f"{definition.name.upper()}_PORT")
        if port:
            overrides["port"] = int(port)
        if definition.has_database:
            url = f"sqlite+aiosqlite:///{(var_dir / definition.name).resolve()}.db"
            await upgrade_async(url, definition.migrations, definition.schema)
            overrides["database_url"] = url
        settings = definition.settings(**overrides)
        service = definition.build()(settings, ServiceBroker(broker, definition.name))
        services.append(service)
        listeners.append(Listener(service.app, settings.host, settings.port))
    sandbox_port = os.environ.get("SANDBOX_PORT")
    sandbox_settings = SandboxSettings(**({"port": int(sandbox_port)} if sandbox_port else {}))
    listeners.append(Listener(create_sandbox_app(sandbox_settings), host, sandbox_settings.port))
    log.info(
        "stack.embedded",
        extra={
            "chat_page": f"http://{host}:{sandbox_settings.port}/",
            "data": str(var_dir),
        },
    )
    try:
        await serve(services, listeners)
    finally:
        await broker.close()
