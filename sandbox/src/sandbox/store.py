"""What the sandbox has seen and been told, in memory: messages both ways in the order
they happened, the create calls it received, and the faults it still has to answer with.

Every method is synchronous and never awaits, so on the one event loop that serves the
sandbox each call is atomic: concurrent requests cannot interleave inside one."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from sandbox.addresses import bare_number

Direction = Literal["in", "out"]


@dataclass
class StoredMessage:
    """One message as the sandbox saw it: 'in' from a phone, 'out' to a phone."""

    sid: str
    direction: Direction
    number: str  # the phone's side of the conversation, E.164
    to: str
    from_: str
    body: str
    media_urls: list[str]
    status: str
    statuses: list[str] = field(default_factory=list)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        if not self.statuses:
            self.statuses.append(self.status)

    def record_status(self, status: str) -> None:
        self.status = status
        self.statuses.append(status)

    def as_json(self) -> dict[str, object]:
        created = self.created_at.isoformat()
        return {
            "sid": self.sid,
            "direction": self.direction,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "media_urls": list(self.media_urls),
            "status": self.status,
            "statuses": list(self.statuses),
            "at": created,
            "created_at": created,
        }


class Store:
    def __init__(self) -> None:
        self._messages: list[StoredMessage] = []
        self._faults: deque[int] = deque()
        self.create_requests = 0

    def add(self, message: StoredMessage) -> StoredMessage:
        self._messages.append(message)
        return message

    def count_create_request(self) -> None:
        self.create_requests += 1

    def outbound(self, number: str | None = None) -> list[StoredMessage]:
        """Accepted outbound messages, to ``number`` if given, in acceptance order."""
        wanted = bare_number(number) if number else None
        return [
            m
            for m in self._messages
            if m.direction == "out" and (wanted is None or m.number == wanted)
        ]

    def conversation(self, number: str) -> list[StoredMessage]:
        """Both directions with one phone, in the order they happened."""
        wanted = bare_number(number)
        return [m for m in self._messages if m.number == wanted]

    def add_faults(self, status: int, count: int) -> int:
        self._faults.extend([status] * count)
        return len(self._faults)

    def take_fault(self) -> int | None:
        return self._faults.popleft() if self._faults else None

    def clear_faults(self) -> None:
        self._faults.clear()

    def clear(self) -> None:
        self._messages.clear()
        self._faults.clear()
        self.create_requests = 0
