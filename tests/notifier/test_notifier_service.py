"""The notifier over real sockets and a real PostgreSQL, wired as in production: at most
one send per message, retries only where they can help, statuses that never go backwards."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from prometheus_client import REGISTRY
from sqlalchemy import select

from notifier.models import DeliveryStatus, OutboundMessage
from notifier.service import NotifierService
from notifier.settings import NotifierSettings
from notifier.testing import FakeTwilio, SentMessage, user_wrote
from shared.events import (
    Channel,
    DeliveryState,
    DeliveryStatusReceived,
    Envelope,
    Event,
    MediaRef,
    Option,
    OutboundMessageRequested,
)
from shared.messaging.memory import InMemoryBroker, ServiceBroker
from shared.testing import eventually, running_app
from tests.notifier.conftest import SENDER

_numbers = itertools.count(1)
FINISHED = ("ok", "dead_lettered")


def phone() -> str:
    return f"+2348{uuid.uuid4().int % 10**6:06d}{next(_numbers):04d}"


def request(to: str, text: str = "Hello", **extra: object) -> OutboundMessageRequested:
    return OutboundMessageRequested(
        message_id=uuid.uuid4(), to_number=to, channel=Channel.TWILIO, text=text, **extra
    )


def status(sid: str, state: DeliveryState, to: str, **extra: str) -> DeliveryStatusReceived:
    return DeliveryStatusReceived(
        channel=Channel.TWILIO, provider_message_id=sid, status=state, recipient=to, **extra
    )


def keyed(event: Event) -> Envelope[Event]:
    # As the conversation service and the gateway key them: by the user's number.
    key = getattr(event, "to_number", None) or getattr(event, "recipient", None)
    return Envelope.wrap(event, key=key)


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def finished(services: tuple[str, ...] = ("notifier",)) -> float:
    return sum(
        counter("tutordesk_messages_handled_total", service=s, queue="notifier", outcome=o)
        for s in services
        for o in FINISHED
    )


async def deliver(
    broker: InMemoryBroker, *envelopes: Envelope[Event], services: tuple[str, ...] = ("notifier",)
) -> None:
    """Publish and return once each envelope was acked or dead-lettered, retries included.
    Each recipient writes first, so the 24-hour window is open for free-form messages."""
    numbers = {
        e.payload.to_number for e in envelopes if isinstance(e.payload, OutboundMessageRequested)
    }
    if numbers:
        await handled(broker, [user_wrote(n) for n in sorted(numbers)], services)
    await handled(broker, list(envelopes), services)


async def handled(
    broker: InMemoryBroker, envelopes: list[Envelope[Event]], services: tuple[str, ...]
) -> None:
    before = finished(services)
    for envelope in envelopes:
        await broker.publish(envelope)
    await eventually(lambda: finished(services) - before >= len(envelopes), what="messages handled")


async def rows(service: NotifierService, number: str) -> list[OutboundMessage]:
    async with service.sessions() as session:
        result = await session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.to_number == number)
            .order_by(OutboundMessage.created_at, OutboundMessage.part)
        )
        return list(result)


async def test_a_requested_message_is_sent_once_with_numbered_options_and_its_sid_recorded(
    service: NotifierService, broker: InMemoryBroker, twilio: tuple[FakeTwilio, str]
) -> None:
    fake, _ = twilio
    to = phone()
    event = request(
        to,
        "Main menu:",
        options=(
            Option(id="shop", title="Shop study packs"),
            Option(id="faq", title="FAQ", description="answers to common questions"),
        ),
    )
    await deliver(broker, keyed(event))

    [sent] = fake.sent_to(to)
    assert sent.body == "Main menu:\n\n1. Shop study packs\n2. FAQ — answers to common questions"
    assert sent.from_ == "whatsapp:+15550001111"
    assert sent.status_callback == "https://desk.example.test/api/v1/whatsapp/status"
    assert "MediaUrl" not in sent.fields
    [row] = await rows(service, to)
    assert (row.id, row.provider_message_id, row.status) == (event.message_id, sent.sid, "queued")
    assert (row.attempts, row.body, row.sent_at is not None) == (1, sent.body, True)
    assert [o["id"] for o in row.options] == ["shop", "faq"]


async def test_media_goes_with_the_message(
    service: NotifierService, broker: InMemoryBroker, twilio: tuple[FakeTwilio, str]
) -> None:
    fake, _ = twilio
    to = phone()
    media = (MediaRef(url="https://desk.example.test/media/solution.png"),)
    await deliver(broker, keyed(request(to, "Your solution", media=media)))
    [sent] = fake.sent_to(to)
    assert sent.media_urls == ("https://desk.example.test/media/solution.png",)


async def test_the_same_request_delivered_twice_sends_once(
    service: NotifierService, broker: InMemoryBroker, twilio: tuple[FakeTwilio, str]
) -> None:
    fake, _ = twilio
    to = phone()
    event = request(to, "only once")
    await deliver(broker, keyed(event))
    await deliver(broker, keyed(event), keyed(event))
    assert [m.body for m in fake.sent_to(to)] == ["only once"]
    [row] = await rows(service, to)
    assert row.attempts == 1


async def test_two_replicas_given_the_same_request_at_once_send_it_once(
    settings: NotifierSettings, broker: InMemoryBroker, twilio: tuple[FakeTwilio, str]
) -> None:
    fake, _ = twilio
    fake.answer_delay = 0.4  # both replicas hold the message while the first one sends
    replicas = [NotifierService(settings, ServiceBroker(broker, name)) for name in ("a", "b")]
    for replica in replicas:
        await replica.start()
    try:
        to = phone()
        event = request(to, "raced")
        # No key: nothing orders the two copies, as on two replicas.
        await deliver(broker, Envelope.wrap(event), Envelope.wrap(event), services=("a", "b"))
        assert len(fake.sent_to(to)) == 1
        assert fake.requests == 1
        [row] = await rows(replicas[0], to)
        assert (row.status, row.attempts) == ("queued", 1)
        assert broker.dead_letters("notifier") == []
    finally:
        for replica in replicas:
            await replica.stop()


async def test_429_twice_then_accepted_sends_exactly_once(
    service: NotifierService, broker: InMemoryBroker, twilio: tuple[FakeTwilio, str]
) -> None:
    fake, _ = twilio
    to = phone()
    retried = counter("tutordesk_notifier_sends_total", channel="twilio", outcome="retried")
    fake.fail_next(429, 2)
    await deliver(broker, keyed(request(to)))
    assert fake.requests == 3
    assert len(fake.sent_to(to)) == 1
    [row] = await rows(service, to)
    assert (row.status, row.attempts) == ("queued", 1)  # the retries were inside one handling
    now = counter("tutordesk_notifier_sends_total", channel="twilio", outcome="retried")
    assert now - retried == 2


async def test_an_invalid_number_is_recorded_failed_with_its_twilio_code_and_not_retried(
    service: NotifierService, broker: InMemoryBroker, twilio: tuple[FakeTwilio, str]
) -> None:
    fake, _ = twilio
    to = "+1234567"  # too short for WhatsApp
    await deliver(broker, keyed(request(to)))
    assert fake.requests == 1
    [row] = await rows(service, to)
    assert (row.status, row.error_code, row.attempts) == ("failed", "21211", 1)
    assert "not a valid phone number" in (row.error_message or "")
    assert broker.dead_letters("notifier") == []  # acked: nothing to retry


async def test_an_outage_outlasting_one_handling_is_retried_by_the_broker_then_sent(
    service: NotifierService, broker: InMemoryBroker, twilio: tuple[FakeTwilio, str]
) -> None:
    fake, _ = twilio
    to = phone()
    fake.fail_next(503, 3)  # every call of the first handling
    await deliver(broker, keyed(request(to)))
    assert fake.requests == 4
    assert len(fake.sent_to(to)) == 1
    [row] = await rows(service, to)
    assert (row.status, row.attempts, row.error_code) == ("queued", 2, None)


async def test_an_outage_that_never_ends_leaves_the_message_failed_and_dead_lettered(
    service: NotifierService, broker: InMemoryBroker, twilio: tuple[FakeTwilio, str]
) -> None:
    fake, _ = twilio
    to = phone()
    fake.fail_next(500, 100)
    await deliver(broker, keyed(request(to)))
    assert fake.requests == 9  # three calls in each of three handlings
    [row] = await rows(service, to)
    assert (row.status, row.attempts, row.error_code) == ("failed", 3, "20500")
    assert len(broker.dead_letters("notifier")) == 1


async def test_out_of_order_statuses_end_in_the_furthest_state(
    service: NotifierService, broker: InMemoryBroker, twilio: tuple[FakeTwilio, str]
) -> None:
    fake, _ = twilio
    to = phone()
    await deliver(broker, keyed(request(to)))
    [sent] = fake.sent_to(to)
    await deliver(
        broker,
        *(keyed(status(sent.sid, s, to)) for s in ("read", "sent", "delivered", "sending")),
    )
    [row] = await rows(service, to)
    assert row.status == "read"


async def test_a_late_failure_beats_sent_and_records_the_providers_error(
    service: NotifierService, broker: InMemoryBroker, twilio: tuple[FakeTwilio, str]
) -> None:
    fake, _ = twilio
    to = phone()
    await deliver(broker, keyed(request(to)))
    [sent] = fake.sent_to(to)
    failure = status(sent.sid, "undelivered", to, error_code="63016", error_message="window")
    await deliver(broker, keyed(status(sent.sid, "sent", to)), keyed(failure))
    await deliver(broker, keyed(status(sent.sid, "sent", to)))
    [row] = await rows(service, to)
    assert (row.status, row.error_code, row.error_message) == ("undelivered", "63016", "window")


async def test_a_status_reported_before_the_sid_is_recorded_is_applied(
    service: NotifierService, broker: InMemoryBroker, twilio: tuple[FakeTwilio, str]
) -> None:
    fake, _ = twilio
    to = phone()

    async def report_before_answering(message: SentMessage) -> None:
        # Another replica takes the callback while this one still waits for the answer.
        await broker.publish(Envelope.wrap(status(message.sid, "delivered", to)))

        async def in_history() -> bool:
            async with service.sessions() as session:
                found = await session.scalar(
                    select(DeliveryStatus.id).where(
                        DeliveryStatus.provider_message_id == message.sid
                    )
                )
                return found is not None

        await eventually(in_history, what="status stored")
        [row] = await rows(service, to)
        assert row.provider_message_id is None  # the race this test is about

    fake.before_answer = report_before_answering
    await handled(broker, [user_wrote(to)], ("notifier",))
    before = finished()
    await broker.publish(keyed(request(to)))
    await eventually(lambda: finished() - before >= 2, what="request and status handled")
    [row] = await rows(service, to)
    assert (row.provider_message_id, row.status) == (fake.sent_to(to)[0].sid, "delivered")


async def test_a_status_for_a_message_that_is_not_ours_is_kept_in_the_history(
    service: NotifierService, broker: InMemoryBroker
) -> None:
    sid = f"SM{uuid.uuid4().hex}"
    await deliver(broker, Envelope.wrap(status(sid, "delivered", phone())))
    async with service.sessions() as session:
        history = list(
            await session.scalars(
                select(DeliveryStatus.status).where(DeliveryStatus.provider_message_id == sid)
            )
        )
    assert history == ["delivered"]


async def test_long_text_goes_as_parts_in_order(
    service: NotifierService, broker: InMemoryBroker, twilio: tuple[FakeTwilio, str]
) -> None:
    fake, _ = twilio
    to = phone()
    text = "\n\n".join(f"Step {i}: " + " ".join(["work"] * 60) for i in range(12))
    await deliver(broker, keyed(request(to, text)))
    sent = fake.sent_to(to)
    assert len(sent) == 3
    assert all(len(m.body) <= 1600 for m in sent)
    assert "\n\n".join(m.body for m in sent) == text
    recorded = await rows(service, to)
    assert [(r.part, r.provider_message_id) for r in recorded] == [
        (i, m.sid) for i, m in enumerate(sent)
    ]


async def died_mid_send(service: NotifierService, to: str, body: str) -> OutboundMessageRequested:
    """A row as a replica killed between 'submitting' and the provider's answer left it."""
    event = request(to, body)
    async with service.sessions() as session, session.begin():
        long_ago = service.handler.clock() - service.handler.lease - timedelta(seconds=1)
        session.add(
            OutboundMessage(
                id=event.message_id,
                request_id=event.message_id,
                part=0,
                to_number=to,
                channel="twilio",
                priority="reply",
                body=body,
                options=[],
                status="submitting",
                attempts=1,
                created_at=long_ago,
                updated_at=long_ago,
            )
        )
    return event


