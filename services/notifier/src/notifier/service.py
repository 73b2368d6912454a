"""Wires the notifier: database, broker, the provider client, consumers, HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from notifier.app import create_app
from notifier.cloud_api_sender import CloudApiSender
from notifier.consumers import build_consumers
from notifier.handlers import ChannelSender, NotifierHandler, Wiring
from notifier.media_fetch import (
    CLOUD_API_HOSTS,
    TWILIO_HOSTS,
    MediaFetcher,
    ProviderAccess,
    hosts_with,
)
from notifier.models import SCHEMA, outbox
from notifier.outbound_media import OutboundMedia
from notifier.pacing import SendPacer
from notifier.settings import NotifierSettings
from notifier.twilio_sender import TwilioSender
from shared.db import create_engine, session_factory
from shared.events import Channel
from shared.health import Health, database_check
from shared.media_store import MediaStore
from shared.messaging import Broker
from shared.messaging.outbox import Outbox
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
        relay = Outbox(outbox, self.sessions, broker, service=settings.service_name)
        self.handler = NotifierHandler(
            self.sessions,
            build_wiring(settings, self.http, relay),
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
            outbox=relay,
            consumers=build_consumers(settings, self.handler),
        )
        health.add("consumers", self.consuming)

    async def stop(self) -> None:
        await super().stop()
        await self.http.aclose()


def build_wiring(settings: NotifierSettings, http: httpx.AsyncClient, relay: Outbox) -> Wiring:
    """The real adapters: a sender per channel, the pacer, media links and fetching."""
    twilio = TwilioSender(settings, http)
    senders: dict[Channel, ChannelSender] = {Channel.TWILIO: twilio}
    account_sid, auth_token = settings.twilio_credentials()
    providers = {
        Channel.TWILIO: ProviderAccess(
            hosts=hosts_with(
                (*TWILIO_HOSTS, *settings.media_extra_hosts),
                settings.twilio_base_url(settings.sandbox_url),
            ),
            auth=httpx.BasicAuth(account_sid, auth_token),
        )
    }
    cloud: CloudApiSender | None = None
    if settings.cloud_api_enabled:
        cloud = CloudApiSender(settings, http)
        senders[Channel.CLOUD_API] = cloud
        providers[Channel.CLOUD_API] = ProviderAccess(
            hosts=hosts_with((*CLOUD_API_HOSTS, *settings.media_extra_hosts), cloud.base_url),
            headers=tuple(cloud.auth_headers.items()),
            graph_base_url=cloud.base_url,
        )
    return Wiring(
        senders=senders,
        pacer=SendPacer(settings.sends_per_second, settings.recipient_gap_seconds),
        media=OutboundMedia(
            settings.public_base_url,
            settings.media_link_key(),
            timedelta(seconds=settings.media_link_ttl_seconds),
            clock=lambda: datetime.now(UTC),
        ),
        templates=settings.template_for,
        window=timedelta(hours=settings.customer_service_window_hours),
        read_marker=cloud if settings.mark_inbound_read else None,
        fetcher=MediaFetcher(http, MediaStore(settings.media_root), providers),
        outbox=relay,
    )


def build_service(settings: NotifierSettings, broker: Broker) -> NotifierService:
    return NotifierService(settings, broker)
