"""How a paid plan moves a subscription, when it ends, and when to remind. Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class PlanTerms:
    code: str
    name: str
    duration_days: int
    homework_credits: int | None  # None: unlimited


@dataclass(frozen=True)
class Term:
    starts_at: datetime
    ends_at: datetime
    homework_credits: int | None
    active: bool = True


@dataclass(frozen=True)
class NextTerm:
    term: Term
    extended: bool  # False: a new start


def after_payment(current: Term | None, plan: PlanTerms, now: datetime) -> NextTerm:
    """A paid plan runs from the later of now and the current end; credits add up (and
    unlimited stays unlimited)."""
    length = timedelta(days=plan.duration_days)
    if current is not None and current.active and current.ends_at > now:
        credits = (
            None
            if current.homework_credits is None or plan.homework_credits is None
            else current.homework_credits + plan.homework_credits
        )
        return NextTerm(Term(current.starts_at, current.ends_at + length, credits), extended=True)
    return NextTerm(Term(now, now + length, plan.homework_credits), extended=False)


def has_ended(ends_at: datetime, now: datetime) -> bool:
    return ends_at <= now


def renewal_days_left(
    ends_at: datetime, reminded_for_end: datetime | None, now: datetime, reminder_days: int
) -> int | None:
    """Days left (rounded up) when a reminder is due now for this end date, else None."""
    left = ends_at - now
    if left <= timedelta(0) or left > timedelta(days=reminder_days):
        return None
    if reminded_for_end is not None and reminded_for_end == ends_at:
        return None
    return max(1, math.ceil(left / timedelta(days=1)))