async def test_a_sender_that_died_before_the_provider_had_it_is_taken_over_and_sent(
    service: NotifierService, broker: InMemoryBroker, twilio: tuple[FakeTwilio, str]
) -> None:
    fake, _ = twilio
    to = phone()
    # The same text went to this number before the dead sender started: not ours.
    fake.messages.append(sent_earlier(to, "after a crash", minutes_ago=10))
    event = await died_mid_send(service, to, "after a crash")
    await deliver(broker, keyed(event))
    assert len(fake.sent_to(to)) == 2
    [row] = await rows(service, to)
    assert (row.status, row.attempts) == ("queued", 2)
    assert row.provider_message_id == fake.sent_to(to)[-1].sid


async def test_a_sender_that_died_after_the_provider_had_it_is_not_sent_twice(
    service: NotifierService, broker: InMemoryBroker, twilio: tuple[FakeTwilio, str]
) -> None:
    fake, _ = twilio
    to = phone()
    event = await died_mid_send(service, to, "sent just before the crash")
    # The provider accepted it after the dead sender started; nobody recorded the answer.
    fake.messages.append(sent_earlier(to, "sent just before the crash", minutes_ago=0))
    await deliver(broker, keyed(event))
    assert len(fake.sent_to(to)) == 1
    [row] = await rows(service, to)
    assert row.provider_message_id == fake.sent_to(to)[0].sid
    assert (row.status, row.attempts) == ("queued", 1)


