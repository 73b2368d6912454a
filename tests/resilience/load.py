"""Load for the resilience tests: many numbers, each playing a scripted conversation through
signed webhooks delivered as a provider delivers them, and a tally of what reached the
sandbox against what an undisturbed run gives (replies lost, repeated, unexpected or out
of order).

A provider sends one number's messages one after another and retries a webhook that was
not accepted (503, or no answer) with the same message id; so does ``Load``. Replies are
read where the provider would take them, the sandbox, by one poller for every number.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from sandbox.addresses import bare_number
from shared import sandbox_defaults
from stack.testing import STUDENTS, CloudApiStudent, Stack, Student

# --- scripts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """One message a number sends, and how many replies it causes in an undisturbed run."""

    text: str
    replies: int = 1


Script = tuple[Turn, ...]


def ordering_script(variant: int = 0) -> Script:
    """The ordering flow through four services: menu, catalogue, an item (which one and
    how many depend on ``variant``), cart, summary, and the order, whose Paystack link
    payments sends after the order's own reply. Every reply differs from the others, so a
    repeat is always visible."""
    item, quantity = variant % 6 + 1, variant % 4 + 1
    return (
        Turn("hi"),
        Turn("1"),
        Turn(f"{item} x {quantity}"),
        Turn("cart"),
        Turn("place order"),
        Turn("yes", replies=2),
    )


@dataclass(frozen=True)
class Conversation:
    phone: str
    script: Script
    channel: str = "twilio"  # a key of stack.testing.STUDENTS

    @property
    def replies(self) -> int:
        return sum(turn.replies for turn in self.script)


def phone_numbers(count: int, *, seed: int | None = None) -> list[str]:
    """``count`` distinct numbers; the same ``seed`` gives the same numbers (so two runs on
    two stacks can be compared number by number)."""
    block = (seed if seed is not None else random.randrange(100_000)) % 100_000
    return [f"+2347{block:05d}{i:04d}" for i in range(count)]


def conversations(
    count: int,
    script: Callable[[int], Script] = ordering_script,
    *,
    channel: str = "twilio",
    seed: int | None = None,
) -> list[Conversation]:
    return [
        Conversation(phone, script(i), channel)
        for i, phone in enumerate(phone_numbers(count, seed=seed))
    ]


# --- sending and collecting ----------------------------------------------------------


class Pacing(enum.Enum):
    REPLY = "reply"  # the next message after this one's replies, as a person types
    ACCEPTED = "accepted"  # the next as soon as the webhook is accepted: a fast typist


@dataclass
class Outcome:
    """What one run sent and what the sandbox received, per number."""

    replies: dict[str, list[str]]
    statuses: Counter[int] = field(default_factory=Counter)  # of every webhook attempt
    transport_errors: int = 0  # attempts that got no HTTP answer at all
    accepted: int = 0
    refused: list[tuple[str, str, int]] = field(default_factory=list)  # given up: 4xx
    unanswered: list[tuple[str, str]] = field(default_factory=list)  # no reply in time
    seconds: float = 0.0


class SandboxReplies:
    """Polls the sandbox for every message sent to the numbers of a load, in one request a
    channel, and wakes whoever waits for a number's replies."""

    def __init__(self, sandbox: str, channels: Iterable[str], every: float) -> None:
        self.paths = {
            "twilio": "/sandbox/twilio/messages",
            "cloud_api": "/sandbox/cloud-api/messages",
        }
        self.sandbox = sandbox
        self.channels = sorted(set(channels))
        self.every = every
        self.replies: dict[str, list[str]] = {}
        self.last_change = time.monotonic()
        self._changed = asyncio.Condition()

    async def poll_once(self, client: httpx.AsyncClient) -> None:
        replies: dict[str, list[str]] = {}
        for channel in self.channels:
            response = await client.get(self.sandbox + self.paths[channel])
            response.raise_for_status()
            for message in response.json()["messages"]:
                replies.setdefault(bare_number(message["to"]), []).append(message["body"])
        if replies != self.replies:
            self.replies = replies
            self.last_change = time.monotonic()
            async with self._changed:
                self._changed.notify_all()

    async def poll(self, client: httpx.AsyncClient, stop: asyncio.Event) -> None:
        while not stop.is_set():
            # A busy sandbox answers the next poll.
            with contextlib.suppress(httpx.TransportError):
                await self.poll_once(client)
            await asyncio.sleep(self.every)

    def count(self, phone: str) -> int:
        return len(self.replies.get(phone, ()))

    async def wait_for(self, phone: str, count: int, within: float) -> bool:
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.count(phone) >= count), within
                )
            except TimeoutError:
                return False
        return True


