"""Settings every service reads from the environment, validated at start-up."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import sandbox_defaults

DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/tutordesk"
TWILIO_API_BASE_URL = "https://api.twilio.com"
PAYSTACK_API_BASE_URL = "https://api.paystack.co"
WHATSAPP_API_BASE_URL = f"https://graph.facebook.com/{sandbox_defaults.WHATSAPP_API_VERSION}"


class MissingSecretsError(ValueError):
    """A production service was started without secrets it cannot work without."""


class ServiceSettings(BaseSettings):
    """What every service needs: where it listens, its broker, its database."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: ClassVar[str] = "service"
    default_port: ClassVar[int] = 8000
    # Environment variable names that must be set when APP_ENV=production.
    production_requires: ClassVar[tuple[str, ...]] = ()

    app_env: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 0
    log_level: str = "INFO"
    rabbitmq_url: SecretStr | None = None
    database_url: SecretStr | None = None
    public_base_url: str = f"http://127.0.0.1:{sandbox_defaults.GATEWAY_PORT}"
    sandbox_url: str = f"http://127.0.0.1:{sandbox_defaults.SANDBOX_PORT}"
    admin_api_token: SecretStr | None = None
    # Error reports go to Sentry only when this is set (shared/error_tracking.py).
    sentry_dsn: SecretStr | None = None
    exchange_name: str = "tutordesk"
    broker_prefetch: int = Field(default=32, ge=1, le=1000)
    consumer_max_attempts: int = Field(default=5, ge=1)
    consumer_retry_delay_ms: int = Field(default=1000, ge=0)
    # Partitions of each queue whose messages must stay in order per number (conversation,
    # notifier): at most this many replicas of a service share that queue's work. Every
    # replica must have the same value; see the README's architecture section.
    broker_partitions: int = Field(default=8, ge=1, le=64)
    # How often replicas announce themselves and rebalance partitions.
    broker_rebalance_seconds: float = Field(default=2.0, gt=0)
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=5, ge=0)
    max_body_bytes: int = 1024 * 1024
    request_timeout_seconds: float = Field(default=30.0, gt=0)
    # Browser origins allowed to call this service, comma-separated; none by default.
    cors_allow_origins: str = ""

    @model_validator(mode="after")
    def _defaults_and_production_secrets(self) -> ServiceSettings:
        if not self.port:
            self.port = self.default_port
        if self.app_env == "production":
            missing = [name for name in self.production_requires if not self._is_set(name)]
            if missing:
                raise MissingSecretsError(
                    f"{self.service_name} cannot start in production without: "
                    + ", ".join(sorted(missing))
                )
        return self

    def _is_set(self, env_name: str) -> bool:
        value = getattr(self, env_name.lower(), None)
        if isinstance(value, SecretStr):
            return bool(value.get_secret_value())
        return bool(value)

    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.cors_allow_origins.split(",") if o.strip()]

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    def broker_url(self) -> str:
        return self.rabbitmq_url.get_secret_value() if self.rabbitmq_url else DEFAULT_RABBITMQ_URL

    def resolved_database_url(self) -> str:
        """This service's database: its own override first, then DATABASE_URL."""
        override = getattr(self, f"{self.service_name}_database_url", None)
        for candidate in (override, self.database_url):
            if isinstance(candidate, SecretStr) and candidate.get_secret_value():
                return candidate.get_secret_value()
        return DEFAULT_DATABASE_URL


