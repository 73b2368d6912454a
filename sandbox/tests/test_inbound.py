"""Simulated inbound messages: the form Twilio would post to the gateway's webhook, signed
over the webhook's URL, and the conversation feed that merges both directions."""

from __future__ import annotations

import re

from twilio.request_validator import RequestValidator

from sandbox.testing import RunningSandbox, serving_sandbox
from shared import sandbox_defaults
from shared.testing import free_port

STUDENT = "+2348000000003"
WEBHOOK = "/api/v1/whatsapp/webhook"
validator = RequestValidator(sandbox_defaults.TWILIO_AUTH_TOKEN)


async def test_inbound_posts_a_signed_twilio_form_to_the_gateway_webhook(
    sandbox: RunningSandbox,
) -> None:
    response = await sandbox.http.post(
        "/sandbox/twilio/inbound",
        json={"from": STUDENT, "body": "hi\nthere", "media_url": None, "profile_name": "Ada"},
    )

    assert response.status_code == 200
    result = response.json()
    assert result["gateway_status"] == 200
    assert re.fullmatch(r"SM[0-9a-f]{32}", result["message_sid"])
    [post] = sandbox.receiver.posts
    assert post.url == sandbox.receiver.url + WEBHOOK
    assert validator.validate(post.url, post.form, post.signature)
    assert {k: post.form[k] for k in expected_fields()} == {
        "MessageSid": result["message_sid"],
        "SmsMessageSid": result["message_sid"],
        "AccountSid": sandbox_defaults.TWILIO_ACCOUNT_SID,
        "From": f"whatsapp:{STUDENT}",
        "To": sandbox_defaults.TWILIO_WHATSAPP_FROM,
        "Body": "hi\nthere",
        "NumMedia": "0",
        "NumSegments": "1",
        "ProfileName": "Ada",
        "WaId": STUDENT.removeprefix("+"),
        "ApiVersion": "2010-04-01",
    }
    assert "MediaUrl0" not in post.form


def expected_fields() -> list[str]:
    return [
        "MessageSid",
        "SmsMessageSid",
        "AccountSid",
        "From",
        "To",
        "Body",
        "NumMedia",
        "NumSegments",
        "ProfileName",
        "WaId",
        "ApiVersion",
    ]


async def test_inbound_media_travels_as_media_url0_with_its_type(sandbox: RunningSandbox) -> None:
    image = "http://127.0.0.1:9/homework.png"
    await sandbox.http.post(
        "/sandbox/twilio/inbound",
        json={"from": f"whatsapp:{STUDENT}", "media_url": image, "media_content_type": "image/png"},
    )

    [post] = sandbox.receiver.posts
    assert (post.form["NumMedia"], post.form["MediaUrl0"], post.form["MediaContentType0"]) == (
        "1",
        image,
        "image/png",
    )
    assert (post.form["Body"], post.form["From"]) == ("", f"whatsapp:{STUDENT}")
    assert validator.validate(post.url, post.form, post.signature)


async def test_the_gateway_answer_is_passed_back_and_a_refusal_marks_the_message_failed(
    sandbox: RunningSandbox,
) -> None:
    sandbox.receiver.answers.append(401)

    response = await sandbox.http.post(
        "/sandbox/twilio/inbound", json={"from": STUDENT, "body": "hi"}
    )

    assert (response.status_code, response.json()["gateway_status"]) == (200, 401)
    [message] = await sandbox.conversation(STUDENT)
    assert message["statuses"] == ["sending", "failed"]


async def test_a_number_that_is_not_a_phone_number_is_refused(sandbox: RunningSandbox) -> None:
    response = await sandbox.http.post(
        "/sandbox/twilio/inbound", json={"from": "ada", "body": "hi"}
    )

    assert response.status_code == 422
    assert sandbox.receiver.posts == []


async def test_a_gateway_that_is_down_is_a_clear_502_not_a_crash() -> None:
    gateway = f"http://127.0.0.1:{free_port()}"
    async with serving_sandbox(gateway_url=gateway) as sandbox:
        response = await sandbox.http.post(
            "/sandbox/twilio/inbound", json={"from": STUDENT, "body": "anyone?"}
        )
        health = await sandbox.http.get("/health")

    assert response.status_code == 502
    assert gateway + WEBHOOK in response.json()["detail"]
    assert response.json()["message_sid"].startswith("SM")
    assert health.status_code == 200


async def test_the_conversation_merges_both_directions_in_the_order_they_happened(
    sandbox: RunningSandbox,
) -> None:
    await sandbox.http.post("/sandbox/twilio/inbound", json={"from": STUDENT, "body": "hi"})
    reply = await sandbox.send(to=f"whatsapp:{STUDENT}", body="1. Shop\n2. Homework")
    await sandbox.send(to="whatsapp:+2348000000999", body="someone else")
    await sandbox.http.post("/sandbox/twilio/inbound", json={"from": STUDENT, "body": "2"})

    for number in (STUDENT, f"whatsapp:{STUDENT}"):
        messages = await sandbox.conversation(number)
        assert [(m["direction"], m["body"]) for m in messages] == [
            ("in", "hi"),
            ("out", "1. Shop\n2. Homework"),
            ("in", "2"),
        ]
    assert messages[1]["sid"] == reply.sid
    assert messages[0]["status"] == "received"
    assert set(messages[0]) >= {"direction", "body", "media_urls", "status", "at", "sid"}
