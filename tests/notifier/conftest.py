"""The notifier's real servers: PostgreSQL migrated to head, a Twilio-shaped fake on a
free port, and the notifier itself wired as in production around an in-memory broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import notifier
from notifier.service import NotifierService
from notifier.settings import NotifierSettings
from notifier.testing import FakeCloudApi, FakeTwilio
from shared.messaging.memory import InMemoryBroker
from shared.migrations import upgrade_async
from shared.testing import running_app

MIGRATIONS = Path(notifier.__file__).parent / "migrations"
ADMIN_TOKEN = "notifier-test-admin-token"
PUBLIC_BASE_URL = "https://desk.example.test"
SENDER = "whatsapp:+15550001111"
MEDIA_LINK_SECRET = "notifier-test-link-secret"


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
async def cloud_api() -> AsyncIterator[tuple[FakeCloudApi, str]]:
    fake = FakeCloudApi(access_token="fake-cloud-token", phone_number_id="109876543210")
    async with running_app(fake.app()) as url:
        yield fake, url


@pytest.fixture
def settings(
    notifier_database: str,
    twilio: tuple[FakeTwilio, str],
    cloud_api: tuple[FakeCloudApi, str],
    tmp_path: Path,
) -> NotifierSettings:
    fake, url = twilio
    cloud, cloud_url = cloud_api
    return NotifierSettings(
        database_url=notifier_database,
        notifier_database_url=notifier_database,
        admin_api_token=ADMIN_TOKEN,
        public_base_url=PUBLIC_BASE_URL,
        twilio_account_sid=fake.account_sid,
        twilio_auth_token=fake.auth_token,
        twilio_whatsapp_from=SENDER,
        twilio_api_base_url=url,
        whatsapp_access_token=cloud.access_token,
        whatsapp_phone_number_id=cloud.phone_number_id,
        whatsapp_api_base_url=cloud_url,
        media_root=str(tmp_path / "media"),
        media_link_secret=MEDIA_LINK_SECRET,
        sends_per_second=1000,
        recipient_gap_seconds=0,
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
