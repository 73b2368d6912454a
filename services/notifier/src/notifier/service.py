"""Wires the notifier: database, broker, the provider client, consumers, HTTP."""

from __future__ import annotations

from datetime import timedelta

import httpx

from notifier.app import create_app
from notifier.consumers import build_consumers
from notifier.handlers import NotifierHandler
from notifier.models import SCHEMA
from notifier.settings import NotifierSettings
from notifier.twilio_sender import TwilioSender
from shared.db import create_engine, session_factory
from shared.health import Health, database_check
from shared.messaging import Broker
from shared.service import ConsumingService


class NotifierService(ConsumingService):
    """A consuming service that also owns the HTTP client its provider calls go through."""

    def __init__(self, settings: NotifierSettings, broker: Broker) -> None:
        engine = create_engine(
            settings.resolved_database_url(),
            schema=SCHEMA,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        self.sessions = session_factory(engine)
        # One pooled client for every send, so connections to the provider are reused.
        self.http = httpx.AsyncClient(
            timeout=settings.send_timeout_seconds,
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        )
        self.handler = NotifierHandler(
            self.sessions,
            TwilioSender(settings, self.http),
            give_up_after=settings.consumer_max_attempts,
            lease=timedelta(seconds=settings.send_lease_seconds),
            lease_poll_seconds=settings.send_lease_poll_seconds,
        )
        health = Health(settings.service_name)
        health.add("database", database_check(engine))

        async def broker_up() -> bool:
            return broker.is_connected()

        health.add("broker", broker_up)
        super().__init__(
            name=settings.service_name,
            app=create_app(settings, health, self.sessions, self.handler),
            broker=broker,
            engine=engine,
            # The notifier publishes no events yet; a relay would only poll an empty table.
            outbox=None,
            consumers=build_consumers(settings, self.handler),
        )

    async def stop(self) -> None:
        await super().stop()
        await self.http.aclose()


def build_service(settings: NotifierSettings, broker: Broker) -> NotifierService:
    return NotifierService(settings, broker)
