"""The tutoring flows through signed webhooks (Twilio's and the Cloud API's), RabbitMQ,
PostgreSQL, every service as its own process and the notifier to the sandbox: a student, a
tutor and an agent each do their whole job on each channel, and every text is read where the
provider would get it (Cloud API buttons and list rows as the sandbox's numbered lines)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from shared.events import Envelope, SubscriptionFacts, SubscriptionStarted
from shared.messaging.rabbitmq import RabbitBroker
from stack.testing import AGENTS, STUDENTS, TUTORS, Admin, Agent, Stack, Student, Tutor


@pytest.fixture(params=sorted(STUDENTS))
def channel(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


class Staff:
    """Tutors and agents a test registers, taken off work when it ends, so that the next
    test's homework and tickets go to its own tutor and agent."""

    def __init__(self, admin: Admin) -> None:
        self.admin = admin
        self.made: list[tuple[str, dict[str, bool]]] = []

    async def tutor(self, phone: str, name: str, subjects: list[str]) -> None:
        body = {"phone_number": phone, "name": name, "subjects": subjects}
        made = (await self.admin.request("POST", "/api/tutors", json=body)).json()
        self.made.append((f"/api/tutors/{made['id']}", {"active": False}))

    async def agent(self, phone: str, name: str) -> None:
        body = {"phone_number": phone, "name": name}
        made = (await self.admin.request("POST", "/api/agents", json=body)).json()
        self.made.append((f"/api/agents/{made['id']}", {"on_duty": False}))


@pytest.fixture
async def staff(services_stack: Stack) -> AsyncIterator[Staff]:
    registered = Staff(Admin(services_stack))
    yield registered
    for path, off in registered.made:
        await registered.admin.request("PATCH", path, json=off)


def _reference(text: str, prefix: str) -> str:
    return next(word.strip(".,:") for word in text.split() if word.startswith(prefix + "-"))


async def _register(student: Student, first_ask: str) -> list[str]:
    """From the menu, start a flow that needs a profile and register on the way."""
    assert "full name" in await student.say(first_ask)
    level = await student.say("Ada Obi")
    assert "What level are you at?" in level and "3. SSS" in level
    assert "email address" in await student.say("3")
    summary = await student.say("ada@example.com")
    assert "Email: ada@example.com" in summary and "1. Yes, that's right" in summary
    return await student.said("yes", 2)


async def test_student_registers_submits_homework_a_tutor_answers_and_the_student_rates(
    services_stack: Stack, channel: str, staff: Staff
) -> None:
    admin, student = Admin(services_stack), STUDENTS[channel](services_stack)
    tutor = TUTORS[channel](services_stack)
    await staff.tutor(tutor.phone, "Tola Bello", ["Mathematics"])
    # The tutor checks in, which opens WhatsApp's 24-hour window for messages to them.
    assert "Tutor desk: no open homework" in await tutor.say("hi")
    assert "Welcome to Bright Path Tutors" in await student.say("hi")
    registered, subjects = await _register(student, "2")
    assert "registered, Ada" in registered
    assert "Which subject" in subjects and "1. Mathematics" in subjects
    assert "type your question" in await student.say("1")
    assert "SKIP" in await student.say("Solve 2x + 3 = 11")
    check = await student.say("skip")
    assert "Question: Solve 2x + 3 = 11" in check and "Uses 1 of your 3 free credits" in check
    submitted = await student.say("yes")
    assert "1 free credit used, 2 left" in submitted
    reference = _reference(submitted, "HW")

    offer = (await tutor.wait_for(2))[1]
    assert f"New homework {reference} (Mathematics, SSS)" in offer
    assert "Solve 2x + 3 = 11" in offer and "Reply ACCEPT" in offer
    accepted = await tutor.say("accept")
    assert f"You accepted {reference}" in accepted
    desk = await tutor.say("work")
    assert f"1. {reference} Mathematics — accepted: send the solution" in desk
    assert "Send the solution as text or a photo" in await tutor.say("1")
    before = len(await student.received())
    sent = await tutor.say("x = 4, because 2x = 8")
    assert f"Solution for {reference} sent" in sent
    solution = (await student.wait_for(before + 1))[before]
    assert f"solution to {reference}" in solution and "x = 4, because 2x = 8" in solution
    assert "5. ⭐⭐⭐⭐⭐" in solution
    assert "rating the solution 5/5" in await student.say("5")
    homework = (await admin.request("GET", f"/api/homework/{reference}")).json()
    assert (homework["status"], homework["rating"]) == ("rated", 5)


