"""The gateway: stateless, no database; it connects to the broker in the background so
that it can answer 503 (and providers retry) while the broker is away."""

from __future__ import annotations

import asyncio
import contextlib

from gateway.app import create_app
from gateway.settings import GatewaySettings
from shared.messaging import Broker


class GatewayService:
    def __init__(self, settings: GatewaySettings, broker: Broker) -> None:
        self.name = settings.service_name
        self.broker = broker
        self.app = create_app(settings, broker)
        self._connecting: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._connecting = asyncio.create_task(self.broker.connect())

    async def stop(self) -> None:
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
        await self.broker.close()


def build_service(settings: GatewaySettings, broker: Broker) -> GatewayService:
    return GatewayService(settings, broker)
