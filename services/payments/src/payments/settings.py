"""Payments settings, from the environment."""

from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr

from shared.settings import ServiceSettings


class PaymentsSettings(ServiceSettings):
    service_name: ClassVar[str] = "payments"
    default_port: ClassVar[int] = 8002
    production_requires: ClassVar[tuple[str, ...]] = (
        "RABBITMQ_URL",
        "DATABASE_URL",
        "ADMIN_API_TOKEN",
    )

    payments_database_url: SecretStr | None = None

    def _is_set(self, env_name: str) -> bool:
        if env_name == "DATABASE_URL" and self.payments_database_url is not None:
            return True
        return super()._is_set(env_name)
