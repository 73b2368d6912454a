"""The flood limit: a token bucket per number, so one number writing faster than anyone can
read is refused (with one polite reply) while every other number is answered as usual.

`take` is the bucket's arithmetic, pure; `admit` keeps the bucket in the database, locked
and changed in the transaction that handles the message, so it holds across restarts and
whichever replica handles the number.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from conversation.context import aware
from conversation.models import FloodBucket

# Float rounding must not refuse a sender who waited exactly long enough for a token.
_SLACK = 1e-9


@dataclass(frozen=True)
class FloodLimit:
    """Up to ``burst`` messages at once, then ``refill_per_second`` messages a second."""

    burst: int
    refill_per_second: float

    def __post_init__(self) -> None:
        if self.burst < 1 or self.refill_per_second <= 0:
            raise ValueError("a flood limit needs a burst of at least 1 and a positive refill")


@dataclass(frozen=True)
class Bucket:
    tokens: float
    # The time of the latest message counted; tokens are as of then.
    at: datetime
    # The current flood's one polite reply has gone.
    warned: bool = False


class Verdict(enum.Enum):
    ANSWER = "answer"
    # Refused, with the one polite reply of this flood.
    WARN = "warn"
    # Refused without a word: this flood was already told.
    IGNORE = "ignore"


def take(bucket: Bucket | None, limit: FloodLimit, at: datetime) -> tuple[Bucket, Verdict]:
    """Count one message written at ``at``: the bucket after it, and what to do with it.

    A number never seen starts with a full bucket. A message takes one token if there is
    one; otherwise it is refused, and only the first refusal of a flood is answered. The
    flood ends when the bucket is full again, so a number that keeps writing too fast is
    told once, not once per token. A message dated before the last one counted (clocks of
    two gateways, a provider's timestamps in whole seconds) adds no tokens and moves no
    time back.
    """
    if bucket is None:
        bucket = Bucket(tokens=float(limit.burst), at=at)
    elapsed = max(0.0, (at - bucket.at).total_seconds())
    tokens = min(float(limit.burst), bucket.tokens + elapsed * limit.refill_per_second)
    warned = bucket.warned and tokens < limit.burst - _SLACK
    now = max(at, bucket.at)
    if tokens >= 1 - _SLACK:
        return Bucket(max(0.0, tokens - 1), now, warned), Verdict.ANSWER
    after = Bucket(tokens, now, warned=True)
    return after, (Verdict.IGNORE if warned else Verdict.WARN)


async def admit(session: AsyncSession, phone: str, limit: FloodLimit, at: datetime) -> Verdict:
    """Count a message from ``phone`` written at ``at`` against its bucket, in the
    caller's transaction; the bucket's row stays locked until that transaction ends."""
    row = await _locked(session, phone, limit, at)
    before = Bucket(row.tokens, aware(row.updated_at), row.warned)
    after, verdict = take(before, limit, at)
    row.tokens, row.updated_at, row.warned = after.tokens, after.at, after.warned
    return verdict


async def _locked(
    session: AsyncSession, phone: str, limit: FloodLimit, at: datetime
) -> FloodBucket:
    row = await session.get(FloodBucket, phone, with_for_update=True)
    if row is not None:
        return row
    # A first message: insert a full bucket unless another replica just did, then lock
    # whichever row won, so two replicas never both start the number afresh.
    await session.execute(
        _insert(session)(FloodBucket)
        .values(phone_number=phone, tokens=float(limit.burst), updated_at=at, warned=False)
        .on_conflict_do_nothing(index_elements=[FloodBucket.phone_number])
    )
    row = await session.get(FloodBucket, phone, with_for_update=True, populate_existing=True)
    if row is None:
        raise RuntimeError("the flood bucket just inserted cannot be read back")
    return row


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert
