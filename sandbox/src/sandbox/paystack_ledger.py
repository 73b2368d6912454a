"""The sandbox's Paystack transactions, in memory: initialized, then paid or declined.

Every method is synchronous and never awaits, so on the sandbox's one event loop each
call is atomic, as in ``store.py``."""

from __future__ import annotations

import itertools
import secrets
import string
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_CODE_ALPHABET = string.ascii_lowercase + string.digits


class PaystackRefusal(Exception):
    """A request Paystack answers with ``{"status": false, "message": ...}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


@dataclass
class PaystackTransaction:
    id: int
    reference: str
    access_code: str
    amount: int  # what the merchant asked for, in the currency's smallest unit
    currency: str
    email: str
    metadata: Any = None
    callback_url: str | None = None
    # Paystack reports a transaction nobody has paid yet as abandoned.
    status: str = "abandoned"
    gateway_response: str = "The transaction was not completed"
    paid_amount: int | None = None
    paid_at: datetime | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    webhook_statuses: list[int | None] = field(default_factory=list)

    def data(self) -> dict[str, Any]:
        """The ``data`` of Paystack's verify response and of its charge.success event."""
        amount = self.paid_amount if self.paid_amount is not None else self.amount
        return {
            "id": self.id,
            "domain": "test",
            "status": self.status,
            "reference": self.reference,
            "receipt_number": None,
            "amount": amount,
            "message": None,
            "gateway_response": self.gateway_response,
            "paid_at": _iso(self.paid_at),
            "paidAt": _iso(self.paid_at),
            "created_at": _iso(self.created_at),
            "createdAt": _iso(self.created_at),
            "channel": "card",
            "currency": self.currency,
            "ip_address": "127.0.0.1",
            "metadata": self.metadata if self.metadata is not None else "",
            "fees": None,
            "customer": {
                "id": 1000 + self.id,
                "first_name": None,
                "last_name": None,
                "email": self.email,
                "customer_code": f"CUS_sandbox{self.id:06d}",
                "phone": None,
                "metadata": None,
                "risk_action": "default",
            },
            "authorization": {
                "authorization_code": f"AUTH_sandbox{self.id:06d}",
                "bin": "408408",
                "last4": "4081",
                "exp_month": "12",
                "exp_year": "2030",
                "channel": "card",
                "card_type": "visa ",
                "bank": "TEST BANK",
                "country_code": "NG",
                "brand": "visa",
                "reusable": True,
                "signature": f"SIG_sandbox{self.id:06d}",
                "account_name": None,
            },
            "plan": None,
            "requested_amount": self.amount,
        }

    def summary(self) -> dict[str, Any]:
        """What the sandbox's own test routes show."""
        return {
            "reference": self.reference,
            "access_code": self.access_code,
            "amount": self.amount,
            "paid_amount": self.paid_amount,
            "currency": self.currency,
            "status": self.status,
            "gateway_response": self.gateway_response,
            "paid_at": _iso(self.paid_at),
            "created_at": _iso(self.created_at),
            "webhook_statuses": list(self.webhook_statuses),
        }


class PaystackLedger:
    def __init__(self) -> None:
        self._by_reference: dict[str, PaystackTransaction] = {}
        self._by_access_code: dict[str, PaystackTransaction] = {}
        self._ids = itertools.count(4_000_000_001)
        self._faults: deque[int] = deque()
        self.initialize_requests = 0
        self.verify_requests = 0

    def initialize(
        self,
        *,
        email: str,
        amount: int,
        currency: str,
        reference: str | None,
        metadata: Any = None,
        callback_url: str | None = None,
    ) -> PaystackTransaction:
        reference = reference or "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
        if reference in self._by_reference:
            raise PaystackRefusal(400, "Duplicate Transaction Reference")
        access_code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(15))
        transaction = PaystackTransaction(
            id=next(self._ids),
            reference=reference,
            access_code=access_code,
            amount=amount,
            currency=currency,
            email=email,
            metadata=metadata,
            callback_url=callback_url,
        )
        self._by_reference[reference] = transaction
        self._by_access_code[access_code] = transaction
        return transaction

    def by_reference(self, reference: str) -> PaystackTransaction:
        try:
            return self._by_reference[reference]
        except KeyError:
            raise PaystackRefusal(400, "Transaction reference not found") from None

    def by_access_code(self, access_code: str) -> PaystackTransaction:
        try:
            return self._by_access_code[access_code]
        except KeyError:
            raise PaystackRefusal(404, "Transaction not found") from None

    def pay(self, reference: str, amount: int | None = None) -> PaystackTransaction:
        """The customer pays (``amount`` other than asked: a tampered or partial charge)."""
        transaction = self.by_reference(reference)
        if transaction.status in ("success", "failed"):
            raise PaystackRefusal(400, f"Transaction already {transaction.status}")
        transaction.status = "success"
        transaction.gateway_response = "Successful"
        transaction.paid_amount = transaction.amount if amount is None else amount
        transaction.paid_at = datetime.now(UTC)
        return transaction

    def decline(self, reference: str) -> PaystackTransaction:
        transaction = self.by_reference(reference)
        if transaction.status in ("success", "failed"):
            raise PaystackRefusal(400, f"Transaction already {transaction.status}")
        transaction.status = "failed"
        transaction.gateway_response = "Declined"
        return transaction

    def all(self) -> list[PaystackTransaction]:
        return list(self._by_reference.values())

    def add_faults(self, status: int, count: int) -> int:
        self._faults.extend([status] * count)
        return len(self._faults)

    def take_fault(self) -> int | None:
        return self._faults.popleft() if self._faults else None

    def clear(self) -> None:
        self._by_reference.clear()
        self._by_access_code.clear()
        self._faults.clear()
        self.initialize_requests = 0
        self.verify_requests = 0
