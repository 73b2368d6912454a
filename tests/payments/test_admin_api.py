"""The payments admin API: bearer token required; create a payment and get its link;
list, read and re-verify payments; plans CRUD; subscriptions."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from shared import sandbox_defaults
from shared.testing import running_app

from .conftest import World

AUTH = {"Authorization": f"Bearer {sandbox_defaults.ADMIN_API_TOKEN}"}


@pytest.fixture(scope="module")
async def api(world: World) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        running_app(world.service.app) as url,
        httpx.AsyncClient(base_url=url, headers=AUTH, timeout=20) as client,
    ):
        yield client


def phone() -> str:
    return f"+23481{uuid.uuid4().int % 10**9:09d}"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/payments"),
        ("POST", "/api/payments"),
        ("GET", "/api/payments/PAY-X"),
        ("POST", "/api/payments/PAY-X/verify"),
        ("GET", "/api/plans"),
        ("POST", "/api/plans"),
        ("PATCH", "/api/plans/monthly"),
        ("DELETE", "/api/plans/monthly"),
        ("GET", "/api/subscriptions"),
        ("GET", f"/api/subscriptions/{uuid.UUID(int=1)}"),
    ],
)
async def test_every_admin_route_needs_the_bearer_token(
    api: httpx.AsyncClient, method: str, path: str
) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer wrong"}):
        response = await api.request(method, path, headers=headers, json={})
        assert response.status_code == 401, (method, path)
    plan = await api.get("/api/plans/monthly")
    assert plan.json()["active"] is True


async def test_post_payment_for_a_plan_returns_its_checkout_link_priced_by_the_plan(
    api: httpx.AsyncClient, world: World
) -> None:
    request_id = str(uuid.uuid4())
    body = {"phone_number": phone(), "plan_code": "termly", "request_id": request_id}

    first = await api.post("/api/payments", json=body)
    again = await api.post("/api/payments", json=body)

    assert first.status_code == 201, first.text
    payment = first.json()
    assert (payment["purpose"], payment["amount_minor"], payment["currency"]) == (
        "plan",
        1_200_000,
        "NGN",
    )
    assert payment["status"] == "pending"
    assert payment["checkout_url"].startswith(world.sandbox.url + "/paystack/checkout/")
    assert again.json()["reference"] == payment["reference"]
    detail = await api.get(f"/api/payments/{payment['reference']}")
    assert detail.json()["checkout_url"] == payment["checkout_url"]


@pytest.mark.parametrize(
    "body",
    [
        {"amount_minor": 5000.5},
        {"amount_minor": "5000"},
        {"amount_minor": 0},
        {"amount_minor": 100, "plan_code": "monthly"},
        {},
        {"amount_minor": 100, "currency": "naira"},
    ],
    ids=["float", "string", "zero", "both", "neither", "bad_currency"],
)
async def test_money_must_be_a_positive_integer_and_exactly_one_of_plan_or_amount(
    api: httpx.AsyncClient, body: dict[str, object]
) -> None:
    response = await api.post("/api/payments", json={"phone_number": phone(), **body})
    assert response.status_code == 422, response.text


async def test_payments_list_filters_by_phone_and_status_and_pages(
    api: httpx.AsyncClient,
) -> None:
    number = phone()
    references = []
    for amount in (1000, 2000, 3000):
        response = await api.post(
            "/api/payments", json={"phone_number": number, "amount_minor": amount}
        )
        references.append(response.json()["reference"])

    page = (await api.get("/api/payments", params={"phone": number, "limit": 2})).json()
    rest = (await api.get("/api/payments", params={"phone": number, "offset": 2})).json()
    pending = await api.get("/api/payments", params={"phone": number, "status": "pending"})
    succeeded = await api.get("/api/payments", params={"phone": number, "status": "succeeded"})

    assert page["total"] == 3 and len(page["items"]) == 2 and len(rest["items"]) == 1
    listed = {p["reference"] for p in page["items"] + rest["items"]}
    assert listed == set(references)
    assert {p["amount_minor"] for p in pending.json()["items"]} == {1000, 2000, 3000}
    assert succeeded.json()["total"] == 0
    assert (await api.get("/api/payments/PAY-NOSUCHTHING")).status_code == 404


async def test_manual_reverify_settles_a_paid_plan_and_shows_the_subscription(
    api: httpx.AsyncClient, world: World
) -> None:
    number = phone()
    created = await api.post("/api/payments", json={"phone_number": number, "plan_code": "starter"})
    reference = created.json()["reference"]
    unpaid = (await api.post(f"/api/payments/{reference}/verify")).json()
    assert (unpaid["outcome"], unpaid["payment"]["status"]) == ("waiting", "pending")
    await world.sandbox.http.post(
        f"/sandbox/paystack/transactions/{reference}/pay", json={"send_webhook": False}
    )

    result = (await api.post(f"/api/payments/{reference}/verify")).json()

    assert result["outcome"] == "paid"
    assert (result["payment"]["status"], result["payment"]["settled_by"]) == (
        "succeeded",
        "manual",
    )
    subscriptions = (await api.get("/api/subscriptions", params={"phone": number})).json()
    [subscription] = subscriptions["items"]
    assert subscription["id"] == result["payment"]["subscription_id"]
    assert (subscription["plan_code"], subscription["status"]) == ("starter", "active")
    assert subscription["homework_credits"] == 10
    detail = await api.get(f"/api/subscriptions/{subscription['id']}")
    assert detail.json() == subscription
    assert (await api.get(f"/api/subscriptions/{uuid.uuid4()}")).status_code == 404


async def test_plans_can_be_added_changed_and_retired(api: httpx.AsyncClient) -> None:
    code = "weekly-" + uuid.uuid4().hex[:6]
    plan = {"code": code, "name": "Weekly", "price_minor": 150_000, "duration_days": 7}

    created = await api.post("/api/plans", json=plan)
    duplicate = await api.post("/api/plans", json=plan)
    changed = await api.patch(f"/api/plans/{code}", json={"price_minor": 175_000})
    float_price = await api.patch(f"/api/plans/{code}", json={"price_minor": 1750.5})
    priced = await api.post("/api/payments", json={"phone_number": phone(), "plan_code": code})
    retired = await api.delete(f"/api/plans/{code}")
    after = await api.post("/api/payments", json={"phone_number": phone(), "plan_code": code})

    assert created.status_code == 201
    assert (created.json()["currency"], created.json()["homework_credits"]) == ("NGN", None)
    assert duplicate.status_code == 409
    assert changed.json()["price_minor"] == 175_000
    assert float_price.status_code == 422
    assert priced.json()["amount_minor"] == 175_000
    assert retired.status_code == 204
    assert (await api.get(f"/api/plans/{code}")).json()["active"] is False
    active_codes = {p["code"] for p in (await api.get("/api/plans?active=true")).json()["items"]}
    assert code not in active_codes and {"monthly", "termly", "starter"} <= active_codes
    assert after.status_code == 422
    assert "unknown plan" in after.json()["detail"]
