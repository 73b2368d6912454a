"""Gateway settings, from the environment."""

from __future__ import annotations

from typing import ClassVar

from shared.settings import PaystackSettings, ServiceSettings, TwilioSettings


class GatewaySettings(ServiceSettings, TwilioSettings, PaystackSettings):
    service_name: ClassVar[str] = "gateway"
    default_port: ClassVar[int] = 8000
    production_requires: ClassVar[tuple[str, ...]] = (
        "RABBITMQ_URL",
        "PUBLIC_BASE_URL",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "PAYSTACK_SECRET_KEY",
    )
