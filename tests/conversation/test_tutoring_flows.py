"""Every tutoring flow through the conversation service, over a real PostgreSQL, with the
other services' parts (the notifier's photo verdict, payments' events) published as events."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from conversation.models import (
    AdminSetting,
    Homework,
    Order,
    Student,
    SupportMessage,
    SupportTicket,
)
from shared.events import (
    ContactPreferenceChanged,
    MediaFetched,
    MediaFetchRequested,
    MediaRef,
    MediaRejection,
    MessagePriority,
    NotificationKind,
    OutboundMessageRequested,
    PaymentFacts,
    PaymentFailed,
    PaymentLinkCreated,
    PaymentPurpose,
    PaymentRequested,
    PaymentSucceeded,
    SubscriptionFacts,
    SubscriptionRenewalDue,
    SubscriptionStarted,
)
from tests.conversation.conftest import World

STORED = MediaRef(sha256="ab" * 32, content_type="image/png", size_bytes=2048)


async def _homework(world: World, reference: str) -> Homework:
    async with world.service.sessions() as session:
        row = await session.scalar(select(Homework).where(Homework.reference == reference))
    assert row is not None
    return row


def _reference(text: str, prefix: str) -> str:
    return next(word.strip(".,:") for word in text.split() if word.startswith(prefix + "-"))


async def test_student_registers_submits_typed_homework_and_rates_the_tutors_answer(
    world: World,
) -> None:
    student, tutor = world.phone(), world.phone()
    await world.add_tutor(tutor, ["Mathematics"])
    await student.say("hi")
    assert "full name" in await student.say("2")
    assert "What level" in await student.say("Ada Obi")
    assert student.option_ids() == ["primary", "jss", "sss", "university"]
    assert "email" in await student.say("3")
    assert "doesn't look like an email" in await student.say("ada@example")
    summary = await student.say(" Ada@Example.com ")
    assert "Email: ada@example.com" in summary and "Level: SSS" in summary
    replies = await student.send("yeah")
    assert "registered, Ada" in replies[0].text
    assert "Which subject" in replies[1].text
    assert replies[1].options[0].title == "Mathematics"
    assert "type your question" in await student.say("mathematics")
    assert "note" in await student.say("Solve 2x + 3 = 11")
    check = await student.say("skip")
    assert "Question: Solve 2x + 3 = 11" in check and "Uses 1 of your 3 free credits" in check
    submitted = await student.say("yes")
    assert "1 free credit used, 2 left" in submitted
    reference = _reference(submitted, "HW")

    offer = tutor.last()
    assert offer.kind is NotificationKind.HOMEWORK_ASSIGNED
    assert f"New homework {reference} (Mathematics, SSS)" in offer.text
    assert "Solve 2x + 3 = 11" in offer.text
    assert offer.template_params == (reference, "Mathematics")
    assert (await _homework(world, reference)).status == "assigned"

    accepted = await tutor.say("Accept")
    assert f"You accepted {reference}" in accepted
    assert (await _homework(world, reference)).status == "accepted"
    sent = await tutor.send("x = 4, because 2x = 8")
    assert f"Solution for {reference} sent" in sent[0].text
    solution = student.last()
    assert solution.kind is NotificationKind.SOLUTION_READY
    assert "x = 4, because 2x = 8" in solution.text
    assert [o.id for o in solution.options] == [f"rate:{n}" for n in range(1, 6)]
    thanks = await student.say("5")
    assert "rating the solution 5/5" in thanks
    rated = await _homework(world, reference)
    assert (rated.status, rated.rating) == ("rated", 5)
    async with world.service.sessions() as session:
        saved = await session.scalar(select(Student).where(Student.phone_number == student.number))
    assert saved is not None and saved.free_credits_used == 1


async def test_photo_homework_waits_for_the_check_refuses_a_bad_one_and_sends_a_good_one(
    world: World,
) -> None:
    student, tutor = world.phone(), world.phone()
    await world.add_tutor(tutor, ["Physics"])
    await student.register()
    await student.say("physics")
    assert await student.photo() == "Checking your photo…"
    first = world.events(MediaFetchRequested)[-1]
    assert first.phone_number == student.number
    assert first.media.url.endswith("/ME1")
    assert "Still checking" in await student.say("hello?? is it there")
    await world.deliver(
        MediaFetched(
            request_id=first.request_id,
            phone_number=student.number,
            rejection=MediaRejection.UNSUPPORTED_TYPE,
            detail="application/pdf",
        ),
        key=student.number,
    )
    assert "not a JPG, PNG or WebP image" in student.last().text
    await student.photo("question 4 please")
    second = world.events(MediaFetchRequested)[-1]
    assert second.request_id != first.request_id
    # A stale verdict for the first photo changes nothing.
    before = len(student.replies())
    await world.deliver(
        MediaFetched(request_id=first.request_id, phone_number=student.number, stored=STORED),
        key=student.number,
    )
    assert len(student.replies()) == before
    await world.deliver(
        MediaFetched(request_id=second.request_id, phone_number=student.number, stored=STORED),
        key=student.number,
    )
    assert "Photo received" in student.last().text
    check = await student.say("show the working")
    assert "Question: 📷 photo — question 4 please" in check and "Note: show the working" in check
    reference = _reference(await student.say("ok"), "HW")
    offer = tutor.last()
    assert offer.media[0].sha256 == STORED.sha256
    assert reference in offer.text

    await tutor.say("1")
    assert await tutor.photo("see the diagram") == "Checking your photo…"
    request = world.events(MediaFetchRequested)[-1]
    solution_photo = MediaRef(sha256="cd" * 32, content_type="image/jpeg")
    await world.deliver(
        MediaFetched(
            request_id=request.request_id, phone_number=tutor.number, stored=solution_photo
        ),
        key=tutor.number,
    )
    assert f"Solution for {reference} sent" in tutor.last().text
    delivered = student.last()
    assert delivered.media == (solution_photo,)
    assert "see the diagram" in delivered.text


async def test_offer_not_accepted_in_time_goes_to_the_other_tutor(world: World) -> None:
    student, slow, other = world.phone(), world.phone(), world.phone()
    await world.add_tutor(slow, ["Chemistry"], name="Slow")
    await student.register()
    for text in ("chemistry", "Balance H2 + O2", "skip"):
        await student.say(text)
    reference = _reference(await student.say("yes"), "HW")
    assert reference in slow.last().text
    await world.add_tutor(other, ["Chemistry"], name="Other")
    async with world.service.sessions() as session, session.begin():
        session.add(
            AdminSetting(key="reassign_after_seconds", value=1, updated_at=datetime.now(UTC))
        )

    async def moved() -> bool:
        return any(reference in m.text for m in other.replies())

    from shared.testing import eventually

    await eventually(moved, within=10, what="the offer to move to the other tutor")
    assert "went to another tutor" in slow.last().text
    assert "no longer yours" in await slow.say("accept " + reference.lower())
    assert f"You accepted {reference}" in await other.say("accept")


async def test_no_credits_and_no_plan_points_to_subscribing(world: World) -> None:
    student = world.phone()
    async with world.service.sessions() as session, session.begin():
        session.add(AdminSetting(key="free_credits", value=0, updated_at=datetime.now(UTC)))
    refused = (await student.register())[-1].text
    assert "no free homework credits left" in refused
    assert student.option_ids() == ["pay", "subscription"]


async def test_student_and_agent_hold_a_support_chat_and_either_can_end_it(world: World) -> None:
    student, agent = world.phone(), world.phone()
    await world.add_agent(agent)
    await student.say("hi")
    assert "describe the problem" in await student.say("3")
    opened = await student.say("I paid but got no pack")
    reference = _reference(opened, "TCK")
    assert agent.last().kind is NotificationKind.SUPPORT_MESSAGE
    assert "I paid but got no pack" in agent.last().text
    desk = await agent.say("hi")
    assert "1 open ticket" in desk
    assert "I paid but got no pack" in await agent.say("1")
    assert await student.send("order ORD-1234") == []
    assert agent.last().text.endswith("order ORD-1234")
    assert await agent.send("Found it, resending now") == []
    assert student.last().text == "Support: Found it, resending now"
    closed = await student.say("END")
    assert f"Ticket {reference} closed" in closed
    assert f"student closed ticket {reference}" in agent.last().text
    async with world.service.sessions() as session:
        ticket = await session.scalar(
            select(SupportTicket).where(SupportTicket.reference == reference)
        )
        assert ticket is not None and ticket.status == "closed"
        lines = (
            await session.scalars(
                select(SupportMessage)
                .where(SupportMessage.ticket_id == ticket.id)
                .order_by(SupportMessage.id)
            )
        ).all()
    assert [(m.sender, m.text) for m in lines] == [
        ("student", "I paid but got no pack"),
        ("student", "order ORD-1234"),
        ("agent", "Found it, resending now"),
    ]
    # A second ticket, closed by the agent this time.
    await student.say("3")
    second = _reference(await student.say("Still nothing"), "TCK")
    await agent.say("tickets")
    await agent.say("1")
    assert f"closed ticket {second}" in (await agent.send("end"))[0].text
    assert f"Support closed ticket {second}" in student.last().text
    assert f"Ticket {second} is closed" in await student.say("are you there")


async def test_faq_shows_topics_an_answer_and_goes_back(world: World) -> None:
    student = world.phone()
    await student.say("hi")
    topics = await student.say("FAQ")
    assert "Choose a topic" in topics
    assert student.last().options[1].title == "How much does it cost?"
    answer = await student.say("2")
    assert "free homework credits" in answer
    assert student.option_ids() == ["topics", "menu"]
    assert "Choose a topic" in await student.say("1")


async def test_subscription_view_follows_payments_events(world: World) -> None:
    student = world.phone()
    await student.say("hi")
    assert "no subscription yet" in await student.say("4")
    ends = datetime(2027, 1, 22, tzinfo=UTC)
    facts = SubscriptionFacts(
        subscription_id=uuid.uuid4(),
        phone_number=student.number,
        plan_code="monthly",
        plan_name="Monthly",
        status="active",
        starts_at=ends - timedelta(days=30),
        ends_at=ends,
    )
    await world.deliver(SubscriptionStarted(subscription=facts), key=student.number)
    started = student.last()
    assert started.kind is NotificationKind.PAYMENT_RECEIVED
    assert "active until 22 Jan 2027" in started.text
    await student.say("menu")
    status = await student.say("4")
    assert "Plan: Monthly" in status and "active until 22 Jan 2027" in status
    await world.deliver(SubscriptionRenewalDue(subscription=facts, days_left=3), key=student.number)
    reminder = student.last()
    assert (reminder.kind, reminder.priority) == (
        NotificationKind.RENEWAL_REMINDER,
        MessagePriority.BULK,
    )
    assert "ends in 3 day(s)" in reminder.text


async def test_paying_for_a_plan_requests_a_payment_and_sends_the_link(world: World) -> None:
    student = world.phone()
    await student.say("hi")
    await student.say("6")
    for text in ("Bola Ade", "university", "bola@example.com"):
        await student.say(text)
    replies = await student.send("yes")
    assert "Choose a plan" in replies[1].text
    assert [o.id for o in replies[1].options] == ["monthly", "termly", "starter"]
    assert "₦5,000" in (replies[1].options[0].description or "")
    assert "Pay ₦12,000 for the Termly plan?" in await student.say("2")
    await student.say("yes")
    request = world.events(PaymentRequested)[-1]
    assert (request.purpose, request.plan_code, request.email) == (
        PaymentPurpose.PLAN,
        "termly",
        "bola@example.com",
    )
    facts = PaymentFacts(
        request_id=request.request_id,
        reference="PAY-1",
        purpose=PaymentPurpose.PLAN,
        phone_number=student.number,
        amount_minor=1_200_000,
        currency="NGN",
        plan_code="termly",
    )
    await world.deliver(
        PaymentLinkCreated(payment=facts, checkout_url="https://checkout.example/abc"),
        key=student.number,
    )
    assert student.last().text == "💳 Pay for the Termly plan here: https://checkout.example/abc"
    await world.deliver(PaymentFailed(payment=facts, reason="declined"), key=student.number)
    assert "did not go through (declined)" in student.last().text


async def test_placing_an_order_requests_payment_and_success_confirms_it(world: World) -> None:
    student = world.phone()
    for text in ("hi", "1 x 2", "place order"):
        await student.say(text)
    await student.say("yes")
    placed = world.events(PaymentRequested)[-1]
    assert placed.purpose is PaymentPurpose.ORDER
    assert placed.amount_minor == 1_000_000 and placed.currency == "NGN"
    assert placed.order_id is not None
    assert placed.request_id == uuid.uuid5(
        uuid.UUID("6f1c1c57-2f0e-4c55-9d1e-7a1c8b3e5a10"), f"order:{placed.order_id}:payment"
    )
    facts = PaymentFacts(
        request_id=placed.request_id,
        reference="PAY-2",
        purpose=PaymentPurpose.ORDER,
        phone_number=student.number,
        amount_minor=1_000_000,
        currency="NGN",
        order_id=placed.order_id,
        order_reference=placed.order_reference,
    )
    succeeded = PaymentSucceeded(payment=facts, paid_at=datetime.now(UTC))
    envelope = await world.publish(succeeded, key=student.number)
    await world.handled(f"payment.succeeded:{envelope.id}")
    confirmation = student.last()
    assert confirmation.kind is NotificationKind.ORDER_UPDATE
    assert f"Order {placed.order_reference} (₦10,000) is confirmed" in confirmation.text
    count = len(student.replies())
    # The same event again (a redelivery) changes nothing and says nothing.
    await world.broker.publish(envelope)
    await world.handled(f"payment.succeeded:{envelope.id}")
    await asyncio.sleep(0.3)
    async with world.service.sessions() as session:
        order = await session.get(Order, placed.order_id)
    assert order is not None and order.status == "paid"
    assert len(student.replies()) == count


async def test_stop_confirms_first_then_opts_out_and_start_opts_in_first(world: World) -> None:
    student = world.phone()
    await student.say("hi")
    await student.say("STOP")
    await student.say("start")
    relevant = [
        e.payload
        for e in world.seen
        if isinstance(e.payload, ContactPreferenceChanged | OutboundMessageRequested)
        and getattr(e.payload, "phone_number", getattr(e.payload, "to_number", None))
        == student.number
    ]
    kinds = [
        ("pref", p.opted_out) if isinstance(p, ContactPreferenceChanged) else ("msg", p.text[:16])
        for p in relevant
    ]
    assert kinds[1:] == [
        ("msg", "You will get no "),
        ("pref", True),
        ("pref", False),
        ("msg", "Welcome back! Yo"),
    ]


async def test_unsupported_message_kind_gets_a_polite_reply_with_the_current_options(
    world: World,
) -> None:
    student = world.phone()
    await student.say("hi")
    await student.say("5")
    reply = await student.say("", unsupported_kind="audio")
    assert "only read text and photos" in reply
    assert student.last().options[0].title == "How does homework help work?"
    assert "free homework credits" in await student.say("2")


async def test_a_tapped_option_acts_as_that_option(world: World) -> None:
    student = world.phone()
    await student.say("hi")
    assert "Choose a topic" in await student.say("FAQ", selected_option_id="faq")


async def test_a_failed_order_payment_says_how_to_get_a_new_link_and_that_works(
    world: World,
) -> None:
    student = world.phone()
    for text in ("hi", "2 x 1", "place order"):
        await student.say(text)
    await student.say("yes")
    first = world.events(PaymentRequested)[-1]
    facts = PaymentFacts(
        request_id=first.request_id,
        reference="PAY-3",
        purpose=PaymentPurpose.ORDER,
        phone_number=student.number,
        amount_minor=first.amount_minor or 0,
        currency="NGN",
        order_id=first.order_id,
        order_reference=first.order_reference,
    )
    await world.deliver(PaymentFailed(payment=facts, reason="abandoned"), key=student.number)
    told = student.last().text
    assert f"Send PAY {first.order_reference} for a new payment link" in told
    async with world.service.sessions() as session:
        order = await session.get(Order, first.order_id)
    assert order is not None and order.status == "payment_failed"
    retry = await student.say(f"pay {first.order_reference.lower()}")
    assert f"new payment link for order {first.order_reference}" in retry
    second = world.events(PaymentRequested)[-1]
    assert second.request_id != first.request_id
    assert (second.order_id, second.amount_minor) == (first.order_id, first.amount_minor)
    before = len(world.events(PaymentRequested))
    await student.say("pay ORD-ZZZZZZZZ")
    assert len(world.events(PaymentRequested)) == before
