"""The sandbox's settings, read from the environment and validated at start-up."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import sandbox_defaults


class SandboxSettings(BaseSettings):
    """Where the sandbox listens, the Twilio account it accepts, and where it calls back."""

    model_config = SettingsConfigDict(extra="ignore")

    app_env: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = sandbox_defaults.SANDBOX_PORT
    log_level: str = "INFO"
    twilio_account_sid: str = sandbox_defaults.TWILIO_ACCOUNT_SID
    twilio_auth_token: SecretStr = SecretStr(sandbox_defaults.TWILIO_AUTH_TOKEN)
    twilio_whatsapp_from: str = sandbox_defaults.TWILIO_WHATSAPP_FROM
    # The Paystack secret key the fake API accepts and signs its webhooks with.
    paystack_secret_key: SecretStr = SecretStr(sandbox_defaults.PAYSTACK_SECRET_KEY)
    # The sandbox as a browser reaches it, for checkout links; unset: the address the
    # caller of initialize used (right unless that is a container-internal name).
    sandbox_public_url: str | None = None
    # Where simulated inbound messages and default status callbacks go: the gateway as
    # the sandbox reaches it, which is also the URL the signatures are computed over.
    gateway_url: str = f"http://127.0.0.1:{sandbox_defaults.GATEWAY_PORT}"
    # Seconds before each status callback of one message (sent, delivered, read).
    sandbox_callback_delay: float = Field(default=0.05, ge=0)
    # A callback that fails is tried this many times in all, waiting delay x attempt between.
    sandbox_callback_attempts: int = Field(default=4, ge=1)
    sandbox_callback_retry_delay: float = Field(default=0.2, ge=0)
    max_body_bytes: int = 1024 * 1024
    # The Cloud API business account the sandbox plays.
    whatsapp_access_token: SecretStr = SecretStr(sandbox_defaults.WHATSAPP_ACCESS_TOKEN)
    whatsapp_app_secret: SecretStr = SecretStr(sandbox_defaults.WHATSAPP_APP_SECRET)
    whatsapp_phone_number_id: str = sandbox_defaults.WHATSAPP_PHONE_NUMBER_ID
    whatsapp_display_number: str = sandbox_defaults.WHATSAPP_DISPLAY_NUMBER
