"""Notifier settings, from the environment."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.events import Channel, NotificationKind
from shared.settings import MediaSettings, ServiceSettings, TwilioSettings, WhatsAppSettings


class TemplateConfig(BaseModel):
    """An approved template for one kind of notification, per channel: the Cloud API's
    template name and language, Twilio's Content SID. Its body takes the request's
    ``template_params`` as ``{{1}}``, ``{{2}}`` ..."""

    name: str | None = None
    language: str = "en"
    twilio_content_sid: str | None = None

    def for_channel(self, channel: Channel) -> bool:
        return bool(self.name if channel is Channel.CLOUD_API else self.twilio_content_sid)


class NotifierSettings(ServiceSettings, TwilioSettings, WhatsAppSettings, MediaSettings):
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
    # Approved templates by kind of notification, as JSON, e.g.
    # {"solution_ready": {"name": "solution_ready", "language": "en",
    #                     "twilio_content_sid": "HX..."}}
    notification_templates: dict[NotificationKind, TemplateConfig] = Field(default_factory=dict)
    customer_service_window_hours: float = Field(default=24.0, gt=0)
    # Pacing, per replica: messages a second from each sender, and the least time
    # between two messages to one recipient.
    sends_per_second: float = Field(default=20.0, gt=0)
    recipient_gap_seconds: float = Field(default=0.1, ge=0)
    # Bulk sends held at once; replies have their own queue and go first.
    bulk_prefetch: int = Field(default=8, ge=1, le=1000)
    mark_inbound_read: bool = True
    # Hosts media may be fetched from, beyond each provider's own and its API base URL's.
    media_extra_hosts: tuple[str, ...] = ()

    def template_for(self, kind: NotificationKind, channel: Channel) -> TemplateConfig | None:
        template = self.notification_templates.get(kind)
        return template if template is not None and template.for_channel(channel) else None

    def media_link_key(self) -> str | None:
        """None in production without MEDIA_LINK_SECRET: no link is signed then."""
        if self.is_production and not (
            self.media_link_secret and self.media_link_secret.get_secret_value()
        ):
            return None
        return self.media_signing_key()

    @property
    def cloud_api_enabled(self) -> bool:
        """In production the Cloud API is used only with its own credentials."""
        return not self.is_production or not self.whatsapp_uses_sandbox

    def _is_set(self, env_name: str) -> bool:
        if env_name == "DATABASE_URL" and self.notifier_database_url is not None:
            return True
        if env_name == "PUBLIC_BASE_URL":
            # It has a development default, which would make status callbacks go nowhere.
            return "public_base_url" in self.model_fields_set
        return super()._is_set(env_name)
