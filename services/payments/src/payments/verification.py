"""What a Paystack verification means for one payment. Pure: no I/O, no clock."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

# Paystack's statuses for a transaction nobody has finished yet.
_UNFINISHED = frozenset({"abandoned", "pending", "ongoing", "processing", "queued"})
_DECLINED = frozenset({"failed", "reversed"})


@dataclass(frozen=True)
class VerifiedTransaction:
    """The fields of Paystack's verify response that decide anything."""

    reference: str
    status: str
    amount_minor: int
    currency: str
    gateway_response: str = ""
    paid_at: datetime | None = None
    transaction_id: int | None = None


class Outcome(enum.Enum):
    PAID = "paid"
    DECLINED = "declined"
    MISMATCH = "mismatch"  # Paystack says paid, but not what we asked for
    WAITING = "waiting"
    ABANDONED = "abandoned"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str


def judge(
    *,
    reference: str,
    amount_minor: int,
    currency: str,
    verified: VerifiedTransaction,
    age: timedelta,
    abandon_after: timedelta,
) -> Verdict:
    """Paid only when Paystack reports success for exactly this reference, amount and
    currency; declined when it reports failure; otherwise wait, until it is too old."""
    status = verified.status.lower()
    if status == "success":
        if verified.reference != reference:
            return Verdict(Outcome.MISMATCH, "reference_mismatch")
        if verified.amount_minor != amount_minor:
            return Verdict(Outcome.MISMATCH, "amount_mismatch")
        if verified.currency.upper() != currency.upper():
            return Verdict(Outcome.MISMATCH, "currency_mismatch")
        return Verdict(Outcome.PAID, "paid")
    if status in _DECLINED:
        return Verdict(Outcome.DECLINED, "declined")
    if age >= abandon_after:
        return Verdict(Outcome.ABANDONED, "abandoned")
    return Verdict(Outcome.WAITING, status if status in _UNFINISHED else "unknown_status")
