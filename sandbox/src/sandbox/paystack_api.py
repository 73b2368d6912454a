"""Routes of the fake Paystack Transaction API (initialize, verify) in Paystack's JSON,
and the routes tests use to pay, decline, replay or drop webhooks and inject faults."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sandbox.paystack_ledger import PaystackLedger, PaystackRefusal, PaystackTransaction
from sandbox.paystack_webhooks import PaystackWebhooks
from sandbox.settings import SandboxSettings

_FAULT_MESSAGES = {429: "Too many requests", 500: "An error occurred", 503: "Service unavailable"}


def refusal(status: int, message: str) -> JSONResponse:
    return JSONResponse({"status": False, "message": message}, status_code=status)


class Fault(BaseModel):
    """The next ``count`` API calls (initialize or verify) answer HTTP ``status``."""

    status: int = Field(ge=400, le=599)
    count: int = Field(default=1, ge=1, le=1000)


class PayOptions(BaseModel):
    """``amount``: charge a different amount than asked; ``send_webhook=false``: the
    charge succeeds but its webhook is lost, as when the merchant's server is down."""

    amount: int | None = Field(default=None, ge=0)
    send_webhook: bool = True


def _as_amount(value: Any) -> int | None:
    # Paystack takes the amount as an integer or a string of digits, in the smallest unit.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return int(value)
    return None


def paystack_router(
    settings: SandboxSettings, ledger: PaystackLedger, webhooks: PaystackWebhooks
) -> APIRouter:
    router = APIRouter()
    expected = f"Bearer {settings.paystack_secret_key.get_secret_value()}".encode()

    def refused(request: Request) -> JSONResponse | None:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return refusal(401, "Invalid key")
        fault = ledger.take_fault()
        if fault is not None:
            return refusal(fault, _FAULT_MESSAGES.get(fault, "An error occurred"))
        return None

    @router.post(
        "/paystack/transaction/initialize",
        tags=["paystack"],
        summary="Initialize a transaction, as Paystack's API does",
    )
    async def initialize(request: Request) -> JSONResponse:
        ledger.initialize_requests += 1
        if (answer := refused(request)) is not None:
            return answer
        try:
            body = await request.json()
        except ValueError:
            return refusal(400, "Invalid JSON body")
        if not isinstance(body, dict):
            return refusal(400, "Invalid JSON body")
        email = body.get("email")
        if not isinstance(email, str) or "@" not in email:
            return refusal(400, "Invalid Email Address Passed")
        amount = _as_amount(body.get("amount"))
        if amount is None:
            return refusal(400, "Invalid Amount Sent")
        currency = body.get("currency") or "NGN"
        if currency not in ("NGN", "GHS", "ZAR", "KES", "USD"):
            return refusal(400, "Currency not supported by merchant")
        reference = body.get("reference")
        try:
            transaction = ledger.initialize(
                email=email,
                amount=amount,
                currency=currency,
                reference=str(reference) if reference else None,
                metadata=body.get("metadata"),
                callback_url=body.get("callback_url"),
            )
        except PaystackRefusal as error:
            return refusal(error.status, error.message)
        base = settings.sandbox_public_url or str(request.base_url)
        checkout = base.rstrip("/") + f"/paystack/checkout/{transaction.access_code}"
        return JSONResponse(
            {
                "status": True,
                "message": "Authorization URL created",
                "data": {
                    "authorization_url": checkout,
                    "access_code": transaction.access_code,
                    "reference": transaction.reference,
                },
            }
        )

    @router.get(
        "/paystack/transaction/verify/{reference}",
        tags=["paystack"],
        summary="Verify a transaction by its reference, as Paystack's API does",
    )
    async def verify(reference: str, request: Request) -> JSONResponse:
        ledger.verify_requests += 1
        if (answer := refused(request)) is not None:
            return answer
        try:
            transaction = ledger.by_reference(reference)
        except PaystackRefusal as error:
            return refusal(error.status, error.message)
        return JSONResponse(
            {"status": True, "message": "Verification successful", "data": transaction.data()}
        )

    # --- test routes -------------------------------------------------------------------

    def found(reference: str) -> PaystackTransaction | JSONResponse:
        try:
            return ledger.by_reference(reference)
        except PaystackRefusal as error:
            return refusal(404, error.message)

    @router.get("/sandbox/paystack/transactions", tags=["sandbox"], summary="Every transaction")
    async def list_transactions() -> dict[str, object]:
        return {
            "transactions": [t.summary() for t in ledger.all()],
            "initialize_requests": ledger.initialize_requests,
            "verify_requests": ledger.verify_requests,
        }

    @router.get(
        "/sandbox/paystack/transactions/{reference}", tags=["sandbox"], summary="One transaction"
    )
    async def get_transaction(reference: str) -> Any:
        transaction = found(reference)
        return transaction if isinstance(transaction, JSONResponse) else transaction.summary()

    @router.post(
        "/sandbox/paystack/transactions/{reference}/pay",
        tags=["sandbox"],
        summary="Pay as the customer would on the checkout page, without a browser",
    )
    async def pay(reference: str, options: PayOptions | None = None) -> JSONResponse:
        options = options or PayOptions()
        try:
            transaction = ledger.pay(reference, options.amount)
        except PaystackRefusal as error:
            return refusal(404 if "not found" in error.message else 409, error.message)
        webhook_status = (
            await webhooks.charge_success(transaction) if options.send_webhook else None
        )
        return JSONResponse({**transaction.summary(), "webhook_status": webhook_status})

    @router.post(
        "/sandbox/paystack/transactions/{reference}/decline",
        tags=["sandbox"],
        summary="Decline as the customer's bank would",
    )
    async def decline(reference: str) -> JSONResponse:
        try:
            transaction = ledger.decline(reference)
        except PaystackRefusal as error:
            return refusal(404 if "not found" in error.message else 409, error.message)
        return JSONResponse(transaction.summary())

    @router.post(
        "/sandbox/paystack/transactions/{reference}/webhook",
        tags=["sandbox"],
        summary="Send the charge.success webhook of a paid transaction again (a replay)",
    )
    async def replay(reference: str) -> JSONResponse:
        transaction = found(reference)
        if isinstance(transaction, JSONResponse):
            return transaction
        if transaction.status != "success":
            return refusal(409, "Only a successful transaction has a charge.success event")
        return JSONResponse({"webhook_status": await webhooks.charge_success(transaction)})

    @router.post("/sandbox/paystack/faults", tags=["sandbox"], summary="Fail the next API calls")
    async def add_faults(fault: Fault) -> dict[str, int]:
        return {"pending": ledger.add_faults(fault.status, fault.count)}

    @router.delete(
        "/sandbox/paystack/transactions", tags=["sandbox"], summary="Forget every transaction"
    )
    async def clear() -> dict[str, bool]:
        ledger.clear()
        return {"cleared": True}

    return router
