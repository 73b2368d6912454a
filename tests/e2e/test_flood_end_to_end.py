"""A flood from one number through signed webhooks, RabbitMQ, PostgreSQL and every service
as its own process, with the defaults an operator gets: the flooder hears one polite reply,
another number chatting meanwhile gets every answer, and the desk stays healthy."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from stack.testing import STUDENTS, Stack, Student

FLOOD = 40
POLITE = "faster than we can read them"
REFUSED = "tutordesk_conversation_flood_refused_total"


@pytest.fixture(scope="module")
def flood_limit() -> dict[str, str]:
    """The defaults, a burst of 10 then one message a second, set so that the outer
    environment cannot change them."""
    return {"FLOOD_BURST": "10", "FLOOD_REFILL_PER_SECOND": "1"}


@pytest.fixture(params=sorted(STUDENTS))
def channel(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


async def refused_so_far(stack: Stack) -> float:
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(stack.urls["conversation"] + "/metrics")).text
    line = next((line for line in text.splitlines() if line.startswith(REFUSED + " ")), None)
    return float(line.split()[1]) if line else 0.0


async def flood(student: Student) -> float:
    """Send FLOOD greetings at once; return how many seconds the gateway took for them."""
    started = time.monotonic()
    responses = await asyncio.gather(*(student.send("hi") for _ in range(FLOOD)))
    assert [r.status_code for r in responses] == [200] * FLOOD
    return time.monotonic() - started


async def short_chat(student: Student) -> list[str]:
    return [
        await student.say("hi"),
        await student.say("5"),
        await student.say("2"),
        await student.say("menu"),
    ]


async def test_a_flood_gets_one_polite_reply_while_another_number_is_answered_in_full(
    services_stack: Stack, channel: str
) -> None:
    flooder = STUDENTS[channel](services_stack)
    other = STUDENTS[channel](services_stack)
    refused_before = await refused_so_far(services_stack)

    seconds, chat = await asyncio.gather(flood(flooder), short_chat(other))

    assert "Welcome to Bright Path Tutors" in chat[0]
    assert "Choose a topic" in chat[1]
    assert "free homework credits" in chat[2]
    assert "main menu" in chat[3]
    assert not any(POLITE in reply for reply in await other.received())

    await flooder.wait_for(1, within=30)
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        replies = await flooder.received()
        refused = await refused_so_far(services_stack) - refused_before
        if len(replies) + refused - 1 >= FLOOD:  # every greeting answered or refused
            break
        assert asyncio.get_running_loop().time() < deadline, (replies, refused)
        await asyncio.sleep(0.2)
    replies = await flooder.settled(1.5)
    polite = [r for r in replies if POLITE in r]
    answered = [r for r in replies if POLITE not in r]
    assert len(polite) == 1, replies
    # A burst of ten, plus what refilled while the gateway was still taking the flood.
    assert 10 <= len(answered) <= 10 + int(seconds) + 1, (len(answered), seconds)
    assert all("Welcome to Bright Path Tutors" in r or "main menu" in r for r in answered)
    assert refused == FLOOD - len(answered)

    async with httpx.AsyncClient(timeout=10) as client:
        health = await client.get(services_stack.urls["conversation"] + "/health")
    assert health.status_code == 200, health.text
    # A moment later a token is back: the flooder is answered as anyone is.
    await asyncio.sleep(1.5)
    assert "main menu" in await flooder.say("menu")
