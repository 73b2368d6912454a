"""The fake Messages API through the real twilio package: what it accepts, records and
refuses, in Twilio's words, and the faults tests can inject."""

from __future__ import annotations

import base64
import re
from datetime import datetime

import pytest

from sandbox.testing import RunningSandbox
from shared import sandbox_defaults

STUDENT = "+2348000000001"


async def test_the_twilio_client_creates_a_message_and_the_sandbox_records_it(
    sandbox: RunningSandbox,
) -> None:
    message = await sandbox.send(to=f"whatsapp:{STUDENT}", body="Hello from the desk")

    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert (message.status, message.direction, message.num_segments) == (
        "queued",
        "outbound-api",
        "1",
    )
    assert (message.to, message.from_, message.body) == (
        f"whatsapp:{STUDENT}",
        sandbox_defaults.TWILIO_WHATSAPP_FROM,
        "Hello from the desk",
    )
    assert isinstance(message.date_created, datetime)
    assert message.date_created.tzinfo is not None
    [stored] = await sandbox.outbound(STUDENT)
    assert (stored["sid"], stored["body"], stored["to"], stored["from"]) == (
        message.sid,
        "Hello from the desk",
        f"whatsapp:{STUDENT}",
        sandbox_defaults.TWILIO_WHATSAPP_FROM,
    )
    assert stored["statuses"][0] == "queued"


async def test_media_urls_are_recorded_in_order_and_counted(sandbox: RunningSandbox) -> None:
    urls = ["https://example.test/a.png", "https://example.test/b.png"]
    message = await sandbox.send(to=f"whatsapp:{STUDENT}", media_url=urls)

    assert message.num_media == "2"
    [stored] = await sandbox.outbound(STUDENT)
    assert (stored["body"], stored["media_urls"]) == ("", urls)


async def test_messages_are_listed_in_acceptance_order_and_filtered_by_either_number_form(
    sandbox: RunningSandbox,
) -> None:
    other = "+2348000000099"
    first = await sandbox.send(to=f"whatsapp:{STUDENT}", body="one")
    await sandbox.send(to=f"whatsapp:{other}", body="elsewhere")
    second = await sandbox.send(to=f"whatsapp:{STUDENT}", body="two")

    for form in (STUDENT, f"whatsapp:{STUDENT}"):
        assert [m["sid"] for m in await sandbox.outbound(form)] == [first.sid, second.sid]
    assert [m["body"] for m in await sandbox.outbound()] == ["one", "elsewhere", "two"]


async def test_a_wrong_auth_token_is_refused_with_401_and_code_20003(
    sandbox: RunningSandbox,
) -> None:
    client = sandbox.twilio_client(sandbox_defaults.TWILIO_AUTH_TOKEN + "-wrong")
    error = await sandbox.refused(client, to=f"whatsapp:{STUDENT}", body="hi")

    assert (error.status, error.code) == (401, 20003)
    assert await sandbox.outbound() == []


