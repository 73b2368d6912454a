"""Payments settings, from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import PaystackSettings, ServiceSettings

DEFAULT_PLANS = Path(__file__).parent / "data" / "plans.json"


class PaymentsSettings(ServiceSettings, PaystackSettings):
    # Said once here rather than relying on how pydantic merges two parents' configs.
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: ClassVar[str] = "payments"
    default_port: ClassVar[int] = 8002
    production_requires: ClassVar[tuple[str, ...]] = (
        "RABBITMQ_URL",
        "DATABASE_URL",
        "ADMIN_API_TOKEN",
        "PAYSTACK_SECRET_KEY",
    )

    payments_database_url: SecretStr | None = None
    plans_file: Path = DEFAULT_PLANS
    # Paystack needs an email; a student who gave none pays as <digits>@<this domain>.
    paystack_placeholder_email_domain: str = "students.example.com"
    # Where Paystack sends the customer after paying (Paystack's own page when unset).
    paystack_callback_url: str | None = None
    paystack_timeout_seconds: float = Field(default=15.0, gt=0)
    # Calls to Paystack within one handling, retried on 429, 5xx and network errors.
    paystack_attempts: int = Field(default=4, ge=1, le=10)
    paystack_retry_wait_seconds: float = Field(default=0.5, ge=0)
    # A payment still pending this long after its link was made is verified by polling.
    reconcile_after_seconds: float = Field(default=300.0, ge=0)
    reconcile_interval_seconds: float = Field(default=30.0, gt=0)
    reconcile_batch_size: int = Field(default=50, ge=1)
    # A payment nobody completed in this time is reported abandoned.
    abandon_after_seconds: float = Field(default=24 * 3600.0, gt=0)
    # How often subscriptions are checked for their end and their renewal reminder.
    subscription_check_interval_seconds: float = Field(default=60.0, gt=0)
    renewal_reminder_days: int = Field(default=3, ge=0)

    def _is_set(self, env_name: str) -> bool:
        if env_name == "DATABASE_URL" and self.payments_database_url is not None:
            return True
        return super()._is_set(env_name)
