"""The ordering seed's five steps through signed webhooks (Twilio's and the Cloud API's),
the broker, the database and the notifier to the sandbox, with every reply's text checked
where the provider would get it."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from stack.testing import STUDENTS, Stack, Student

SEED_STEPS: list[tuple[str, list[str]]] = [
    ("hi", ["Welcome to Bright Path Tutors", "1. Shop study packs", "6. Subscribe / pay"]),
    ("1", ["1 x 10", "1. WAEC Mathematics Pack — ₦5,000", "6. JSS Starter Bundle — ₦7,500"]),
    ("1 x 10", ["Added 10 × WAEC Mathematics Pack", "total ₦50,000"]),
    (
        "place order",
        ["Order summary", "WAEC Mathematics Pack × 10 — ₦50,000", "1. Yes, place order"],
    ),
    ("yes", ["is being processed", "ORD-", "Total: ₦50,000"]),
]


def check_seed_replies(bodies: list[str]) -> None:
    """The five seed replies, then the Paystack link for the order (payments' answer)."""
    assert len(bodies) == len(SEED_STEPS) + 1, bodies
    for body, (sent, expected) in zip(bodies, SEED_STEPS, strict=False):
        for fragment in expected:
            assert fragment in body, f"reply to {sent!r} lacks {fragment!r}: {body!r}"
    reference = next(w for w in bodies[4].split() if w.startswith("ORD-"))
    assert f"Pay for order {reference} here: http" in bodies[5], bodies[5]


async def seed_replies(student: Student) -> list[str]:
    """Every reply, once the payment link has come and any extra would have."""
    await student.wait_for(len(SEED_STEPS) + 1, within=30)
    return await student.settled(0.5)


@pytest.fixture(params=["services_stack", "embedded_stack"])
def stack(request: pytest.FixtureRequest) -> Stack:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


@pytest.fixture(params=sorted(STUDENTS))
def channel(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


async def test_ordering_seed_steps_reply_as_expected(stack: Stack, channel: str) -> None:
    student = STUDENTS[channel](stack)
    for text, _ in SEED_STEPS:
        await student.say(text)
    check_seed_replies(await seed_replies(student))


async def test_same_webhook_delivered_twice_gives_exactly_one_reply(
    stack: Stack, channel: str
) -> None:
    student = STUDENTS[channel](stack)
    form_sid = ("SM" if channel == "twilio" else "wamid.") + uuid.uuid4().hex
    first = await student.send("hi", sid=form_sid)
    second = await student.send("hi", sid=form_sid)
    assert (first.status_code, second.status_code) == (200, 200)
    await student.wait_for(1)
    assert len(await student.settled()) == 1


async def test_bad_signature_is_refused_and_nothing_is_sent(stack: Stack, channel: str) -> None:
    student = STUDENTS[channel](stack)
    response = await student.send_tampered("hi")
    assert response.status_code == 401
    assert await student.settled() == []


async def test_killing_conversation_mid_scenario_loses_nothing_and_repeats_nothing(
    services_stack: Stack,
) -> None:
    students = [Student(services_stack) for _ in range(6)]
    await asyncio.gather(*(s.say("hi") for s in students))
    for student in students:
        assert (await student.send("1")).status_code == 200
    services_stack.processes["conversation"].kill()
    # The gateway keeps accepting while the conversation service is down.
    for student in students:
        assert (await student.send("1 x 10")).status_code == 200
    services_stack.restart("conversation")
    await asyncio.gather(*(s.wait_for(3) for s in students))
    for text in ("place order", "yes"):
        await asyncio.gather(*(s.say(text) for s in students))
    for student in students:
        check_seed_replies(await seed_replies(student))


async def test_cloud_api_replies_are_read_back_through_signed_status_webhooks(
    stack: Stack,
) -> None:
    import httpx

    from shared import sandbox_defaults
    from stack.testing import CloudApiStudent

    student = CloudApiStudent(stack)
    inbound_id = "wamid." + uuid.uuid4().hex
    assert (await student.send("hi", sid=inbound_id)).status_code == 200
    [menu] = await student.wait_for(1)
    assert "1. Shop study packs" in menu
    admin = {"Authorization": f"Bearer {sandbox_defaults.ADMIN_API_TOKEN}"}
    async with httpx.AsyncClient(timeout=10) as client:
        sent = (
            await client.get(
                stack.sandbox + "/sandbox/cloud-api/messages", params={"to": student.phone}
            )
        ).json()["messages"]
        # The menu went as a native list, not as numbered text.
        assert sent[0]["request"]["type"] == "interactive"
        assert sent[0]["request"]["interactive"]["type"] == "list"

        async def statuses() -> list[str]:
            page = await client.get(
                stack.urls["notifier"] + "/api/messages",
                params={"to": student.phone},
                headers=admin,
            )
            return [m["status"] for m in page.json()["items"]]

        deadline = asyncio.get_running_loop().time() + 20
        while await statuses() != ["read"]:
            assert asyncio.get_running_loop().time() < deadline, await statuses()
            await asyncio.sleep(0.1)
        read = (await client.get(stack.sandbox + "/sandbox/cloud-api/read")).json()
    assert inbound_id in read["message_ids"]


async def test_a_message_injected_through_the_sandboxs_cloud_api_gets_its_reply(
    stack: Stack,
) -> None:
    import httpx

    from stack.testing import CloudApiStudent

    student = CloudApiStudent(stack)
    async with httpx.AsyncClient(timeout=10) as client:
        injected = await client.post(
            stack.sandbox + "/sandbox/cloud-api/inbound", json={"from": student.phone, "body": "hi"}
        )
        assert injected.json()["gateway_status"] == 200
        [menu] = await student.wait_for(1)
        assert "Welcome to Bright Path Tutors" in menu
        conversation = (
            await client.get(stack.sandbox + f"/sandbox/conversations/{student.phone}")
        ).json()["messages"]
    assert [m["direction"] for m in conversation] == ["in", "out"]
