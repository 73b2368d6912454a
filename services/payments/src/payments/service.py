"""Wires the payments service: database, broker, Paystack client, consumers, background
reconciliation, HTTP."""

from __future__ import annotations

import asyncio

import httpx

from payments import plans
from payments.app import create_app
from payments.consumers import build_consumers
from payments.handlers import PaymentsHandler
from payments.models import SCHEMA, outbox
from payments.paystack_client import PaystackClient
from payments.reconciliation import Reconciler
from payments.settings import PaymentsSettings
from shared.db import create_engine, session_factory
from shared.health import Health, database_check
from shared.messaging import Broker
from shared.messaging.outbox import Outbox
from shared.service import ConsumingService


class PaymentsService(ConsumingService):
    def __init__(self, settings: PaymentsSettings, broker: Broker) -> None:
        engine = create_engine(
            settings.resolved_database_url(),
            schema=SCHEMA,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        self.settings = settings
        self.sessions = session_factory(engine)
        # One pooled client for every Paystack call.
        self.http = httpx.AsyncClient(timeout=settings.paystack_timeout_seconds)
        self.paystack = PaystackClient(
            self.http,
            base_url=settings.paystack_base_url(settings.sandbox_url),
            secret_key=settings.paystack_key(),
            attempts=settings.paystack_attempts,
            retry_wait_seconds=settings.paystack_retry_wait_seconds,
        )
        relay = Outbox(outbox, self.sessions, broker, service=settings.service_name)
        self.handler = PaymentsHandler(settings, self.sessions, relay, self.paystack)
        self.reconciler = Reconciler(settings, self.sessions, relay, self.handler, self.paystack)
        health = Health(settings.service_name)
        health.add("database", database_check(engine))

        async def broker_up() -> bool:
            return broker.is_connected()

        health.add("broker", broker_up)
        super().__init__(
            name=settings.service_name,
            app=create_app(settings, health, self.sessions, self.handler, self.paystack),
            broker=broker,
            engine=engine,
            outbox=relay,
            consumers=build_consumers(settings, self.handler),
        )
        health.add("consumers", self.consuming)

    async def start(self) -> None:
        async with self.sessions() as session, session.begin():
            await plans.seed_from_file(session, self.settings.plans_file)
        await super().start()

    async def on_started(self) -> None:
        self.run_in_background(asyncio.create_task(self.reconciler.run_payments(self.stopping)))
        self.run_in_background(
            asyncio.create_task(self.reconciler.run_subscriptions(self.stopping))
        )

    async def stop(self) -> None:
        await super().stop()
        await self.http.aclose()


def build_service(settings: PaymentsSettings, broker: Broker) -> PaymentsService:
    return PaymentsService(settings, broker)
