"""Gateway settings, from the environment."""

from __future__ import annotations

from typing import ClassVar

from shared.settings import (
    MediaSettings,
    PaystackSettings,
    ServiceSettings,
    TwilioSettings,
    WhatsAppSettings,
)


class GatewaySettings(
    ServiceSettings, TwilioSettings, WhatsAppSettings, MediaSettings, PaystackSettings
):
    """Cloud API and media secrets are optional in production: a business may run on
    Twilio alone. Without them the Cloud API webhook and media links are not served,
    rather than falling back to the sandbox's values."""

    service_name: ClassVar[str] = "gateway"
    default_port: ClassVar[int] = 8000
    production_requires: ClassVar[tuple[str, ...]] = (
        "RABBITMQ_URL",
        "PUBLIC_BASE_URL",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "PAYSTACK_SECRET_KEY",
    )

    @property
    def serves_cloud_api(self) -> bool:
        return not self.is_production or not self.whatsapp_uses_sandbox_secret

    @property
    def whatsapp_uses_sandbox_secret(self) -> bool:
        return not (self.whatsapp_app_secret and self.whatsapp_app_secret.get_secret_value())

    @property
    def serves_media_links(self) -> bool:
        return not self.is_production or bool(
            self.media_link_secret and self.media_link_secret.get_secret_value()
        )
