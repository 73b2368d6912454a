"""Our Paystack client over real sockets against the sandbox: retries on 429 and 5xx,
refusals surface at once, amounts come back as integers, and settings choose the sandbox
only when no key is set."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from payments.paystack_client import (
    PaystackClient,
    PaystackRefusedError,
    PaystackUnavailableError,
    TransactionNotFoundError,
)
from payments.settings import PaymentsSettings
from sandbox.testing import RunningSandbox, serving_sandbox
from shared import sandbox_defaults


@pytest.fixture(scope="module")
async def sandbox() -> AsyncIterator[RunningSandbox]:
    async with serving_sandbox() as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def client(
    sandbox: RunningSandbox, http: httpx.AsyncClient, key: str | None = None, attempts: int = 4
) -> PaystackClient:
    return PaystackClient(
        http,
        base_url=sandbox.url + "/paystack",
        secret_key=key or sandbox_defaults.PAYSTACK_SECRET_KEY,
        attempts=attempts,
        retry_wait_seconds=0.01,
    )


async def test_initialize_retries_429_and_503_then_returns_the_checkout(
    sandbox: RunningSandbox, http: httpx.AsyncClient
) -> None:
    await sandbox.http.post("/sandbox/paystack/faults", json={"status": 429, "count": 1})
    await sandbox.http.post("/sandbox/paystack/faults", json={"status": 503, "count": 2})
    reference = "PAY-" + uuid.uuid4().hex[:12].upper()

    checkout = await client(sandbox, http).initialize(
        email="a@example.com", amount_minor=987_654, currency="NGN", reference=reference
    )

    assert checkout.reference == reference
    assert checkout.authorization_url.endswith("/paystack/checkout/" + checkout.access_code)
    verified = await client(sandbox, http).verify(reference)
    assert (verified.status, verified.amount_minor, verified.currency) == (
        "abandoned",
        987_654,
        "NGN",
    )


async def test_outage_longer_than_the_attempts_is_reported_unavailable(
    sandbox: RunningSandbox, http: httpx.AsyncClient
) -> None:
    await sandbox.http.post("/sandbox/paystack/faults", json={"status": 500, "count": 3})
    with pytest.raises(PaystackUnavailableError, match="after 3 attempts"):
        await client(sandbox, http, attempts=3).verify("PAY-ANY")


async def test_wrong_key_and_unknown_reference_are_refused_without_retrying(
    sandbox: RunningSandbox, http: httpx.AsyncClient
) -> None:
    before = (await sandbox.http.get("/sandbox/paystack/transactions")).json()["verify_requests"]
    with pytest.raises(PaystackRefusedError, match="Invalid key"):
        await client(sandbox, http, key="sk_test_wrong").verify("PAY-ANY")
    with pytest.raises(TransactionNotFoundError):
        await client(sandbox, http).verify("PAY-NEVER-MADE")
    after = (await sandbox.http.get("/sandbox/paystack/transactions")).json()["verify_requests"]
    assert after - before == 2


def test_settings_use_the_sandbox_without_a_key_and_paystack_with_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("PAYSTACK_SECRET_KEY", "PAYSTACK_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    development = PaymentsSettings(sandbox_url="http://127.0.0.1:9999")
    assert development.paystack_base_url(development.sandbox_url) == (
        "http://127.0.0.1:9999/paystack"
    )
    assert development.paystack_key() == sandbox_defaults.PAYSTACK_SECRET_KEY
    live = PaymentsSettings(paystack_secret_key="sk_live_x")  # type: ignore[arg-type]
    assert live.paystack_base_url(live.sandbox_url) == "https://api.paystack.co"
    assert live.paystack_key() == "sk_live_x"
    assert "sk_live_x" not in repr(live)


def test_production_payments_refuses_to_start_without_the_paystack_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PAYSTACK_SECRET_KEY", raising=False)
    with pytest.raises(ValueError, match="payments cannot start in production without: "
                       "PAYSTACK_SECRET_KEY"):  # fmt: skip
        PaymentsSettings(
            app_env="production",
            rabbitmq_url="amqp://x",  # type: ignore[arg-type]
            database_url="postgresql://x",  # type: ignore[arg-type]
            admin_api_token="t",  # type: ignore[arg-type]
        )
