"""Conversation settings, from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr

from shared.settings import ServiceSettings

DEFAULT_CATALOG = Path(__file__).parent / "data" / "catalog.json"
DEFAULT_FAQ = Path(__file__).parent / "data" / "faq.json"


class ConversationSettings(ServiceSettings):
    service_name: ClassVar[str] = "conversation"
    default_port: ClassVar[int] = 8001
    production_requires: ClassVar[tuple[str, ...]] = (
        "RABBITMQ_URL",
        "DATABASE_URL",
        "ADMIN_API_TOKEN",
    )

    conversation_database_url: SecretStr | None = None
    catalog_file: Path = DEFAULT_CATALOG
    faq_file: Path = DEFAULT_FAQ
    business_name: str = "Bright Path Tutors"
    currency: str = "NGN"
    # How often the tutor loop looks for offers not accepted in time.
    reassign_check_seconds: float = 15.0
    # The flood limit per number: this many messages at once, then this many a second.
    flood_burst: int = Field(default=10, ge=1)
    flood_refill_per_second: float = Field(default=1.0, gt=0)

    def _is_set(self, env_name: str) -> bool:
        if env_name == "DATABASE_URL" and self.conversation_database_url is not None:
            return True
        return super()._is_set(env_name)
