"""Paystack's Transaction API over httpx: initialize and verify, retrying only what may
succeed later (429, 5xx, network)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from payments import metrics
from payments.verification import VerifiedTransaction

log = logging.getLogger(__name__)


class PaystackUnavailableError(Exception):
    """Paystack did not answer usefully after every attempt; try again later."""


class PaystackRefusedError(Exception):
    """Paystack refused the request and would refuse it again (4xx other than 429)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Paystack refused the request ({status}): {message}")
        self.status = status
        self.message = message


class TransactionNotFoundError(PaystackRefusedError):
    """Paystack has no transaction with this reference."""


class _Transient(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Checkout:
    authorization_url: str
    access_code: str
    reference: str


def _amount(value: Any) -> int:
    # Money is an integer of the smallest unit; a float or anything else is refused.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PaystackUnavailableError("Paystack sent an amount that is not an integer")
    if isinstance(value, str):
        if not value.isdigit():
            raise PaystackUnavailableError("Paystack sent an amount that is not an integer")
        return int(value)
    return value


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class PaystackClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        secret_key: str,
        attempts: int = 4,
        retry_wait_seconds: float = 0.5,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {secret_key}"}
        self._attempts = attempts
        self._wait = retry_wait_seconds

    async def initialize(
        self,
        *,
        email: str,
        amount_minor: int,
        currency: str,
        reference: str,
        callback_url: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Checkout:
        body: dict[str, Any] = {
            "email": email,
            "amount": str(amount_minor),
            "currency": currency,
            "reference": reference,
        }
        if callback_url:
            body["callback_url"] = callback_url
        if metadata:
            body["metadata"] = metadata
        data = await self._call("initialize", "POST", "/transaction/initialize", json=body)
        try:
            return Checkout(
                authorization_url=str(data["authorization_url"]),
                access_code=str(data["access_code"]),
                reference=str(data["reference"]),
            )
        except KeyError as exc:
            raise PaystackUnavailableError(f"Paystack's answer lacks {exc}") from exc

    async def verify(self, reference: str) -> VerifiedTransaction:
        path = f"/transaction/verify/{quote(reference, safe='')}"
        data = await self._call("verify", "GET", path)
        try:
            return VerifiedTransaction(
                reference=str(data["reference"]),
                status=str(data["status"]),
                amount_minor=_amount(data["amount"]),
                currency=str(data["currency"]),
                gateway_response=str(data.get("gateway_response") or ""),
                paid_at=_moment(data.get("paid_at") or data.get("paidAt")),
                transaction_id=data.get("id") if isinstance(data.get("id"), int) else None,
            )
        except KeyError as exc:
            raise PaystackUnavailableError(f"Paystack's answer lacks {exc}") from exc

    async def _call(self, operation: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda e: isinstance(e, _Transient)),
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential_jitter(
                multiplier=self._wait, max=max(self._wait * 16, 0.01), jitter=self._wait
            ),
            reraise=True,
            before_sleep=lambda _: metrics.PAYSTACK_ERRORS.labels(operation, "retried").inc(),
        )
        started = time.perf_counter()
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._once(method, path, **kwargs)
        except _Transient as exc:
            metrics.PAYSTACK_ERRORS.labels(operation, "unavailable").inc()
            log.warning("paystack.unavailable", extra={"operation": operation, "error": exc.detail})
            raise PaystackUnavailableError(
                f"Paystack {operation} failed after {self._attempts} attempts: {exc.detail}"
            ) from exc
        except PaystackRefusedError as exc:
            metrics.PAYSTACK_ERRORS.labels(operation, "refused").inc()
            log.warning(
                "paystack.refused",
                extra={"operation": operation, "status": exc.status, "detail": exc.message},
            )
            raise
        finally:
            metrics.PAYSTACK_SECONDS.labels(operation).observe(time.perf_counter() - started)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._http.request(
                method, self._base_url + path, headers=self._headers, **kwargs
            )
        except httpx.TransportError as exc:
            raise _Transient(type(exc).__name__) from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise _Transient(f"HTTP {response.status_code}")
        try:
            document = response.json()
        except ValueError as exc:
            raise _Transient(f"HTTP {response.status_code} without JSON") from exc
        message = str(document.get("message", "")) if isinstance(document, dict) else ""
        if response.status_code >= 400 or not isinstance(document, dict):
            if "not found" in message.lower():
                raise TransactionNotFoundError(response.status_code, message)
            raise PaystackRefusedError(response.status_code, message[:200])
        if document.get("status") is not True or not isinstance(document.get("data"), dict):
            raise PaystackRefusedError(response.status_code, message[:200] or "status false")
        data: dict[str, Any] = document["data"]
        return data
