"""Rendering for the Cloud API stays within WhatsApp's limits whatever it is given; the
pacer keeps its rate and serves replies before bulk sends. Pure."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from notifier.pacing import BULK, REPLY, SendPacer
from notifier.rendering import clip, readable, render_for_cloud_api
from shared.events import Option

titles = st.text(min_size=1, max_size=120).filter(lambda t: t.strip() != "")
options = st.lists(
    st.builds(
        Option,
        id=st.text(alphabet="abcdefghij0123456789.", min_size=1, max_size=30),
        title=titles,
        description=st.one_of(st.none(), st.text(max_size=200)),
    ),
    max_size=14,
)


def test_clip_keeps_what_fits_and_cuts_at_a_word_with_an_ellipsis() -> None:
    assert clip("Shop study packs", 20) == "Shop study packs"
    assert clip("Yes, place my order now", 20) == "Yes, place my…"
    assert clip("Supercalifragilistic-expialidocious", 10) == "Supercali…"


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=6000), offered=options)
def test_every_cloud_api_message_is_within_whatsapps_limits(
    text: str, offered: list[Option]
) -> None:
    messages = render_for_cloud_api(text, offered)
    assert messages
    for message in messages:
        if message["type"] == "text":
            assert 0 < len(message["text"]["body"]) <= 4096 or not text
            continue
        interactive = message["interactive"]
        assert 0 < len(interactive["body"]["text"]) <= 1024
        action = interactive["action"]
        if interactive["type"] == "button":
            assert 1 <= len(action["buttons"]) <= 3
            assert all(0 < len(b["reply"]["title"]) <= 20 for b in action["buttons"])
            ids = [b["reply"]["id"] for b in action["buttons"]]
        else:
            assert len(action["button"]) <= 20
            rows = action["sections"][0]["rows"]
            assert 1 <= len(rows) <= 10
            assert all(0 < len(r["title"]) <= 24 for r in rows)
            assert all(len(r.get("description", "")) <= 72 for r in rows)
            ids = [r["id"] for r in rows]
        assert len(set(ids)) == len(ids) == len(offered)
    kinds = [m["type"] for m in messages]
    if offered and len(offered) <= 10:
        assert kinds[-1] == "interactive"
    else:
        assert set(kinds) == {"text"}


def test_eleven_options_fall_back_to_numbered_text() -> None:
    offered = [Option(id=str(i), title=f"Choice {i}") for i in range(1, 12)]
    [message] = render_for_cloud_api("Pick:", offered)
    assert message["type"] == "text"
    assert "11. Choice 11" in readable(message)


async def test_the_pacer_keeps_the_rate_and_serves_a_reply_before_waiting_bulk() -> None:
    pacer = SendPacer(per_second=50, recipient_gap=0)
    order: list[str] = []

    async def send(name: str, lane: int) -> None:
        await pacer.wait_turn("cloud_api", name, lane)
        order.append(name)

    started = asyncio.get_running_loop().time()
    bulk = [asyncio.create_task(send(f"bulk{i}", BULK)) for i in range(20)]
    await asyncio.sleep(0.05)
    reply = asyncio.create_task(send("reply", REPLY))
    await asyncio.gather(*bulk, reply)
    elapsed = asyncio.get_running_loop().time() - started
    assert order.index("reply") <= 5
    assert elapsed >= 19 / 50 * 0.9  # 20 slots at 50 a second


async def test_the_pacer_keeps_a_gap_between_two_messages_to_one_recipient() -> None:
    pacer = SendPacer(per_second=1000, recipient_gap=0.2)
    loop = asyncio.get_running_loop()
    await pacer.wait_turn("twilio", "+2348000000001")
    first = loop.time()
    await pacer.wait_turn("twilio", "+2348000000002")
    other = loop.time()
    await pacer.wait_turn("twilio", "+2348000000001")
    second = loop.time()
    assert other - first < 0.1
    assert second - first >= 0.19
