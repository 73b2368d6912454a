"""The notifier's real servers: PostgreSQL migrated to head, a Twilio-shaped fake on a
free port, and the notifier itself wired as in production around an in-memory broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import notifier
from notifier.service import NotifierService
from notifier.settings import NotifierSettings
from notifier.testing import FakeTwilio
from shared.messaging.memory import InMemoryBroker
from shared.migrations import upgrade_async
from shared.testing import running_app

MIGRATIONS = Path(notifier.__file__).parent / "migrations"
ADMIN_TOKEN = "notifier-test-admin-token"
PUBLIC_BASE_URL = "https://desk.example.test"
SENDER = "whatsapp:+15550001111"


@pytest.fixture(scope="session")
async def notifier_database(database_url: str) -> str:
    await upgrade_async(database_url, MIGRATIONS, "notifier")
    return database_url


@pytest.fixture
async def twilio() -> AsyncIterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio(account_sid="AC" + "1" * 32, auth_token="fake-auth-token")
    async with running_app(fake.app()) as url:
        yield fake, url


@pytest.fixture
def settings(notifier_database: str, twilio: tuple[FakeTwilio, str]) -> NotifierSettings:
    fake, url = twilio
    return NotifierSettings(
        database_url=notifier_database,
        notifier_database_url=notifier_database,
        admin_api_token=ADMIN_TOKEN,
        public_base_url=PUBLIC_BASE_URL,
        twilio_account_sid=fake.account_sid,
        twilio_auth_token=fake.auth_token,
        twilio_whatsapp_from=SENDER,
        twilio_api_base_url=url,
        # Short waits: three calls per handling, three handlings per message.
        send_attempts=3,
        send_retry_wait_seconds=0.01,
        send_lease_poll_seconds=0.05,
        consumer_max_attempts=3,
        consumer_retry_delay_ms=50,
    )


@pytest.fixture
async def broker() -> AsyncIterator[InMemoryBroker]:
    broker = InMemoryBroker(service="notifier")
    await broker.connect()
    yield broker
    await broker.close()


@pytest.fixture
async def service(
    settings: NotifierSettings, broker: InMemoryBroker
) -> AsyncIterator[NotifierService]:
    service = NotifierService(settings, broker)
    await service.start()
    yield service
    await service.stop()
