"""The sandbox's Paystack: initialize and verify in Paystack's JSON with bearer auth, a
checkout page with Pay and Decline, and charge.success webhooks signed as Paystack signs."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sandbox.testing import RunningSandbox
from shared import sandbox_defaults
from shared.paystack_signature import paystack_signature

AUTH = {"Authorization": f"Bearer {sandbox_defaults.PAYSTACK_SECRET_KEY}"}
WEBHOOK = "/api/webhook/paystack"


def reference() -> str:
    return "PAY-" + uuid.uuid4().hex[:12].upper()


async def initialize(sandbox: RunningSandbox, ref: str, amount: Any = 500000) -> dict[str, Any]:
    response = await sandbox.http.post(
        "/paystack/transaction/initialize",
        json={
            "email": "2348000000001@students.example.com",
            "amount": amount,
            "currency": "NGN",
            "reference": ref,
        },
        headers=AUTH,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_initialize_answers_with_paystacks_shape_and_a_checkout_link(
    sandbox: RunningSandbox,
) -> None:
    ref = reference()
    body = await initialize(sandbox, ref, "500000")

    assert body["status"] is True
    assert body["message"] == "Authorization URL created"
    data = body["data"]
    assert data["reference"] == ref
    assert data["authorization_url"] == f"{sandbox.url}/paystack/checkout/{data['access_code']}"
    page = await sandbox.http.get(data["authorization_url"])
    assert page.status_code == 200
    assert "NGN 5,000.00" in page.text
    assert 'action="/paystack/checkout/' in page.text and ">Pay<" in page.text
    assert ">Decline<" in page.text
    assert "script-src" not in page.headers["content-security-policy"]


async def test_wrong_or_missing_key_is_refused_as_paystack_does(sandbox: RunningSandbox) -> None:
    for headers in ({}, {"Authorization": "Bearer sk_test_wrong"}):
        response = await sandbox.http.post(
            "/paystack/transaction/initialize",
            json={"email": "a@b.co", "amount": 100},
            headers=headers,
        )
        assert response.status_code == 401
        assert response.json() == {"status": False, "message": "Invalid key"}


async def test_bad_amounts_emails_and_duplicate_references_are_refused(
    sandbox: RunningSandbox,
) -> None:
    ref = reference()
    await initialize(sandbox, ref)
    cases = [
        ({"email": "a@b.co", "amount": 50.5}, "Invalid Amount Sent"),
        ({"email": "a@b.co", "amount": "-5"}, "Invalid Amount Sent"),
        ({"email": "nobody", "amount": 100}, "Invalid Email Address Passed"),
        ({"email": "a@b.co", "amount": 100, "reference": ref}, "Duplicate Transaction Reference"),
    ]
    for body, message in cases:
        response = await sandbox.http.post(
            "/paystack/transaction/initialize", json=body, headers=AUTH
        )
        assert response.status_code == 400
        assert response.json() == {"status": False, "message": message}


async def test_verify_reports_abandoned_until_paid_then_success_with_integer_amount(
    sandbox: RunningSandbox,
) -> None:
    ref = reference()
    await initialize(sandbox, ref, 1_234_567)
    before = (await sandbox.http.get(f"/paystack/transaction/verify/{ref}", headers=AUTH)).json()
    assert before["data"]["status"] == "abandoned"

    paid = await sandbox.http.post(f"/sandbox/paystack/transactions/{ref}/pay")
    after = await sandbox.http.get(f"/paystack/transaction/verify/{ref}", headers=AUTH)

    assert paid.json()["webhook_status"] == 200
    body = after.json()
    assert (body["status"], body["message"]) == (True, "Verification successful")
    data = body["data"]
    assert (data["status"], data["reference"], data["amount"], data["currency"]) == (
        "success",
        ref,
        1_234_567,
        "NGN",
    )
    assert isinstance(data["amount"], int)
    assert data["paid_at"].endswith("Z") and data["gateway_response"] == "Successful"


async def test_verify_of_an_unknown_reference_says_not_found(sandbox: RunningSandbox) -> None:
    response = await sandbox.http.get("/paystack/transaction/verify/PAY-NOPE", headers=AUTH)
    assert response.status_code == 400
    assert response.json() == {"status": False, "message": "Transaction reference not found"}


async def test_pay_button_sends_a_correctly_signed_charge_success_to_the_gateway(
    sandbox: RunningSandbox,
) -> None:
    ref = reference()
    data = (await initialize(sandbox, ref, 750000))["data"]

    page = await sandbox.http.post(f"/paystack/checkout/{data['access_code']}/pay")

    assert "Payment successful." in page.text
    [post] = sandbox.receiver.posts
    assert post.path == WEBHOOK
    expected = paystack_signature(sandbox_defaults.PAYSTACK_SECRET_KEY, post.body)
    assert post.headers["x-paystack-signature"] == expected
    event = json.loads(post.body)
    assert event["event"] == "charge.success"
    assert (event["data"]["reference"], event["data"]["amount"]) == (ref, 750000)
    assert event["data"]["status"] == "success"


async def test_decline_button_fails_the_transaction_and_sends_no_webhook(
    sandbox: RunningSandbox,
) -> None:
    ref = reference()
    data = (await initialize(sandbox, ref))["data"]

    page = await sandbox.http.post(f"/paystack/checkout/{data['access_code']}/decline")
    verify = await sandbox.http.get(f"/paystack/transaction/verify/{ref}", headers=AUTH)

    assert "Payment declined." in page.text
    assert (verify.json()["data"]["status"], verify.json()["data"]["gateway_response"]) == (
        "failed",
        "Declined",
    )
    assert sandbox.receiver.posts == []
    again = await sandbox.http.post(f"/sandbox/paystack/transactions/{ref}/pay")
    assert again.status_code == 409


async def test_webhook_can_be_dropped_replayed_and_paid_with_another_amount(
    sandbox: RunningSandbox,
) -> None:
    ref = reference()
    await initialize(sandbox, ref, 500000)

    paid = await sandbox.http.post(
        f"/sandbox/paystack/transactions/{ref}/pay", json={"amount": 100, "send_webhook": False}
    )
    assert paid.json()["webhook_status"] is None
    assert sandbox.receiver.posts == []
    replay = await sandbox.http.post(f"/sandbox/paystack/transactions/{ref}/webhook")
    replay_again = await sandbox.http.post(f"/sandbox/paystack/transactions/{ref}/webhook")

    assert (replay.json(), replay_again.json()) == ({"webhook_status": 200},) * 2
    bodies = [json.loads(p.body) for p in sandbox.receiver.posts]
    assert [b["data"]["amount"] for b in bodies] == [100, 100]
    assert bodies[0]["data"]["requested_amount"] == 500000
    summary = (await sandbox.http.get(f"/sandbox/paystack/transactions/{ref}")).json()
    assert summary["webhook_statuses"] == [200, 200]


async def test_injected_faults_answer_the_next_api_calls_then_stop(
    sandbox: RunningSandbox,
) -> None:
    await sandbox.http.post("/sandbox/paystack/faults", json={"status": 503, "count": 2})
    statuses = [
        (await sandbox.http.get("/paystack/transaction/verify/PAY-X", headers=AUTH)).status_code
        for _ in range(3)
    ]
    assert statuses == [503, 503, 400]


async def test_checkout_links_use_the_public_url_when_one_is_set() -> None:
    from sandbox.testing import serving_sandbox

    async with serving_sandbox(sandbox_public_url="http://localhost:8010/") as sandbox:
        data = (await initialize(sandbox, reference()))["data"]
    assert data["authorization_url"] == (
        f"http://localhost:8010/paystack/checkout/{data['access_code']}"
    )
