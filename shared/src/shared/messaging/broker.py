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
    attempts in all; then the message goes to ``<name>.dead``. A database or broker
    outage is waited out and uses up no attempt.
    """

    name: str
    routing_keys: tuple[str, ...]
    prefetch: int = 32
    max_attempts: int = 5
    retry_delay_ms: int = 1000
    # Handle messages with the same envelope key one at a time, in arrival order.
    ordered_by_key: bool = True
    extra_queues: tuple[str, ...] = field(default=())
    # 0: one queue, replicas compete for its messages. n > 0: n partitions, each with a
    # single active consumer, so a key's messages are handled in order across replicas
    # (see partitions.py). Brokers with one consumer process may ignore it.
    partitions: int = 0

    @property
    def retry_in_place(self) -> bool:
        """A partitioned queue retries a failed message where it is: sending it round a
        retry queue would let the key's later messages overtake it."""
        return self.partitions > 0

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
