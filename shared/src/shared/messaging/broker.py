"""The broker interface that services program against, whichever broker is behind it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from shared.events import Envelope, Event

Handler = Callable[[Envelope[Event]], Awaitable[None]]


class BrokerUnavailableError(RuntimeError):
    """The broker could not take or confirm a message; the caller may try again later."""


class PermanentFailure(Exception):
    """Raised by a handler for a message that can never succeed: dead-letter it at once."""


@dataclass(frozen=True)
class QueueSpec:
    """One consuming service's queue: what it is bound to and how failures are retried.

    A handler that raises is retried after ``retry_delay_ms`` up to ``max_attempts``
    deliveries in all; then the message goes to ``<name>.dead``.
    """

    name: str
    routing_keys: tuple[str, ...]
    prefetch: int = 32
    max_attempts: int = 5
    retry_delay_ms: int = 1000
    # Handle messages with the same envelope key one at a time, in arrival order.
    ordered_by_key: bool = True
    extra_queues: tuple[str, ...] = field(default=())

    @property
    def retry_queue(self) -> str:
        return f"{self.name}.retry"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.name}.dead"


class Broker(Protocol):
    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, envelope: Envelope[Event]) -> None:
        """Publish and return only once the broker has confirmed the message."""
        ...

    async def consume(self, spec: QueueSpec, handler: Handler) -> None:
        """Declare the queue and its bindings and start delivering to ``handler``."""
        ...

    async def stop_consuming(self) -> None:
        """Stop taking new messages and wait for the ones in hand to finish."""
        ...

    def is_connected(self) -> bool: ...