def sent_earlier(to: str, body: str, *, minutes_ago: int) -> SentMessage:
    return SentMessage(
        sid=f"SM{uuid.uuid4().hex}",
        to=f"whatsapp:{to}",
        from_=SENDER,
        body=body,
        media_urls=(),
        status_callback=None,
        fields=("To", "From", "Body"),
        created_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
    )


async def test_admin_api_needs_the_token_lists_filters_pages_shows_history_and_resends(
    service: NotifierService, broker: InMemoryBroker, twilio: tuple[FakeTwilio, str]
) -> None:
    fake, _ = twilio
    to = phone()
    first, second = request(to, "first"), request(to, "second")
    await deliver(broker, keyed(first))
    fake.fail_next(400)
    await deliver(broker, keyed(second))
    [sent] = fake.sent_to(to)
    await deliver(broker, keyed(status(sent.sid, "delivered", to)))
    auth = {"Authorization": "Bearer notifier-test-admin-token"}

    async with running_app(service.app) as url, httpx.AsyncClient(base_url=url) as admin:
        no_token = await admin.get("/api/messages")
        wrong_token = await admin.get("/api/messages", headers={"Authorization": "Bearer x"})
        no_token_resend = await admin.post(f"/api/messages/{second.message_id}/resend")
        # An unencoded "+", as an operator types it.
        everything = await admin.get(f"/api/messages?to={to}", headers=auth)
        failed = await admin.get(
            "/api/messages", params={"to": to, "status": "failed"}, headers=auth
        )
        second_page = await admin.get(
            "/api/messages", params={"to": to, "limit": 1, "offset": 1}, headers=auth
        )
        detail = await admin.get(f"/api/messages/{first.message_id}", headers=auth)
        not_failed = await admin.post(f"/api/messages/{first.message_id}/resend", headers=auth)
        resent = await admin.post(f"/api/messages/{second.message_id}/resend", headers=auth)
        again = await admin.post(f"/api/messages/{second.message_id}/resend", headers=auth)
        missing = await admin.get(f"/api/messages/{uuid.uuid4()}", headers=auth)
        metrics = await admin.get("/metrics")
        health = await admin.get("/health")

    assert [no_token.status_code, wrong_token.status_code, no_token_resend.status_code] == [401] * 3
    assert everything.json()["total"] == 2
    assert [m["body"] for m in everything.json()["items"]] == ["second", "first"]
    assert [m["id"] for m in failed.json()["items"]] == [str(second.message_id)]
    assert failed.json()["items"][0]["error_code"] == "21211"
    assert [m["body"] for m in second_page.json()["items"]] == ["first"]
    assert detail.json()["status"] == "delivered"
    assert [h["status"] for h in detail.json()["history"]] == ["delivered"]
    assert not_failed.status_code == 409
    assert resent.status_code == 200
    assert resent.json()["status"] == "queued"
    assert resent.json()["error_code"] is None
    assert resent.json()["provider_message_id"] == fake.sent_to(to)[-1].sid
    assert again.status_code == 409
    assert missing.status_code == 404
    assert [m.body for m in fake.sent_to(to)] == ["first", "second"]
    assert "tutordesk_notifier_sends_total" in metrics.text
    assert health.json()["dependencies"] == {"database": "up", "broker": "up", "consumers": "up"}


async def test_a_refused_first_part_stops_the_rest_even_when_the_request_comes_again(
    service: NotifierService, broker: InMemoryBroker, twilio: tuple[FakeTwilio, str]
) -> None:
    fake, _ = twilio
    to = phone()
    event = request(to, "\n\n".join(" ".join(["step"] * 300) for _ in range(3)))
    fake.fail_next(400)
    await deliver(broker, keyed(event))
    await deliver(broker, keyed(event))
    assert fake.requests == 1
    assert fake.sent_to(to) == []
    assert [(r.part, r.status) for r in await rows(service, to)] == [(0, "failed")]
