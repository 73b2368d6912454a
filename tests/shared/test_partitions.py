"""Slots and ownership: every number has one slot, every partition exactly one owner."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from shared.events import Envelope, OutboundMessageRequested
from shared.messaging import partitions as layout


def envelope(key: str | None) -> Envelope[OutboundMessageRequested]:
    event = OutboundMessageRequested(message_id=uuid.uuid4(), to_number="+2348000000001", text="x")
    return Envelope.wrap(event, key=key)


def test_one_number_always_has_the_same_slot() -> None:
    slots = {layout.slot_of(envelope("+2348000000001")) for _ in range(20)}
    assert len(slots) == 1


def test_messages_without_a_key_spread_over_the_slots() -> None:
    slots = {layout.slot_of(envelope(None)) for _ in range(400)}
    assert len(slots) > layout.SLOTS // 2


@given(st.integers(min_value=1, max_value=layout.SLOTS))
def test_every_slot_belongs_to_exactly_one_partition(partitions: int) -> None:
    seen = [slot for p in range(partitions) for slot in layout.slots_of(p, partitions)]
    assert sorted(seen) == list(range(layout.SLOTS))


@given(
    st.integers(min_value=1, max_value=layout.SLOTS),
    st.sets(st.text(alphabet="abcdef0123456789", min_size=1, max_size=8), min_size=1, max_size=9),
)
def test_each_partition_has_exactly_one_owner_and_shares_are_even(
    partitions: int, members: set[str]
) -> None:
    shares = [layout.owned(partitions, members, me) for me in members]
    owners = sorted(p for share in shares for p in share)
    assert owners == list(range(partitions))
    sizes = [len(share) for share in shares]
    assert max(sizes) - min(sizes) <= 1


def test_a_replica_alone_owns_every_partition() -> None:
    assert layout.owned(8, [], "me") == set(range(8))