class Load:
    """Plays ``conversations`` against ``stack`` at once and collects their replies."""

    def __init__(
        self,
        stack: Stack,
        plan: Sequence[Conversation],
        *,
        pacing: Pacing = Pacing.REPLY,
        reply_within: float = 90.0,
        retry_for: float = 120.0,
        settle: float = 2.0,
        poll_every: float = 0.3,
        concurrency: int = 64,
    ) -> None:
        self.stack = stack
        self.plan = list(plan)
        self.pacing = pacing
        # How long a number waits for a reply before it gives up (counted as unanswered).
        self.reply_within = reply_within
        # How long a webhook is retried while it is not accepted, as a provider does.
        self.retry_for = retry_for
        # Quiet time after the last expected reply, for a late repeat to show.
        self.settle = settle
        self.collector = SandboxReplies(stack.sandbox, {c.channel for c in self.plan}, poll_every)
        self.outcome = Outcome(replies={})
        self._open = asyncio.Semaphore(concurrency)
        # Tests read progress while a load runs, to time a fault into the middle of it.
        self.turns_done = 0
        self.turns_total = sum(len(c.script) for c in self.plan)

    async def run(self) -> Outcome:
        started = time.monotonic()
        stop = asyncio.Event()
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            poller = asyncio.create_task(self.collector.poll(client, stop))
            try:
                await asyncio.gather(*(self._converse(client, c) for c in self.plan))
                await self._settled()
                await self.collector.poll_once(client)
            finally:
                stop.set()
                await poller
        self.outcome.replies = {
            c.phone: list(self.collector.replies.get(c.phone, [])) for c in self.plan
        }
        self.outcome.seconds = time.monotonic() - started
        return self.outcome

    async def _converse(self, client: httpx.AsyncClient, conversation: Conversation) -> None:
        student = STUDENTS[conversation.channel](self.stack, conversation.phone)
        expected = 0
        for turn in conversation.script:
            async with self._open:
                status = await self._deliver(client, student, turn.text)
            self.turns_done += 1
            if status != 200:
                self.outcome.refused.append((conversation.phone, turn.text, status))
                return
            expected += turn.replies
            if self.pacing is Pacing.REPLY and not await self.collector.wait_for(
                conversation.phone, expected, self.reply_within
            ):
                self.outcome.unanswered.append((conversation.phone, turn.text))
                return

    async def _deliver(self, client: httpx.AsyncClient, student: Student, text: str) -> int:
        """POST the webhook until it is accepted or refused for good; its message id stays
        the same across retries, as a provider's does."""
        request = _webhook(student, text)
        deadline = time.monotonic() + self.retry_for
        wait = 0.2
        while True:
            try:
                response = await client.post(**request)
            except httpx.TransportError:
                self.outcome.transport_errors += 1
            else:
                self.outcome.statuses[response.status_code] += 1
                if response.status_code == 200:
                    self.outcome.accepted += 1
                    return 200
                if response.status_code < 500 and response.status_code != 429:
                    return response.status_code
            if time.monotonic() > deadline:
                return 0
            await asyncio.sleep(wait * (1 + random.random() / 2))
            wait = min(wait * 2, 2.0)

    async def _settled(self) -> None:
        """Until each number has its expected replies (or the time is up), then a quiet
        spell with nothing new."""
        deadline = time.monotonic() + self.reply_within
        for conversation in self.plan:
            left = max(deadline - time.monotonic(), 0.0)
            await self.collector.wait_for(conversation.phone, conversation.replies, left)
        while True:
            quiet_left = self.settle - (time.monotonic() - self.collector.last_change)
            if quiet_left <= 0:
                return
            await asyncio.sleep(quiet_left)


def _webhook(student: Student, text: str) -> dict[str, Any]:
    """The keyword arguments of one provider webhook POST, signed, with a fresh message id."""
    if isinstance(student, CloudApiStudent):
        raw = student.cloud_webhook(text)
        return {
            "url": student.stack.gateway + student.webhook_path,
            "content": raw,
            "headers": student.signed(raw),
        }
    form, headers = student.webhook(text)
    return {
        "url": student.stack.gateway + "/api/v1/whatsapp/webhook",
        "data": form,
        "headers": headers,
    }


# --- comparing -----------------------------------------------------------------------

_REFERENCE = re.compile(r"\b(ORD|PAY|TKT|HW)-[A-Z0-9-]+")
_LINK = re.compile(r"https?://\S+")


def normalise(body: str) -> str:
    """A reply without what differs between two equal runs: references and links."""
    return _LINK.sub("<link>", _REFERENCE.sub(r"\1-<ref>", body))


@dataclass(frozen=True)
class Tally:
    numbers: int
    expected: int
    received: int
    lost: int  # expected replies that never came
    duplicate: int  # expected replies that came more than once
    unexpected: int  # replies that an undisturbed run does not give
    out_of_order: int  # numbers whose replies, repeats aside, came in another order
    details: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicate or self.unexpected or self.out_of_order)

    def __str__(self) -> str:
        summary = (
            f"{self.numbers} numbers: {self.received} replies of {self.expected} expected; "
            f"lost {self.lost}, duplicate {self.duplicate}, unexpected {self.unexpected}, "
            f"out of order {self.out_of_order}"
        )
        return "\n".join([summary, *self.details[:20]])


