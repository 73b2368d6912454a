"""Notifier settings, from the environment."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings, TwilioSettings


class NotifierSettings(ServiceSettings, TwilioSettings):
    # Said once here rather than relying on how pydantic merges two parents' configs.
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: ClassVar[str] = "notifier"
    default_port: ClassVar[int] = 8003
    production_requires: ClassVar[tuple[str, ...]] = (
        "RABBITMQ_URL",
        "DATABASE_URL",
        "ADMIN_API_TOKEN",
        "PUBLIC_BASE_URL",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_WHATSAPP_FROM",
    )

    notifier_database_url: SecretStr | None = None
    # Calls to the provider within one handling, before the broker's own retry.
    send_attempts: int = Field(default=4, ge=1, le=10)
    # First backoff wait; each next one doubles (capped at 16x), plus up to as much jitter.
    send_retry_wait_seconds: float = Field(default=0.5, ge=0)
    send_timeout_seconds: float = Field(default=10.0, gt=0)
    # A message left "submitting" longer than this is taken to belong to a sender that
    # died; until then another replica holding the same message waits instead of sending.
    send_lease_seconds: float = Field(default=120.0, gt=0)
    send_lease_poll_seconds: float = Field(default=0.2, gt=0)

    def _is_set(self, env_name: str) -> bool:
        if env_name == "DATABASE_URL" and self.notifier_database_url is not None:
            return True
        if env_name == "PUBLIC_BASE_URL":
            # It has a development default, which would make status callbacks go nowhere.
            return "public_base_url" in self.model_fields_set
        return super()._is_set(env_name)
