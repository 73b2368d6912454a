"""Inbound media fetched from the provider sandbox over real sockets: good images of each
type are stored by their hash; too big, disguised, truncated or foreign ones are refused."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from notifier.service import NotifierService
from notifier.settings import NotifierSettings
from sandbox.app import create_app as create_sandbox
from sandbox.media_hosting import twilio_media_url
from sandbox.media_samples import sample
from sandbox.settings import SandboxSettings
from shared import sandbox_defaults
from shared.events import (
    Channel,
    Envelope,
    MediaFetched,
    MediaFetchRequested,
    MediaRef,
    MediaRejection,
)
from shared.messaging.memory import InMemoryBroker
from shared.testing import eventually, running_app

STUDENT = "+2348000000077"


@pytest.fixture
async def sandbox_url() -> AsyncIterator[str]:
    async with running_app(create_sandbox(SandboxSettings())) as url:
        yield url


@pytest.fixture
async def fetching(
    notifier_database: str, sandbox_url: str, broker: InMemoryBroker, tmp_path: Path
) -> AsyncIterator[tuple[NotifierService, Path]]:
    root = tmp_path / "media"
    settings = NotifierSettings(
        database_url=notifier_database,
        notifier_database_url=notifier_database,
        sandbox_url=sandbox_url,
        media_root=str(root),
        consumer_retry_delay_ms=50,
    )
    service = NotifierService(settings, broker)
    await service.start()
    yield service, root
    await service.stop()


async def fetched(broker: InMemoryBroker, request: MediaFetchRequested) -> MediaFetched:
    await broker.publish(Envelope.wrap(request, key=request.phone_number))

    def outcome() -> MediaFetched | None:
        for envelope in broker.published:
            payload = envelope.payload
            if isinstance(payload, MediaFetched) and payload.request_id == request.request_id:
                assert envelope.key == request.phone_number
                return payload
        return None

    await eventually(lambda: outcome() is not None, what="media.fetched published")
    result = outcome()
    assert result is not None
    return result


def twilio_request(sandbox_url: str, name: str) -> MediaFetchRequested:
    url = twilio_media_url(sandbox_url, sandbox_defaults.TWILIO_ACCOUNT_SID, "MM" + "0" * 32, name)
    return MediaFetchRequested(
        request_id=uuid.uuid4(),
        phone_number=STUDENT,
        channel=Channel.TWILIO,
        media=MediaRef(url=url, content_type="image/jpeg"),
    )


def cloud_request(name: str, caption: str | None = None) -> MediaFetchRequested:
    media_id = "sandbox-media-" + name.replace(".", "-")
    return MediaFetchRequested(
        request_id=uuid.uuid4(),
        phone_number=STUDENT,
        channel=Channel.CLOUD_API,
        media=MediaRef(provider_media_id=media_id, content_type="image/png", caption=caption),
    )


@pytest.mark.parametrize(
    ("name", "channel", "content_type"),
    [
        ("sample.jpg", Channel.TWILIO, "image/jpeg"),
        ("sample.png", Channel.CLOUD_API, "image/png"),
        ("sample.webp", Channel.CLOUD_API, "image/webp"),
        ("sample.png", Channel.TWILIO, "image/png"),
    ],
)
async def test_a_good_image_is_stored_by_its_hash_and_reported(
    fetching: tuple[NotifierService, Path],
    broker: InMemoryBroker,
    sandbox_url: str,
    name: str,
    channel: Channel,
    content_type: str,
) -> None:
    _, root = fetching
    request = (
        twilio_request(sandbox_url, name)
        if channel is Channel.TWILIO
        else cloud_request(name, caption="Q4")
    )
    result = await fetched(broker, request)
    found = sample(name)
    assert found is not None
    data = found[0]
    digest = hashlib.sha256(data).hexdigest()
    assert result.rejection is None
    assert result.stored is not None
    assert (result.stored.sha256, result.stored.content_type, result.stored.size_bytes) == (
        digest,
        content_type,
        len(data),
    )
    assert (root / digest[:2] / digest).read_bytes() == data
    # Nothing named after the provider's URL or id was written.
    assert [p.name for p in root.rglob("*") if p.is_file()] == [digest]


@pytest.mark.parametrize(
    ("name", "rejection"),
    [
        ("huge.jpg", MediaRejection.TOO_LARGE),
        ("document.jpg", MediaRejection.UNSUPPORTED_TYPE),
        ("truncated.png", MediaRejection.UNREADABLE),
    ],
)
async def test_bad_files_are_refused_and_nothing_is_stored(
    fetching: tuple[NotifierService, Path],
    broker: InMemoryBroker,
    sandbox_url: str,
    name: str,
    rejection: MediaRejection,
) -> None:
    _, root = fetching
    for request in (twilio_request(sandbox_url, name), cloud_request(name)):
        result = await fetched(broker, request)
        assert (result.stored, result.rejection) == (None, rejection)
        assert result.detail
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))


async def test_media_on_a_host_that_is_not_the_providers_is_never_fetched(
    fetching: tuple[NotifierService, Path], broker: InMemoryBroker, sandbox_url: str
) -> None:
    # The same sandbox under another name: the allow-list is by host, so it is refused.
    elsewhere = sandbox_url.replace("127.0.0.1", "localhost")
    result = await fetched(broker, twilio_request(elsewhere, "sample.jpg"))
    assert result.rejection is MediaRejection.DOWNLOAD_FAILED
    assert "provider" in (result.detail or "")


async def test_the_same_request_twice_is_answered_once(
    fetching: tuple[NotifierService, Path], broker: InMemoryBroker, sandbox_url: str
) -> None:
    request = twilio_request(sandbox_url, "sample.jpg")
    await fetched(broker, request)
    await broker.publish(Envelope.wrap(request, key=STUDENT))
    await eventually(lambda: broker.depth("notifier") == 0)
    answers = [
        e
        for e in broker.published
        if isinstance(e.payload, MediaFetched) and e.payload.request_id == request.request_id
    ]
    assert len(answers) == 1
