"""Any form, however odd, either becomes a well-formed event or is refused with a
PayloadError (a 400): never another exception, never a half-parsed event."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from gateway.twilio_payload import PayloadError, delivery_status, inbound_message
from shared.events import Envelope, decode_envelope

FIELDS = [
    "MessageSid",
    "SmsSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "MediaUrl0",
    "MediaContentType0",
    "MediaUrl1",
    "ProfileName",
    "MessageStatus",
    "SmsStatus",
    "ErrorCode",
    "ErrorMessage",
]
values = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "whatsapp:+2348000000001",
            "+2348000000001",
            "whatsapp:+",
            "whatsapp:+23480000000011111111",
            "3",
            "-1",
            "99999999999999999999",
            "delivered",
            "READ",
            "../../etc/passwd",
            "file:///etc/passwd",
            "'; DROP TABLE inbox; --",
            "{{7*7}}",
        ]
    ),
)
forms = st.dictionaries(st.sampled_from(FIELDS), st.lists(values, min_size=0, max_size=3))


@settings(max_examples=100, deadline=None)
@given(forms)
def test_any_inbound_form_is_an_event_or_a_payload_error(form: dict[str, list[str]]) -> None:
    try:
        event = inbound_message(form)
    except (PayloadError, ValidationError):
        return
    assert event.from_number.startswith("+") and event.from_number[1:].isdigit()
    assert 6 <= len(event.from_number) - 1 <= 15
    assert event.provider_message_id
    assert len(event.media) <= 10
    # What is accepted survives the trip through the broker unchanged.
    envelope = Envelope.wrap(event, key=event.from_number)
    assert decode_envelope(envelope.to_json()).payload == event


@settings(max_examples=80, deadline=None)
@given(forms)
def test_any_status_form_is_an_event_or_a_payload_error(form: dict[str, list[str]]) -> None:
    try:
        event = delivery_status(form)
    except (PayloadError, ValidationError):
        return
    assert event.provider_message_id
    assert event.status in {
        "queued",
        "sending",
        "sent",
        "delivered",
        "read",
        "failed",
        "undelivered",
    }


@given(
    st.text(min_size=1, max_size=300),
    st.from_regex(r"\+[1-9][0-9]{7,13}", fullmatch=True),
)
def test_a_valid_form_keeps_the_body_verbatim_whatever_it_contains(body: str, number: str) -> None:
    event = inbound_message(
        {
            "MessageSid": ["SM" + "a" * 32],
            "From": [f"whatsapp:{number}"],
            "To": ["whatsapp:+14155238886"],
            "Body": [body],
        }
    )
    assert event.text == body
    assert event.from_number == number
