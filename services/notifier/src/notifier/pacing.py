"""Paces sends: at most N messages a second per sender (a channel's number) and a
minimum gap between two messages to one recipient. Replies waiting for a slot are served
before bulk sends, so a campaign queued ahead never delays an answer."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

REPLY, BULK = 0, 1


@dataclass
class _Sender:
    next_at: float = 0.0
    waiting: list[tuple[int, int]] = field(default_factory=list)  # (lane, ticket), a heap
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)


class SendPacer:
    def __init__(
        self,
        per_second: float,
        recipient_gap: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.recipient_gap = recipient_gap
        self.clock = clock
        self._senders: dict[str, _Sender] = {}
        self._recipients: dict[str, float] = {}
        self._tickets = itertools.count()

    async def wait_turn(self, sender: str, recipient: str, lane: int = REPLY) -> None:
        """Return when this message may go; the slot is taken on return."""
        await self._recipient_gap(recipient)
        state = self._senders.setdefault(sender, _Sender())
        ticket = (lane, next(self._tickets))
        async with state.changed:
            heapq.heappush(state.waiting, ticket)
            try:
                while True:
                    now = self.clock()
                    if state.waiting[0] == ticket and now >= state.next_at:
                        heapq.heappop(state.waiting)
                        state.next_at = max(now, state.next_at) + self.interval
                        break
                    timeout = (
                        max(state.next_at - now, 0.001) if state.waiting[0] == ticket else None
                    )
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(state.changed.wait(), timeout)
            except BaseException:
                if ticket in state.waiting:
                    state.waiting.remove(ticket)
                    heapq.heapify(state.waiting)
                raise
            finally:
                state.changed.notify_all()
        self._recipients[recipient] = self.clock()

    async def _recipient_gap(self, recipient: str) -> None:
        while True:
            last = self._recipients.get(recipient)
            wait = 0.0 if last is None else last + self.recipient_gap - self.clock()
            if wait <= 0:
                return
            await asyncio.sleep(wait)
