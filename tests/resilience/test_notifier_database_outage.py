"""The notifier when PostgreSQL goes down between the provider taking a message and the
notifier recording it: the record waits for the database, so the message is neither
left "submitting" (and sent again once its lease is out) nor sent twice."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from sqlalchemy import select

import notifier
from notifier.models import OutboundMessage
from notifier.service import NotifierService
from notifier.settings import NotifierSettings
from notifier.testing import FakeTwilio, SentMessage, user_wrote
from shared.events import Channel, InboundMessageReceived, OutboundMessageRequested
from shared.messaging.memory import InMemoryBroker
from shared.migrations import upgrade_async
from shared.testing import running_app
from tests.resilience.servers import PrivatePostgres

OUTAGE_SECONDS = 3.0


async def test_a_send_the_provider_took_as_the_database_went_down_is_recorded_once_it_is_back(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    cluster = private_postgres
    await upgrade_async(cluster.url, Path(notifier.__file__).parent / "migrations", "notifier")
    fake = FakeTwilio(account_sid="AC" + "2" * 32, auth_token="outage-auth-token")
    outage: list[asyncio.Task[None]] = []

    async def database_goes_down(message: SentMessage) -> None:
        # Twilio has the message; PostgreSQL stops before the notifier hears back.
        await asyncio.to_thread(cluster.stop)

        async def back_later() -> None:
            await asyncio.sleep(OUTAGE_SECONDS)
            await asyncio.to_thread(cluster.start)

        outage.append(asyncio.create_task(back_later()))

    async with running_app(fake.app()) as twilio_url:
        settings = NotifierSettings(
            database_url=cluster.url,
            notifier_database_url=cluster.url,
            admin_api_token="outage-admin-token",
            public_base_url="https://desk.example.test",
            twilio_account_sid=fake.account_sid,
            twilio_auth_token=fake.auth_token,
            twilio_whatsapp_from="whatsapp:+15550001111",
            twilio_api_base_url=twilio_url,
            media_root=str(tmp_path / "media"),
            sends_per_second=1000,
            recipient_gap_seconds=0,
            send_lease_poll_seconds=0.05,
        )
        broker = InMemoryBroker(service="notifier")
        await broker.connect()
        service = NotifierService(settings, broker)
        await service.start()
        try:
            to = "+2348000070001"
            wrote = user_wrote(to).payload
            assert isinstance(wrote, InboundMessageReceived)
            await service.handler.record_inbound(wrote)
            event = OutboundMessageRequested(
                message_id=uuid.uuid4(), to_number=to, channel=Channel.TWILIO, text="just once"
            )
            fake.before_answer = database_goes_down
            await asyncio.wait_for(service.handler.send_requested(event), 30)
            await asyncio.gather(*outage)
            fake.before_answer = None
            # Delivered again, as the broker would: nothing more goes out.
            await asyncio.wait_for(service.handler.send_requested(event), 10)

            [sent] = fake.sent_to(to)
            async with service.sessions() as session:
                row = await session.scalar(
                    select(OutboundMessage).where(OutboundMessage.id == event.message_id)
                )
            assert row is not None
            assert (row.status, row.attempts, row.provider_message_id) == ("queued", 1, sent.sid)
        finally:
            await service.stop()
            await broker.close()