def tally(
    expected: Mapping[str, Sequence[str]],
    received: Mapping[str, Sequence[str]],
    *,
    normaliser: Callable[[str], str] = normalise,
) -> Tally:
    """Compare, number by number, the replies received with those expected."""
    lost = duplicate = unexpected = out_of_order = 0
    details: list[str] = []
    for phone, wanted_raw in expected.items():
        wanted = [normaliser(body) for body in wanted_raw]
        got = [normaliser(body) for body in received.get(phone, ())]
        want_count, got_count = Counter(wanted), Counter(got)
        number_lost = sum((want_count - got_count).values())
        extra = got_count - want_count
        number_duplicate = sum(n for body, n in extra.items() if body in want_count)
        number_unexpected = sum(n for body, n in extra.items() if body not in want_count)
        # Each expected reply's first arrivals, in arrival order, against the order wanted.
        seen: Counter[str] = Counter()
        firsts = []
        for body in got:
            seen[body] += 1
            if seen[body] <= want_count[body]:
                firsts.append(body)
        budget = want_count & got_count
        ordered = []
        for body in wanted:
            if budget[body] > 0:
                ordered.append(body)
                budget[body] -= 1
        in_order = firsts == ordered
        lost, duplicate = lost + number_lost, duplicate + number_duplicate
        unexpected += number_unexpected
        out_of_order += 0 if in_order else 1
        if number_lost or number_duplicate or number_unexpected or not in_order:
            details.append(
                f"{phone}: lost {number_lost}, duplicate {number_duplicate}, unexpected "
                f"{number_unexpected}, in order {in_order}; got {[b[:40] for b in got]}"
            )
    return Tally(
        numbers=len(expected),
        expected=sum(len(v) for v in expected.values()),
        received=sum(len(received.get(phone, ())) for phone in expected),
        lost=lost,
        duplicate=duplicate,
        unexpected=unexpected,
        out_of_order=out_of_order,
        details=tuple(details),
    )


def expected_like(
    reference: Outcome, reference_plan: Sequence[Conversation], plan: Sequence[Conversation]
) -> dict[str, list[str]]:
    """Expected replies for each number of ``plan``: those an undisturbed reference run
    gave the number that played the same script on the same channel."""
    by_script = {(c.script, c.channel): reference.replies[c.phone] for c in reference_plan}
    return {c.phone: list(by_script[(c.script, c.channel)]) for c in plan}


def distinct_scripts(plan: Sequence[Conversation], phones: Sequence[str]) -> list[Conversation]:
    """One conversation for each script and channel that ``plan`` uses, on ``phones``, for
    a reference run that yields every expected sequence."""
    kinds = list(dict.fromkeys((c.script, c.channel) for c in plan))
    if len(phones) < len(kinds):
        raise ValueError(f"{len(kinds)} scripts need as many numbers, got {len(phones)}")
    return [
        Conversation(phone, script, channel)
        for phone, (script, channel) in zip(phones, kinds, strict=False)
    ]


# --- final state ---------------------------------------------------------------------


async def final_states(stack: Stack, phones: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Each number's orders (conversation) and payments (payments), through the admin
    APIs, without what differs between two equal runs (ids, references, times)."""
    conversation = _service_url(stack, "conversation")
    payments = _service_url(stack, "payments")
    headers = {"Authorization": f"Bearer {sandbox_defaults.ADMIN_API_TOKEN}"}
    states: dict[str, dict[str, Any]] = {}
    async with httpx.AsyncClient(timeout=30, headers=headers) as client:
        for phone in phones:
            orders = await client.get(conversation + "/api/orders", params={"phone": phone})
            paid = await client.get(payments + "/api/payments", params={"phone": phone})
            orders.raise_for_status()
            paid.raise_for_status()
            states[phone] = {
                "orders": sorted(
                    (
                        o["status"],
                        o["currency"],
                        o["total_minor"],
                        tuple((line["sku"], line["quantity"]) for line in o["lines"]),
                    )
                    for o in orders.json()["items"]
                ),
                "payments": sorted(
                    (p["purpose"], p["status"], p["amount_minor"], p["currency"])
                    for p in paid.json()["items"]
                ),
            }
    return states


def _service_url(stack: Stack, service: str) -> str:
    """The service's URL, or its first replica's."""
    names = sorted(n for n in stack.urls if n == service or n.startswith(service + "-"))
    if not names:
        raise KeyError(f"the stack runs no {service}")
    return stack.urls[names[0]]
