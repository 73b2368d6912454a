"""Settings refuse to start production without secrets; logs mask numbers and secrets."""

from __future__ import annotations

import json
import logging

import pytest
from pydantic import ValidationError

from conversation.settings import ConversationSettings
from gateway.settings import GatewaySettings
from shared.logging import JsonFormatter, mask_phone


def test_production_without_secrets_refuses_to_start_and_names_them() -> None:
    with pytest.raises(ValidationError) as error:
        GatewaySettings(app_env="production")
    message = str(error.value)
    for name in ("RABBITMQ_URL", "TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID"):
        assert name in message


def test_production_with_secrets_starts_and_never_uses_the_sandbox() -> None:
    settings = GatewaySettings(
        app_env="production",
        rabbitmq_url="amqp://u:p@rabbit/",
        public_base_url="https://desk.example.com",
        twilio_account_sid="AC" + "2" * 32,
        twilio_auth_token="real-token",
        paystack_secret_key="sk_live_real",
    )
    assert not settings.twilio_uses_sandbox
    assert settings.twilio_base_url("http://127.0.0.1:8010") == "https://api.twilio.com"
    assert not settings.paystack_uses_sandbox
    assert settings.paystack_base_url("http://127.0.0.1:8010") == "https://api.paystack.co"
    assert settings.paystack_key() == "sk_live_real"


def test_per_service_database_url_overrides_the_shared_one() -> None:
    settings = ConversationSettings(
        database_url="postgresql+psycopg://a@h/shared",
        conversation_database_url="postgresql+psycopg://a@h/own",
    )
    assert settings.resolved_database_url().endswith("/own")


def test_secrets_do_not_show_in_the_settings_repr() -> None:
    settings = GatewaySettings(twilio_auth_token="super-secret-token")
    assert "super-secret-token" not in repr(settings)


def test_log_lines_are_json_with_numbers_masked_and_secrets_redacted() -> None:
    record = logging.makeLogRecord(
        {
            "msg": "reply.sent to whatsapp:+2348012345678",
            "levelname": "INFO",
            "phone": "+2348012345678",
            "auth_token": "abc123",
        }
    )
    line = json.loads(JsonFormatter("test").format(record))
    assert "2348012345678" not in json.dumps(line)
    assert line["phone"].endswith("678")
    assert line["auth_token"] == "[redacted]"
    assert line["service"] == "test"


def test_masking_keeps_only_the_last_three_digits() -> None:
    assert mask_phone("call +2348012345678 now") == "call +**********678 now"
    assert mask_phone("order ORD-ABC123") == "order ORD-ABC123"
    assert mask_phone("from whatsapp:+2348012345678.") == "from +**********678."


def test_masking_leaves_the_digits_of_message_ids_alone() -> None:
    for message_id in (
        "27195992-635b-534b-b9c7-463bc0455cfd",
        "8c4ebd4f-21ac-5b85-9003-724770281709",
    ):
        assert mask_phone(f"message {message_id} sent") == f"message {message_id} sent"


def test_the_cloud_api_falls_back_to_the_sandbox_only_in_development() -> None:
    from pydantic import SecretStr

    from gateway.app import create_app
    from notifier.settings import NotifierSettings
    from shared import sandbox_defaults
    from shared.messaging.memory import InMemoryBroker

    development = NotifierSettings(sandbox_url="http://127.0.0.1:8010")
    assert development.whatsapp_base_url(development.sandbox_url) == (
        "http://127.0.0.1:8010/cloud-api/v21.0"
    )
    assert development.whatsapp_token() == sandbox_defaults.WHATSAPP_ACCESS_TOKEN
    real = NotifierSettings(whatsapp_access_token="EAAG-real", whatsapp_phone_number_id="123")
    assert real.whatsapp_base_url(real.sandbox_url) == "https://graph.facebook.com/v21.0"
    assert (real.whatsapp_token(), real.whatsapp_number_id()) == ("EAAG-real", "123")

    production = GatewaySettings(
        app_env="production",
        rabbitmq_url="amqp://x",
        public_base_url="https://desk.example.com",
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token="token",
        paystack_secret_key="sk_test_placeholder",
    )
    paths = set(create_app(production, InMemoryBroker()).openapi()["paths"])
    assert "/api/v1/whatsapp/webhook" in paths
    assert "/api/webhook/whatsapp" not in paths
    assert "/media/{sha256}" not in paths
    configured = production.model_copy(update={"whatsapp_app_secret": SecretStr("s")})
    assert "/api/webhook/whatsapp" in create_app(configured, InMemoryBroker()).openapi()["paths"]
