"""Wires the conversation service: database, broker, consumers, HTTP."""

from __future__ import annotations

import asyncio

from conversation import catalog, faq, tutoring
from conversation.app import create_app
from conversation.consumers import QUEUE, build_consumers
from conversation.handlers import InboundHandler
from conversation.models import SCHEMA, outbox
from conversation.settings import ConversationSettings
from shared.db import create_engine, session_factory
from shared.health import Health, database_check
from shared.messaging import Broker
from shared.messaging.outbox import Outbox
from shared.service import ConsumingService


class ConversationService(ConsumingService):
    def __init__(self, settings: ConversationSettings, broker: Broker) -> None:
        engine = create_engine(
            settings.resolved_database_url(),
            schema=SCHEMA,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        self.sessions = session_factory(engine)
        self.settings = settings
        health = Health(settings.service_name)
        health.add("database", database_check(engine))

        async def broker_up() -> bool:
            return broker.is_connected()

        health.add("broker", broker_up)
        relay = Outbox(outbox, self.sessions, broker, service=settings.service_name)
        inbound = InboundHandler(settings, self.sessions, relay, queue=QUEUE)
        self.inbound = inbound
        self.relay = relay
        super().__init__(
            name=settings.service_name,
            app=create_app(settings, health, self.sessions, relay),
            broker=broker,
            engine=engine,
            outbox=relay,
            consumers=build_consumers(settings, inbound),
        )
        health.add("consumers", self.consuming)

    async def start(self) -> None:
        async with self.sessions() as session, session.begin():
            await catalog.seed_from_file(session, self.settings.catalog_file)
            await faq.seed_from_file(session, self.settings.faq_file)
        await super().start()

    async def on_started(self) -> None:
        self.run_in_background(
            asyncio.create_task(
                tutoring.run_reassignment_loop(
                    self.settings,
                    self.sessions,
                    self.relay,
                    self.stopping,
                    lambda: self.inbound.clock(),
                )
            )
        )


def build_service(settings: ConversationSettings, broker: Broker) -> ConversationService:
    return ConversationService(settings, broker)
