"""Rendering for Twilio, the order of delivery statuses, and the notifier's settings. Pure."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier import delivery
from notifier.rendering import render_for_twilio, render_text, split_body
from notifier.settings import NotifierSettings
from shared.events import Option


def test_options_become_numbered_lines_after_the_text() -> None:
    text = render_text(
        "Pick one:",
        (Option(id="a", title="Apples"), Option(id="b", title="Pears", description="₦5")),
    )
    assert text == "Pick one:\n\n1. Apples\n2. Pears — ₦5"


def test_options_without_text_are_the_whole_body() -> None:
    assert render_text("", (Option(id="a", title="Yes"), Option(id="b", title="No"))) == (
        "1. Yes\n2. No"
    )


def test_short_bodies_stay_whole() -> None:
    assert render_for_twilio("hello", ()) == ["hello"]
    assert render_for_twilio("x" * 1600, ()) == ["x" * 1600]


def test_long_bodies_split_at_line_boundaries_under_the_limit_and_in_order() -> None:
    lines = [f"Line {i:03d} " + "x" * 40 for i in range(100)]
    parts = split_body("\n".join(lines), 1600)
    assert len(parts) > 1
    assert all(len(p) <= 1600 for p in parts)
    assert "\n".join(parts).split("\n") == lines


def test_paragraphs_are_kept_together_when_they_fit() -> None:
    paragraphs = ["a" * 700, "b" * 700, "c" * 700]
    assert split_body("\n\n".join(paragraphs), 1600) == ["a" * 700 + "\n\n" + "b" * 700, "c" * 700]


def test_a_word_longer_than_the_limit_is_cut() -> None:
    assert split_body("y" * 3500, 1600) == ["y" * 1600, "y" * 1600, "y" * 300]


@given(st.text(min_size=0, max_size=6000))
def test_splitting_never_exceeds_the_limit_or_loses_words(body: str) -> None:
    parts = split_body(body, 200)
    assert all(len(p) <= 200 for p in parts)
    assert "".join(body.split()) == "".join("".join(parts).split())


def test_twilio_states_move_forward_in_their_own_order() -> None:
    assert delivery.best(["queued", "sending", "sent", "delivered", "read"]) == "read"
    assert delivery.advance("queued", "sending") == "sending"
    assert delivery.advance("sending", "queued") == "sending"
    assert delivery.advance("submitting", "queued") == "queued"


def test_a_late_sent_never_overwrites_read() -> None:
    assert delivery.best(["read", "sent"], start="queued") == "read"
    assert delivery.best(["read", "delivered", "sent", "sending"], start="queued") == "read"


def test_failure_beats_anything_before_delivery_but_not_delivery() -> None:
    assert delivery.advance("sent", "failed") == "failed"
    assert delivery.advance("queued", "undelivered") == "undelivered"
    assert delivery.advance("failed", "sent") == "failed"
    assert delivery.advance("delivered", "failed") == "delivered"
    assert delivery.advance("read", "undelivered") == "read"


def test_an_unknown_status_changes_nothing() -> None:
    assert delivery.advance("queued", "mystery") == "queued"


@given(st.lists(st.sampled_from(delivery.STATES), max_size=8))
def test_the_kept_status_does_not_depend_on_arrival_order(statuses: list[str]) -> None:
    # failed and undelivered tie: whichever came first stays, both are final failures.
    forward, backward = delivery.best(statuses), delivery.best(list(reversed(statuses)))
    assert delivery.rank(forward) == delivery.rank(backward)


def test_settings_read_both_parents_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC123")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "token")
    monkeypatch.setenv("SEND_ATTEMPTS", "2")
    monkeypatch.setenv("PORT", "9999")
    monkeypatch.setenv("SOMETHING_ELSE", "ignored")
    settings = NotifierSettings()
    assert (settings.twilio_account_sid, settings.send_attempts, settings.port) == (
        "AC123",
        2,
        9999,
    )
    assert not settings.twilio_uses_sandbox
    assert settings.twilio_base_url(settings.sandbox_url) == "https://api.twilio.com"


def test_settings_default_to_port_8003_and_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PORT", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = NotifierSettings(sandbox_url="http://127.0.0.1:8010")
    assert settings.port == 8003
    assert settings.twilio_base_url(settings.sandbox_url) == "http://127.0.0.1:8010/twilio"


def test_production_refuses_to_start_without_its_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_FROM", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    # pydantic wraps the validator's MissingSecretsError in a ValidationError.
    with pytest.raises(ValueError, match="notifier cannot start in production") as refused:
        NotifierSettings(
            app_env="production",
            rabbitmq_url="amqp://mq/",
            notifier_database_url="postgresql://db/app",
            admin_api_token="t",
            twilio_account_sid="AC123",
        )
    message = str(refused.value)
    assert "PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN, TWILIO_WHATSAPP_FROM" in message
    assert "DATABASE_URL" not in message