class TwilioSettings(BaseSettings):
    """Twilio credentials; the sandbox stands in for Twilio when they are not set."""

    model_config = SettingsConfigDict(extra="ignore")

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_whatsapp_from: str | None = None
    twilio_api_base_url: str | None = None

    @property
    def twilio_uses_sandbox(self) -> bool:
        return not (self.twilio_account_sid and self.twilio_auth_token)

    def twilio_credentials(self) -> tuple[str, str]:
        if self.twilio_account_sid and self.twilio_auth_token:
            return self.twilio_account_sid, self.twilio_auth_token.get_secret_value()
        return sandbox_defaults.TWILIO_ACCOUNT_SID, sandbox_defaults.TWILIO_AUTH_TOKEN

    def twilio_sender(self) -> str:
        return self.twilio_whatsapp_from or sandbox_defaults.TWILIO_WHATSAPP_FROM

    def twilio_base_url(self, sandbox_url: str) -> str:
        if self.twilio_api_base_url:
            return self.twilio_api_base_url.rstrip("/")
        if self.twilio_uses_sandbox:
            return f"{sandbox_url.rstrip('/')}/twilio"
        return TWILIO_API_BASE_URL


class PaystackSettings(BaseSettings):
    """The Paystack secret key (it also signs Paystack's webhooks); the sandbox stands in
    for Paystack when it is not set."""

    model_config = SettingsConfigDict(extra="ignore")

    paystack_secret_key: SecretStr | None = None
    paystack_api_base_url: str | None = None

    @property
    def paystack_uses_sandbox(self) -> bool:
        return not (self.paystack_secret_key and self.paystack_secret_key.get_secret_value())

    def paystack_key(self) -> str:
        if self.paystack_secret_key and self.paystack_secret_key.get_secret_value():
            return self.paystack_secret_key.get_secret_value()
        return sandbox_defaults.PAYSTACK_SECRET_KEY

    def paystack_base_url(self, sandbox_url: str) -> str:
        if self.paystack_api_base_url:
            return self.paystack_api_base_url.rstrip("/")
        if self.paystack_uses_sandbox:
            return f"{sandbox_url.rstrip('/')}/paystack"
        return PAYSTACK_API_BASE_URL


class WhatsAppSettings(BaseSettings):
    """Meta's Cloud API; the sandbox stands in for each value that is not set."""

    model_config = SettingsConfigDict(extra="ignore")

    whatsapp_access_token: SecretStr | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_api_base_url: str | None = None

    @property
    def whatsapp_uses_sandbox(self) -> bool:
        return not (self.whatsapp_access_token and self.whatsapp_access_token.get_secret_value())

    def whatsapp_token(self) -> str:
        if self.whatsapp_access_token and self.whatsapp_access_token.get_secret_value():
            return self.whatsapp_access_token.get_secret_value()
        return sandbox_defaults.WHATSAPP_ACCESS_TOKEN

    def whatsapp_secret(self) -> str:
        if self.whatsapp_app_secret and self.whatsapp_app_secret.get_secret_value():
            return self.whatsapp_app_secret.get_secret_value()
        return sandbox_defaults.WHATSAPP_APP_SECRET

    def whatsapp_verify(self) -> str:
        if self.whatsapp_verify_token and self.whatsapp_verify_token.get_secret_value():
            return self.whatsapp_verify_token.get_secret_value()
        return sandbox_defaults.WHATSAPP_VERIFY_TOKEN

    def whatsapp_number_id(self) -> str:
        return self.whatsapp_phone_number_id or sandbox_defaults.WHATSAPP_PHONE_NUMBER_ID

    def whatsapp_base_url(self, sandbox_url: str) -> str:
        """Graph API root with its version; no trailing slash."""
        if self.whatsapp_api_base_url:
            return self.whatsapp_api_base_url.rstrip("/")
        if self.whatsapp_uses_sandbox:
            return f"{sandbox_url.rstrip('/')}/cloud-api/{sandbox_defaults.WHATSAPP_API_VERSION}"
        return WHATSAPP_API_BASE_URL


class MediaSettings(BaseSettings):
    """Where validated media lives and how links to it are signed."""

    model_config = SettingsConfigDict(extra="ignore")

    media_root: str = "var/media"
    media_link_secret: SecretStr | None = None
    media_link_ttl_seconds: int = Field(default=3600, ge=60)

    def media_signing_key(self) -> str:
        if self.media_link_secret and self.media_link_secret.get_secret_value():
            return self.media_link_secret.get_secret_value()
        return sandbox_defaults.MEDIA_LINK_SECRET
