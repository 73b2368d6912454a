"""How one queue is split into partitions, and which replica consumes which.

A publisher stamps every message with a slot, ``crc32(key) % SLOTS``, where the key is the
envelope's (a phone number), so one number always lands in the same slot. A consuming
service splits its queue into ``n`` partitions and routes slot ``s`` to partition
``s % n``. Each partition has a single active consumer, so one number's messages are
handled by one replica at a time, in the order the broker received them.

Replicas agree on who should be active where without talking to each other: each knows the
live replicas (see presence.py), sorts their ids, and owns the partitions whose index
modulo the replica count is its own position. A disagreement while views differ costs only
a needless handover, never order: the broker lets only one consumer be active.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from shared.events import Envelope, Event

# Fixed for all time: publishers and consumers must agree on it, and a service may have any
# number of partitions up to this many.
SLOTS = 64
# Not "x-..." : RabbitMQ's headers exchange ignores such headers when matching.
SLOT_HEADER = "slot"


def slot_of(envelope: Envelope[Event]) -> int:
    """The slot of an envelope: by its key, or spread by its id when it has none."""
    basis = envelope.key if envelope.key is not None else str(envelope.id)
    return zlib.crc32(basis.encode()) % SLOTS


def partition_of(slot: int, partitions: int) -> int:
    return slot % partitions


def slots_of(partition: int, partitions: int) -> list[int]:
    return [slot for slot in range(SLOTS) if partition_of(slot, partitions) == partition]


def owned(partitions: int, members: Iterable[str], me: str) -> set[int]:
    """The partitions replica ``me`` should be active on, given the live ``members``."""
    ordered = sorted(set(members) | {me})
    index, count = ordered.index(me), len(ordered)
    return {p for p in range(partitions) if p % count == index}


def exchange_name(queue: str) -> str:
    return f"{queue}.partitions"


def queue_name(queue: str, partition: int) -> str:
    return f"{queue}.p{partition}"


def presence_exchange(queue: str) -> str:
    return f"{queue}.presence"
