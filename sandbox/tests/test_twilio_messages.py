"""Twilio's shapes without a server: what a create form must hold, and the numbers the
sandbox files messages under."""

from __future__ import annotations

import pytest

from sandbox.addresses import bare_number, whatsapp_address
from sandbox.store import StoredMessage
from sandbox.twilio_errors import TwilioError, fault_error
from sandbox.twilio_messages import message_resource, parse_create

GOOD = [("To", "whatsapp:+2348000000001"), ("From", "whatsapp:+14155238886"), ("Body", "hi")]


def test_a_good_form_is_read_with_every_media_url_in_order() -> None:
    create = parse_create(
        [*GOOD, ("MediaUrl", "https://a.test/1"), ("MediaUrl", "https://a.test/2")]
    )

    assert (create.to, create.body, create.media_urls, create.status_callback) == (
        "whatsapp:+2348000000001",
        "hi",
        ("https://a.test/1", "https://a.test/2"),
        None,
    )


@pytest.mark.parametrize(
    ("replace", "code"),
    [
        (("To", "whatsapp:+1234567"), 21211),  # 7 digits: too short
        (("To", "+2348000000001"), 21211),  # not a WhatsApp address
        (("From", ""), 21603),
        (("Body", ""), 21602),
        (("Body", "é" * 1601), 21617),
    ],
)
def test_a_form_twilio_would_refuse_raises_its_code(replace: tuple[str, str], code: int) -> None:
    form = [replace if name == replace[0] else (name, value) for name, value in GOOD]

    with pytest.raises(TwilioError) as refused:
        parse_create(form)

    assert (refused.value.status, refused.value.code) == (400, code)


def test_the_to_check_comes_before_the_body_check() -> None:
    with pytest.raises(TwilioError) as refused:
        parse_create([("To", "nobody"), ("From", "whatsapp:+1"), ("Body", "")])

    assert refused.value.code == 21211


def test_an_unlisted_server_fault_reads_as_twilio_internal_error() -> None:
    assert fault_error(502).as_json() == {
        "code": 20500,
        "message": "Internal Server Error",
        "more_info": "https://www.twilio.com/docs/errors/20500",
        "status": 502,
    }


def test_the_message_resource_has_twilio_dates_and_uris() -> None:
    message = StoredMessage(
        sid="SM" + "a" * 32,
        direction="out",
        number="+2348000000001",
        to="whatsapp:+2348000000001",
        from_="whatsapp:+14155238886",
        body="hi",
        media_urls=[],
        status="queued",
    )

    resource = message_resource(message, "AC1")

    assert resource["date_created"].endswith("+0000")  # type: ignore[union-attr]
    assert resource["uri"] == f"/2010-04-01/Accounts/AC1/Messages/{message.sid}.json"
    assert (resource["price"], resource["error_code"], resource["num_media"]) == (None, None, "0")


@pytest.mark.parametrize(
    "given", ["+2348000000001", "whatsapp:+2348000000001", "2348000000001", " 2348000000001"]
)
def test_every_spelling_of_a_number_files_under_one_e164_number(given: str) -> None:
    assert bare_number(given) == "+2348000000001"
    assert whatsapp_address(given) == "whatsapp:+2348000000001"