async def test_a_student_and_an_agent_hold_a_support_chat(
    services_stack: Stack, channel: str, staff: Staff
) -> None:
    admin, student = Admin(services_stack), STUDENTS[channel](services_stack)
    agent = AGENTS[channel](services_stack)
    await staff.agent(agent.phone, "Grace")
    assert "Support desk: no open tickets" in await agent.say("hi")
    await student.say("hi")
    assert "describe the problem" in await student.say("3")
    opened = await student.say("I paid but got no pack")
    reference = _reference(opened, "TCK")
    assert "Send END" in opened
    alert = (await agent.wait_for(2))[1]
    assert f"New ticket {reference} from a student" in alert and "I paid but got no pack" in alert
    desk = await agent.say("hi")
    assert f"1. {reference}" in desk
    assert "goes to the student" in await agent.say("1")
    await student.send("My order was ORD-1234")
    line = (await agent.wait_for(5))[4]
    assert line == f"[{reference}] a student: My order was ORD-1234"
    before = len(await student.received())
    await agent.send("Found it, resending now")
    assert (await student.wait_for(before + 1))[before] == "Support: Found it, resending now"
    closed = await student.say("end")
    assert f"Ticket {reference} closed" in closed
    assert f"student closed ticket {reference}" in (await agent.wait_for(6))[5]
    ticket = (await admin.request("GET", f"/api/tickets/{reference}")).json()
    assert ticket["status"] == "closed"
    assert [m["sender"] for m in ticket["messages"]] == ["student", "student", "agent"]


async def test_faq_topics_answer_and_back(services_stack: Stack, channel: str) -> None:
    student = STUDENTS[channel](services_stack)
    await student.say("hi")
    topics = await student.say("5")
    assert "Choose a topic" in topics and "2. How much does it cost?" in topics
    answer = await student.say("2")
    assert "free homework credits" in answer and "1. Back to topics" in answer
    assert "Choose a topic" in await student.say("1")


async def test_subscription_check_follows_the_payments_service_events(
    services_stack: Stack, rabbitmq_url: str, channel: str
) -> None:
    student = STUDENTS[channel](services_stack)
    await student.say("hi")
    assert "no subscription yet. Free homework credits left: 3" in await student.say("4")
    ends = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    facts = SubscriptionFacts(
        subscription_id=uuid.uuid4(),
        phone_number=student.phone,
        plan_code="monthly",
        plan_name="Monthly",
        status="active",
        starts_at=ends - timedelta(days=30),
        ends_at=ends,
    )
    # Playing the payments service's part: its event, on the broker, keyed by the number.
    broker = RabbitBroker(rabbitmq_url, service="e2e-test")
    await broker.connect()
    try:
        await broker.publish(
            Envelope.wrap(SubscriptionStarted(subscription=facts), key=student.phone)
        )
    finally:
        await broker.close()
    started = (await student.wait_for(3))[2]
    assert f"Monthly subscription is active until {ends:%d %b %Y}" in started
    await student.say("menu")
    status = await student.say("4")
    assert "Plan: Monthly" in status and f"active until {ends:%d %b %Y}" in status


async def test_a_flow_left_idle_past_the_limit_expires_and_shows_the_menu(
    services_stack: Stack,
) -> None:
    admin, student = Admin(services_stack), Student(services_stack)
    await admin.request("PUT", "/api/settings/idle_timeout_seconds", json={"value": 2})
    try:
        await student.say("hi")
        assert "full name" in await student.say("2")
        await asyncio.sleep(3)
        expired = await student.say("Ada Obi")
        assert "ended after 2 seconds without a reply" in expired
        assert "1. Shop study packs" in expired
    finally:
        await admin.request("PUT", "/api/settings/idle_timeout_seconds", json={"value": 1800})


async def test_choosing_a_plan_registers_first_then_confirms_it(services_stack: Stack) -> None:
    student = Student(services_stack)
    await student.say("hi")
    _, plans = await _register(student, "6")
    assert "Choose a plan" in plans and "2. Termly — ₦12,000" in plans
    assert "Pay ₦5,000 for the Monthly plan?" in await student.say("1")
    assert "Getting your payment link for the Monthly plan" in await student.say("yes")


async def test_the_chat_page_can_make_a_phone_a_tutor_or_an_agent(services_stack: Stack) -> None:
    admin, tutor, agent = Admin(services_stack), Tutor(services_stack), Agent(services_stack)
    async with httpx.AsyncClient(base_url=services_stack.sandbox, timeout=10) as sandbox:
        page = await sandbox.get("/")
        made = await sandbox.post(
            "/sandbox/roles", json={"phone": tutor.phone, "role": "tutor", "name": "Demo Tutor"}
        )
        again = await sandbox.post("/sandbox/roles", json={"phone": tutor.phone, "role": "tutor"})
        agent_made = await sandbox.post(
            "/sandbox/roles", json={"phone": agent.phone, "role": "agent"}
        )
        bad = await sandbox.post("/sandbox/roles", json={"phone": agent.phone, "role": "boss"})
    assert '<select class="role"' in page.text
    assert (made.json()["registered"], again.json()["registered"]) == (True, False)
    assert agent_made.json() == {"phone": agent.phone, "role": "agent", "registered": True}
    assert bad.status_code == 422
    tutors = (await admin.request("GET", "/api/tutors", params={"limit": 200})).json()["items"]
    demo = next(t for t in tutors if t["phone_number"] == tutor.phone)
    assert demo["name"] == "Demo Tutor" and "Biology" in demo["subjects"]
    try:
        assert "Tutor desk: no open homework" in await tutor.say("hi")
        assert "Support desk" in await agent.say("hi")
    finally:
        await admin.request("PATCH", f"/api/tutors/{demo['id']}", json={"active": False})