async def test_the_account_in_the_path_must_be_the_one_authenticated(
    sandbox: RunningSandbox,
) -> None:
    credentials = f"{sandbox_defaults.TWILIO_ACCOUNT_SID}:{sandbox_defaults.TWILIO_AUTH_TOKEN}"
    response = await sandbox.http.post(
        "/twilio/2010-04-01/Accounts/ACsomeoneelse/Messages.json",
        data={"To": f"whatsapp:{STUDENT}", "From": "whatsapp:+14155238886", "Body": "hi"},
        headers={"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()},
    )

    assert response.status_code == 401
    assert response.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


async def test_no_credentials_at_all_is_a_401(sandbox: RunningSandbox) -> None:
    path = f"/twilio/2010-04-01/Accounts/{sandbox_defaults.TWILIO_ACCOUNT_SID}/Messages.json"
    response = await sandbox.http.post(path, data={"To": f"whatsapp:{STUDENT}", "Body": "hi"})

    assert (response.status_code, response.json()["code"]) == (401, 20003)


@pytest.mark.parametrize("to", ["whatsapp:12", STUDENT, "whatsapp:+234800000000123456", ""])
async def test_a_to_that_is_not_a_whatsapp_number_is_refused_with_21211(
    sandbox: RunningSandbox, to: str
) -> None:
    error = await sandbox.refused(to=to, body="hi")

    assert (error.status, error.code) == (400, 21211)
    assert await sandbox.outbound() == []


async def test_a_message_with_neither_body_nor_media_is_refused_with_21602(
    sandbox: RunningSandbox,
) -> None:
    error = await sandbox.refused(to=f"whatsapp:{STUDENT}", body="")

    assert (error.status, error.code) == (400, 21602)


async def test_a_body_of_1600_characters_passes_and_1601_is_refused_with_21617(
    sandbox: RunningSandbox,
) -> None:
    await sandbox.send(to=f"whatsapp:{STUDENT}", body="x" * 1600)
    error = await sandbox.refused(to=f"whatsapp:{STUDENT}", body="x" * 1601)

    assert (error.status, error.code) == (400, 21617)
    assert [len(str(m["body"])) for m in await sandbox.outbound()] == [1600]


async def test_a_status_callback_that_is_not_a_web_address_is_refused(
    sandbox: RunningSandbox,
) -> None:
    error = await sandbox.refused(
        to=f"whatsapp:{STUDENT}",
        body="hi",
        status_callback="file:///etc/passwd",
    )

    assert (error.status, error.code) == (400, 21609)


async def test_two_injected_429s_fail_the_next_two_sends_then_one_succeeds(
    sandbox: RunningSandbox,
) -> None:
    injected = await sandbox.http.post("/sandbox/twilio/faults", json={"status": 429, "count": 2})
    assert injected.json() == {"pending": 2}
    client = sandbox.twilio_client()

    errors = [await sandbox.refused(client, to=f"whatsapp:{STUDENT}", body="hi") for _ in range(2)]
    message = await sandbox.send(to=f"whatsapp:{STUDENT}", body="hi")

    assert [(e.status, e.code) for e in errors] == [(429, 20429), (429, 20429)]
    count = await sandbox.http.get("/sandbox/twilio/requests/count")
    assert count.json() == {"count": 3}
    assert [m["sid"] for m in await sandbox.outbound()] == [message.sid]


@pytest.mark.parametrize(
    ("status", "code"), [(500, 20500), (503, 20500), (400, 21211), (401, 20003)]
)
async def test_each_injected_fault_speaks_twilio(
    sandbox: RunningSandbox, status: int, code: int
) -> None:
    await sandbox.http.post("/sandbox/twilio/faults", json={"status": status, "count": 1})

    error = await sandbox.refused(to=f"whatsapp:{STUDENT}", body="hi")

    assert (error.status, error.code) == (status, code)
    assert await sandbox.outbound() == []


async def test_clearing_faults_lets_the_next_send_through(sandbox: RunningSandbox) -> None:
    await sandbox.http.post("/sandbox/twilio/faults", json={"status": 500, "count": 5})
    await sandbox.http.delete("/sandbox/twilio/faults")

    message = await sandbox.send(to=f"whatsapp:{STUDENT}", body="hi")

    assert [m["sid"] for m in await sandbox.outbound()] == [message.sid]


async def test_a_fault_outside_the_error_range_is_refused(sandbox: RunningSandbox) -> None:
    response = await sandbox.http.post("/sandbox/twilio/faults", json={"status": 200})

    assert response.status_code == 422


async def test_clearing_messages_forgets_messages_faults_and_the_request_count(
    sandbox: RunningSandbox,
) -> None:
    await sandbox.send(to=f"whatsapp:{STUDENT}", body="hi")
    await sandbox.http.post("/sandbox/twilio/inbound", json={"from": STUDENT, "body": "hello"})
    await sandbox.http.post("/sandbox/twilio/faults", json={"status": 500, "count": 1})

    await sandbox.http.delete("/sandbox/twilio/messages")

    assert await sandbox.outbound() == []
    conversation = await sandbox.http.get(f"/sandbox/conversations/{STUDENT}")
    assert conversation.json() == {"messages": []}
    assert (await sandbox.http.get("/sandbox/twilio/requests/count")).json() == {"count": 0}
    await sandbox.send(to=f"whatsapp:{STUDENT}", body="no fault left")
