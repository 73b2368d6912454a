"""Starts one service as its own process against RabbitMQ and PostgreSQL."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from shared.error_tracking import init_error_tracking
from shared.logging import configure_logging
from shared.messaging.broker import Broker
from shared.messaging.rabbitmq import RabbitBroker
from shared.migrations import upgrade_async
from shared.runtime import Listener, Service, serve
from shared.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def run_service(
    settings: S,
    build: Callable[[S, Broker], Service],
    *,
    migrations: Path | None = None,
    schema: str | None = None,
) -> None:
    configure_logging(settings.service_name, settings.log_level)
    init_error_tracking(
        settings.service_name,
        settings.sentry_dsn.get_secret_value() if settings.sentry_dsn else None,
        environment=settings.app_env,
    )

    async def main() -> None:
        if migrations is not None and schema is not None:
            await upgrade_async(settings.resolved_database_url(), migrations, schema)
        broker = RabbitBroker(
            settings.broker_url(),
            service=settings.service_name,
            exchange_name=settings.exchange_name,
            rebalance_seconds=settings.broker_rebalance_seconds,
        )
        service = build(settings, broker)
        await serve([service], [Listener(service.app, settings.host, settings.port)])

    _run(main())


def _run(main: Coroutine[Any, Any, None]) -> None:
    # libuv's event loop spends less CPU per event than asyncio's own (not built for Windows).
    if sys.platform == "win32":
        asyncio.run(main)
        return
    import uvloop

    uvloop.run(main)