async def test_photo_homework_is_checked_bad_photos_are_refused_and_the_tutor_answers_with_one(
    services_stack: Stack, channel: str, staff: Staff
) -> None:
    student, tutor = STUDENTS[channel](services_stack), TUTORS[channel](services_stack)
    await staff.tutor(tutor.phone, "Kemi Ojo", ["Biology"])
    await tutor.say("hi")
    await student.say("hi")
    await _register(student, "2")
    assert "send a clear photo" in await student.say("5")  # Biology

    async def photo(name: str, caption: str = "") -> list[str]:
        before = len(await student.received())
        assert (await student.send_photo(name, caption)).status_code == 200
        return (await student.wait_for(before + 2, within=30))[before : before + 2]

    for name, reason in [
        ("document.jpg", "not a JPG, PNG or WebP image"),
        ("truncated.png", "damaged or incomplete"),
        ("huge.jpg", "larger than 5 MB"),
    ]:
        checking, refused = await photo(name)
        assert checking == "Checking your photo…"
        assert reason in refused and "send another photo" in refused, (name, refused)
    checking, accepted = await photo("sample.png", "question 3")
    assert checking == "Checking your photo…"
    assert "Photo received" in accepted and "SKIP" in accepted
    summary = await student.say("skip")
    assert "Question: 📷 photo — question 3" in summary
    reference = _reference(await student.say("yes"), "HW")

    offer = (await tutor.wait_for(2))[1]
    assert f"New homework {reference} (Biology, SSS)" in offer
    assert len((await tutor.received_media())[1]) == 1
    await tutor.say("accept")
    before, student_before = len(await tutor.received()), len(await student.received())
    assert (await tutor.send_photo("sample.jpg", "labelled diagram")).status_code == 200
    checking, sent = (await tutor.wait_for(before + 2, within=30))[before : before + 2]
    assert checking == "Checking your photo…" and f"Solution for {reference} sent" in sent
    if channel == "twilio":
        solution = (await student.wait_for(student_before + 1))[student_before]
        assert f"solution to {reference}" in solution and "labelled diagram" in solution
    else:
        # The Cloud API cannot put a picture on a list: the picture goes first, with the
        # tutor's caption, then the text with the rating rows.
        picture, solution = (await student.wait_for(student_before + 2))[student_before:]
        assert picture == "labelled diagram\n[image]"
        assert f"solution to {reference}" in solution and "labelled diagram" in solution
        assert "5. ⭐⭐⭐⭐⭐" in solution
    assert len((await student.received_media())[student_before]) == 1


async def _pay_on_the_checkout_page(stack: Stack, link_message: str) -> None:
    """Do what the student does with the link: open it, press Pay."""
    url = re.search(r"https?://\S+", link_message)
    assert url is not None, link_message
    async with httpx.AsyncClient(timeout=10) as browser:
        page = await browser.get(url.group(0))
        action = re.search(r'action="(/paystack/checkout/[^"]+/pay)"', page.text)
        assert action is not None, page.text[:500]
        paid = await browser.post(stack.sandbox + action.group(1))
    assert "Payment successful." in paid.text


async def test_an_order_is_paid_through_the_link_and_confirmed_to_the_student(
    services_stack: Stack,
) -> None:
    student = Student(services_stack)
    for text in ("hi", "1 x 2", "place order"):
        await student.say(text)
    placed, link = await student.said("yes", 2)
    reference = _reference(placed, "ORD")
    assert f"Pay for order {reference} here: " in link
    before = len(await student.received())
    await _pay_on_the_checkout_page(services_stack, link)
    confirmed = (await student.wait_for(before + 1, within=30))[before]
    assert f"Payment received. Order {reference} (₦10,000) is confirmed" in confirmed
    order = (await Admin(services_stack).request("GET", f"/api/orders/{reference}")).json()
    assert order["status"] == "paid"


async def test_a_plan_is_paid_and_the_subscription_shows_in_the_chat(
    services_stack: Stack,
) -> None:
    student = Student(services_stack)
    await student.say("hi")
    await _register(student, "6")
    await student.say("1")  # Monthly
    asked, link = await student.said("yes", 2)
    assert "Getting your payment link for the Monthly plan" in asked
    assert "Pay for the Monthly plan here: " in link
    before = len(await student.received())
    await _pay_on_the_checkout_page(services_stack, link)
    started = (await student.wait_for(before + 1, within=30))[before]
    assert "Your Monthly subscription is active until" in started
    await student.say("menu")
    status = await student.say("4")
    assert "Plan: Monthly" in status and "Status: active until" in status
    # The subscription now pays for homework instead of the free credits.
    await student.say("menu")
    await student.say("2")
    await student.say("1")
    await student.say("What is a prime number?")
    assert "Covered by your Monthly subscription." in await student.say("skip")
