"""Wires the payments service: database, broker, consumers, HTTP."""

from __future__ import annotations

from payments.app import create_app
from payments.consumers import build_consumers
from payments.models import SCHEMA, outbox
from payments.settings import PaymentsSettings
from shared.db import create_engine, session_factory
from shared.health import Health, database_check
from shared.messaging import Broker
from shared.messaging.outbox import Outbox
from shared.service import ConsumingService


def build_service(settings: PaymentsSettings, broker: Broker) -> ConsumingService:
    engine = create_engine(
        settings.resolved_database_url(),
        schema=SCHEMA,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    sessions = session_factory(engine)
    health = Health(settings.service_name)
    health.add("database", database_check(engine))

    async def broker_up() -> bool:
        return broker.is_connected()

    health.add("broker", broker_up)
    return ConsumingService(
        name=settings.service_name,
        app=create_app(settings, health),
        broker=broker,
        engine=engine,
        outbox=Outbox(outbox, sessions, broker, service=settings.service_name),
        consumers=build_consumers(settings, sessions),
    )
