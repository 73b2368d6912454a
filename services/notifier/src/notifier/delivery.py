"""Which delivery status wins when callbacks arrive late or out of order. Pure."""

from __future__ import annotations

from collections.abc import Iterable

# Our own states before the provider has the message.
PENDING = "pending"  # recorded, not being sent
SUBMITTING = "submitting"  # a handler is calling the provider now
FAILED = "failed"
# Never sent: outside the 24-hour window with no template for its kind, or opted out.
HELD = "held"
SUPPRESSED = "suppressed"

# A message moves forward only. queued < sending < sent follow Twilio's own lifecycle.
# A failure wins over anything before delivery; once delivered or read, a late failure
# report cannot undo what the user already has, and a late "sent" cannot undo "read".
_RANK = {
    PENDING: 0,
    SUBMITTING: 1,
    "accepted": 2,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    FAILED: 5,
    "undelivered": 5,
    HELD: 5,
    SUPPRESSED: 5,
    "delivered": 6,
    "read": 7,
}
FAILURES = frozenset({FAILED, "undelivered"})
NOT_SENT = frozenset({HELD, SUPPRESSED})
STATES = tuple(_RANK)


def rank(status: str) -> int:
    """Unknown statuses rank lowest, so they never replace a known one."""
    return _RANK.get(status, -1)


def advance(current: str, reported: str) -> str:
    """The status to keep when ``reported`` arrives for a message at ``current``."""
    return reported if rank(reported) > rank(current) else current


def best(statuses: Iterable[str], start: str = PENDING) -> str:
    result = start
    for status in statuses:
        result = advance(result, status)
    return result
