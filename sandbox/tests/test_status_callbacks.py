"""Status callbacks: sent, delivered and read, in order, signed as Twilio signs them, and
a receiver that is down or refusing never stops the sandbox."""

from __future__ import annotations

from twilio.request_validator import RequestValidator

from sandbox.testing import RunningSandbox, serving_sandbox
from shared import sandbox_defaults
from shared.testing import eventually, free_port

STUDENT = "+2348000000002"
validator = RequestValidator(sandbox_defaults.TWILIO_AUTH_TOKEN)


async def test_callbacks_arrive_in_order_signed_over_the_exact_callback_url(
    sandbox: RunningSandbox,
) -> None:
    # A query string is part of what Twilio signs; the receiver must see it signed too.
    callback = sandbox.receiver.url + "/hooks/status?tenant=desk&x=1"
    message = await sandbox.send(
        to=f"whatsapp:{STUDENT}", body="track me", status_callback=callback
    )

    await eventually(lambda: len(sandbox.receiver.posts_for(message.sid)) == 3, within=5)
    posts = sandbox.receiver.posts_for(message.sid)
    assert [p.form["MessageStatus"] for p in posts] == ["sent", "delivered", "read"]
    for post in posts:
        assert post.url == callback
        assert post.form["SmsStatus"] == post.form["MessageStatus"]
        assert (post.form["SmsSid"], post.form["To"], post.form["From"]) == (
            message.sid,
            f"whatsapp:{STUDENT}",
            sandbox_defaults.TWILIO_WHATSAPP_FROM,
        )
        assert post.form["AccountSid"] == sandbox_defaults.TWILIO_ACCOUNT_SID
        assert post.form["ApiVersion"] == "2010-04-01"
        assert validator.validate(post.url, post.form, post.signature)
        assert not validator.validate(post.url, {**post.form, "MessageStatus": "x"}, post.signature)
    [stored] = await sandbox.outbound(STUDENT)
    assert (stored["status"], stored["statuses"]) == (
        "read",
        ["queued", "sent", "delivered", "read"],
    )


async def test_without_a_status_callback_they_go_to_the_gateway_status_route(
    sandbox: RunningSandbox,
) -> None:
    message = await sandbox.send(to=f"whatsapp:{STUDENT}", body="default route")

    await eventually(lambda: len(sandbox.receiver.posts_for(message.sid)) == 3, within=5)
    posts = sandbox.receiver.posts_for(message.sid)
    assert {p.url for p in posts} == {sandbox.receiver.url + "/api/v1/whatsapp/status"}
    assert all(validator.validate(p.url, p.form, p.signature) for p in posts)


async def test_a_refused_callback_is_retried_and_the_next_statuses_still_follow(
    sandbox: RunningSandbox,
) -> None:
    sandbox.receiver.answers.extend([503, 401])
    message = await sandbox.send(to=f"whatsapp:{STUDENT}", body="retry me")

    await eventually(lambda: len(sandbox.receiver.posts_for(message.sid)) == 5, within=5)
    statuses = [p.form["MessageStatus"] for p in sandbox.receiver.posts_for(message.sid)]
    assert statuses == ["sent", "sent", "sent", "delivered", "read"]


async def test_a_callback_that_keeps_failing_is_dropped_after_the_last_attempt(
    sandbox: RunningSandbox,
) -> None:
    sandbox.receiver.answers.extend([500, 500, 500])  # the sandbox under test tries 3 times
    message = await sandbox.send(to=f"whatsapp:{STUDENT}", body="give up on sent")

    await eventually(lambda: len(sandbox.receiver.posts_for(message.sid)) == 5, within=5)
    statuses = [p.form["MessageStatus"] for p in sandbox.receiver.posts_for(message.sid)]
    assert statuses == ["sent", "sent", "sent", "delivered", "read"]


async def test_a_gateway_that_is_down_does_not_stop_the_sandbox() -> None:
    async with serving_sandbox(gateway_url=f"http://127.0.0.1:{free_port()}") as sandbox:
        message = await sandbox.send(to=f"whatsapp:{STUDENT}", body="nobody listens")

        async def walked_to_read() -> bool:
            [stored] = await sandbox.outbound(STUDENT)
            return stored["status"] == "read"

        await eventually(walked_to_read, within=5)
        again = await sandbox.send(to=f"whatsapp:{STUDENT}", body="still here")
    assert again.sid != message.sid
