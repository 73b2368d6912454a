"""The notifier on the Cloud API beside Twilio, over real sockets and PostgreSQL: native
buttons and lists, the 24-hour window with templates, opt-outs, retries, statuses out of
order, marking read, media links, and replies overtaking a bulk backlog."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from prometheus_client import REGISTRY
from sqlalchemy import select

from notifier.models import OutboundMessage
from notifier.service import NotifierService
from notifier.settings import NotifierSettings
from notifier.testing import FakeCloudApi, FakeTwilio, user_wrote
from shared.events import (
    Channel,
    ContactPreferenceChanged,
    DeliveryState,
    DeliveryStatusReceived,
    Envelope,
    Event,
    InboundMessageReceived,
    MediaRef,
    MessagePriority,
    NotificationKind,
    Option,
    OutboundMessageRequested,
)
from shared.media_links import link_is_valid
from shared.messaging.memory import InMemoryBroker
from shared.testing import eventually, running_app

from .conftest import ADMIN_TOKEN, MEDIA_LINK_SECRET, PUBLIC_BASE_URL

_numbers = itertools.count(1)
FINISHED = ("ok", "dead_lettered")
TEMPLATES = {
    "solution_ready": {
        "name": "solution_ready_v2",
        "language": "en_GB",
        "twilio_content_sid": "HX" + "5" * 32,
    },
    "renewal_reminder": {"name": "renewal_due", "twilio_content_sid": "HX" + "7" * 32},
}


def phone() -> str:
    return f"+2347{uuid.uuid4().int % 10**6:06d}{next(_numbers):04d}"


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def finished() -> float:
    return sum(
        counter("tutordesk_messages_handled_total", service="notifier", queue=q, outcome=o)
        for q in ("notifier", "notifier.bulk")
        for o in FINISHED
    )


async def handled(broker: InMemoryBroker, *envelopes: Envelope[Event]) -> None:
    before = finished()
    for envelope in envelopes:
        await broker.publish(envelope)
    await eventually(lambda: finished() - before >= len(envelopes), what="messages handled")


def request(
    to: str, text: str = "Hello", channel: Channel = Channel.CLOUD_API, **extra: object
) -> Envelope[Event]:
    event = OutboundMessageRequested(
        message_id=uuid.uuid4(), to_number=to, channel=channel, text=text, **extra
    )
    return Envelope.wrap(event, key=to)


def status(wamid: str, state: DeliveryState, to: str, **extra: str) -> Envelope[Event]:
    event = DeliveryStatusReceived(
        channel=Channel.CLOUD_API, provider_message_id=wamid, status=state, recipient=to, **extra
    )
    return Envelope.wrap(event, key=to)


async def rows(service: NotifierService, number: str) -> list[OutboundMessage]:
    async with service.sessions() as session:
        return list(
            await session.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.to_number == number)
                .order_by(OutboundMessage.created_at, OutboundMessage.part)
            )
        )


async def test_two_options_go_as_reply_buttons_and_many_as_a_list_trimmed_to_limits(
    service: NotifierService, broker: InMemoryBroker, cloud_api: tuple[FakeCloudApi, str]
) -> None:
    fake, _ = cloud_api
    to = phone()
    yes_no = (Option(id="yes", title="Yes, place my order now"), Option(id="no", title="No"))
    packs = tuple(
        Option(
            id=f"pack.{i}",
            title=f"WAEC Further Mathematics Pack {i}",
            description="Past questions with worked solutions " * 3,
        )
        for i in range(6)
    )
    await handled(broker, user_wrote(to, "cloud_api"))
    await handled(broker, request(to, "Confirm?", options=yes_no))
    await handled(broker, request(to, "Pick a pack", options=packs))
    buttons, listing = fake.sent_to(to)
    assert buttons["type"] == "interactive"
    assert buttons["interactive"]["type"] == "button"
    assert buttons["interactive"]["body"] == {"text": "Confirm?"}
    assert [b["reply"] for b in buttons["interactive"]["action"]["buttons"]] == [
        {"id": "yes", "title": "Yes, place my…"},
        {"id": "no", "title": "No"},
    ]
    assert listing["interactive"]["type"] == "list"
    action = listing["interactive"]["action"]
    rows_sent = action["sections"][0]["rows"]
    assert [r["id"] for r in rows_sent] == [f"pack.{i}" for i in range(6)]
    assert all(len(r["title"]) <= 24 and len(r["description"]) <= 72 for r in rows_sent)
    assert rows_sent[0]["title"] == "WAEC Further…"
    assert rows_sent[0]["description"].endswith("…")
    assert len(action["button"]) <= 20
    stored = await rows(service, to)
    assert stored[0].body == "Confirm?\n\n1. Yes, place my…\n2. No"


async def test_a_long_text_with_buttons_sends_the_start_as_text_and_the_end_above_the_buttons(
    service: NotifierService, broker: InMemoryBroker, cloud_api: tuple[FakeCloudApi, str]
) -> None:
    fake, _ = cloud_api
    to = phone()
    paragraphs = [f"Paragraph {i}: " + " ".join(["word"] * 60) for i in range(8)]
    await handled(broker, user_wrote(to, "cloud_api"))
    await handled(
        broker, request(to, "\n\n".join(paragraphs), options=(Option(id="ok", title="OK"),))
    )
    sent = fake.sent_to(to)
    assert [m["type"] for m in sent] == ["text", "interactive"]
    assert len(sent[0]["text"]["body"]) <= 4096
    assert len(sent[1]["interactive"]["body"]["text"]) <= 1024
    joined = sent[0]["text"]["body"] + "\n\n" + sent[1]["interactive"]["body"]["text"]
    assert joined.split("\n\n") == paragraphs


async def test_outside_the_window_a_kind_with_a_template_goes_as_that_template_on_both_channels(
    settings: NotifierSettings,
    broker: InMemoryBroker,
    cloud_api: tuple[FakeCloudApi, str],
    twilio: tuple[FakeTwilio, str],
) -> None:
    settings = settings.model_copy(update={"notification_templates": TEMPLATES})
    service = NotifierService(NotifierSettings(**_plain(settings)), broker)
    await service.start()
    try:
        cloud, _ = cloud_api
        fake_twilio, _ = twilio
        to = phone()
        before = counter(
            "tutordesk_notifier_template_fallbacks_total",
            channel="cloud_api",
            kind="solution_ready",
        )
        params = {"kind": NotificationKind.SOLUTION_READY, "template_params": ("Ada", "HW-12")}
        await handled(broker, request(to, "Your solution to HW-12 is ready, Ada!", **params))
        await handled(
            broker, request(to, "Your solution is ready", channel=Channel.TWILIO, **params)
        )
        [template] = cloud.sent_to(to)
        assert template["type"] == "template"
        assert template["template"] == {
            "name": "solution_ready_v2",
            "language": {"code": "en_GB"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Ada"},
                        {"type": "text", "text": "HW-12"},
                    ],
                }
            ],
        }
        [on_twilio] = fake_twilio.sent_to(to)
        assert on_twilio.content_sid == "HX" + "5" * 32
        assert json.loads(on_twilio.content_variables) == {"1": "Ada", "2": "HW-12"}
        assert "Body" not in on_twilio.fields
        stored = await rows(service, to)
        assert [r.template for r in stored] == ["solution_ready_v2", "HX" + "5" * 32]
        assert (
            counter(
                "tutordesk_notifier_template_fallbacks_total",
                channel="cloud_api",
                kind="solution_ready",
            )
            == before + 1
        )
    finally:
        await service.stop()


def _plain(settings: NotifierSettings) -> dict[str, object]:
    values: dict[str, object] = {}
    for name in NotifierSettings.model_fields:
        value = getattr(settings, name)
        values[name] = value.get_secret_value() if hasattr(value, "get_secret_value") else value
    return values


async def test_outside_the_window_a_reply_is_held_and_reported_then_an_operator_resends_it(
    service: NotifierService,
    broker: InMemoryBroker,
    cloud_api: tuple[FakeCloudApi, str],
    settings: NotifierSettings,
) -> None:
    fake, _ = cloud_api
    to = phone()
    before = counter("tutordesk_notifier_held_total", channel="cloud_api", kind="reply")
    await handled(broker, request(to, "A reply nobody asked for lately"))
    assert fake.sent_to(to) == []
    [row] = await rows(service, to)
    assert (row.status, row.error_code) == ("held", "outside_window")
    assert counter("tutordesk_notifier_held_total", channel="cloud_api", kind="reply") == before + 1
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with running_app(service.app) as url, httpx.AsyncClient(base_url=url) as client:
        listed = (
            await client.get("/api/messages", params={"status": "held"}, headers=headers)
        ).json()
        assert str(row.id) in [m["id"] for m in listed["items"]]
        resent = await client.post(f"/api/messages/{row.id}/resend", headers=headers)
    assert resent.status_code == 200
    assert resent.json()["status"] == "accepted"
    assert [m["text"]["body"] for m in fake.sent_to(to)] == ["A reply nobody asked for lately"]


def wrote_long_ago(number: str) -> Envelope[Event]:
    """An inbound message written 30 hours ago, delivered only now."""
    event = InboundMessageReceived(
        channel=Channel.CLOUD_API,
        provider_message_id=f"in-{uuid.uuid4().hex}",
        from_number=number,
        to_number="+15550001111",
        text="hi",
        received_at=datetime.now(UTC) - timedelta(hours=30),
    )
    return Envelope.wrap(event, key=number)


async def test_a_message_written_long_ago_and_delivered_late_neither_opens_nor_closes_the_window(
    service: NotifierService, broker: InMemoryBroker, cloud_api: tuple[FakeCloudApi, str]
) -> None:
    fake, _ = cloud_api
    wrote_lately, wrote_only_long_ago = phone(), phone()
    await handled(broker, user_wrote(wrote_lately, "cloud_api"), wrote_long_ago(wrote_lately))
    await handled(broker, wrote_long_ago(wrote_only_long_ago))
    await handled(
        broker, request(wrote_lately, "Still in the window"), request(wrote_only_long_ago, "Late")
    )
    assert [m["text"]["body"] for m in fake.sent_to(wrote_lately)] == ["Still in the window"]
    assert fake.sent_to(wrote_only_long_ago) == []
    [held] = await rows(service, wrote_only_long_ago)
    assert held.status == "held"


async def test_an_opted_out_number_is_sent_nothing_until_it_opts_back_in(
    service: NotifierService, broker: InMemoryBroker, cloud_api: tuple[FakeCloudApi, str]
) -> None:
    fake, _ = cloud_api
    to = phone()

    def preference(opted_out: bool) -> Envelope[Event]:
        change = ContactPreferenceChanged(phone_number=to, opted_out=opted_out)
        return Envelope.wrap(change, key=to)

    await handled(broker, user_wrote(to, "cloud_api"))
    await handled(broker, request(to, "You will get no more messages."), preference(True))
    await handled(broker, request(to, "A reminder"))
    await handled(broker, preference(False), request(to, "Welcome back!"))
    assert [m["text"]["body"] for m in fake.sent_to(to)] == [
        "You will get no more messages.",
        "Welcome back!",
    ]
    assert [r.status for r in await rows(service, to)] == ["accepted", "suppressed", "accepted"]


async def test_a_429_then_success_sends_once_and_a_permanent_error_is_not_retried(
    service: NotifierService, broker: InMemoryBroker, cloud_api: tuple[FakeCloudApi, str]
) -> None:
    fake, _ = cloud_api
    to, blocked = phone(), phone()
    await handled(broker, user_wrote(to, "cloud_api"), user_wrote(blocked, "cloud_api"))
    fake.fail_next(429, 130429)
    requests_before = fake.requests
    await handled(broker, request(to, "Patience"))
    assert [m["text"]["body"] for m in fake.sent_to(to)] == ["Patience"]
    assert fake.requests - requests_before == 2
    # Meta also reports throughput limits as HTTP 400 with code 130429: still "later".
    fake.fail_next(400, 130429)
    fake.fail_next(503, 131016)
    await handled(broker, request(to, "Again"))
    assert [m["text"]["body"] for m in fake.sent_to(to)] == ["Patience", "Again"]
    assert fake.requests - requests_before == 5
    fake.fail_next(400, 131030)
    await handled(broker, request(blocked, "Never"))
    [row] = await rows(service, blocked)
    assert (row.status, row.error_code, row.attempts) == ("failed", "131030", 1)
    assert fake.requests - requests_before == 6


async def test_statuses_out_of_order_end_in_the_furthest_state_and_failures_keep_their_code(
    service: NotifierService, broker: InMemoryBroker, cloud_api: tuple[FakeCloudApi, str]
) -> None:
    fake, _ = cloud_api
    to = phone()
    await handled(broker, user_wrote(to, "cloud_api"))
    fake.next_ids.extend(["wamid.FIRST", "wamid.SECOND"])
    await handled(broker, request(to, "one"), request(to, "two"))
    await handled(
        broker,
        status("wamid.FIRST", "read", to),
        status("wamid.FIRST", "sent", to),
        status("wamid.FIRST", "delivered", to),
        status("wamid.SECOND", "sent", to),
        status(
            "wamid.SECOND", "failed", to, error_code="131047", error_message="Re-engagement message"
        ),
    )
    first, second = await rows(service, to)
    assert first.status == "read"
    assert (second.status, second.error_code, second.error_message) == (
        "failed",
        "131047",
        "Re-engagement message",
    )


async def test_inbound_cloud_api_messages_are_marked_read(
    service: NotifierService, broker: InMemoryBroker, cloud_api: tuple[FakeCloudApi, str]
) -> None:
    fake, _ = cloud_api
    envelope = user_wrote(phone(), "cloud_api")
    twilio_inbound = user_wrote(phone(), "twilio")
    await handled(broker, envelope, twilio_inbound)
    assert envelope.payload.provider_message_id in fake.read  # type: ignore[attr-defined]
    assert twilio_inbound.payload.provider_message_id not in fake.read  # type: ignore[attr-defined]


async def test_stored_media_goes_as_signed_expiring_links_on_both_channels(
    service: NotifierService,
    broker: InMemoryBroker,
    cloud_api: tuple[FakeCloudApi, str],
    twilio: tuple[FakeTwilio, str],
) -> None:
    cloud, _ = cloud_api
    fake_twilio, _ = twilio
    to = phone()
    sha = "ab" * 32
    media = (MediaRef(sha256=sha, content_type="image/png"),)
    await handled(broker, user_wrote(to, "cloud_api"))
    await handled(broker, request(to, "Your solution", media=media))
    await handled(broker, request(to, "Your solution", channel=Channel.TWILIO, media=media))
    [image] = cloud.sent_to(to)
    assert image["type"] == "image"
    assert image["image"]["caption"] == "Your solution"
    [sent] = fake_twilio.sent_to(to)
    assert sent.body == "Your solution"
    for link in (image["image"]["link"], sent.media_urls[0]):
        parts = urlsplit(link)
        assert link.startswith(f"{PUBLIC_BASE_URL}/media/{sha}?")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        now = datetime.now(UTC)
        assert link_is_valid(MEDIA_LINK_SECRET, sha, int(query["expires"]), query["sig"], now)
        assert not link_is_valid("another-secret", sha, int(query["expires"]), query["sig"], now)


async def test_a_reply_overtakes_a_backlog_of_bulk_messages(
    settings: NotifierSettings, broker: InMemoryBroker, cloud_api: tuple[FakeCloudApi, str]
) -> None:
    fake, _ = cloud_api
    slow = _plain(settings)
    slow.update(sends_per_second=100, notification_templates=TEMPLATES, bulk_prefetch=16)
    service = NotifierService(NotifierSettings(**slow), broker)
    await service.start()
    try:
        student = phone()
        await handled(broker, user_wrote(student, "cloud_api"))
        campaign = [
            request(
                phone(),
                "Your plan ends soon",
                priority=MessagePriority.BULK,
                kind=NotificationKind.RENEWAL_REMINDER,
                template_params=("3",),
            )
            for _ in range(300)
        ]
        for envelope in campaign:
            await broker.publish(envelope)
        await eventually(lambda: len(fake.sent) >= 5, what="the campaign under way")
        await broker.publish(request(student, "Here is your answer"))
        await eventually(lambda: fake.sent_to(student) != [], within=20, what="the reply sent")
        position = next(i for i, m in enumerate(fake.sent) if m["to"] == student.removeprefix("+"))
        # 300 bulk sends take 3 s at 100 a second; the reply went out within a few slots.
        assert position < 30, position
        assert len(fake.sent) < 100
        assert broker.depth("notifier.bulk") > 100
    finally:
        await service.stop()
