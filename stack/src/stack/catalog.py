"""The services the stack starts, and how to build each one."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ServiceDef:
    name: str
    settings_path: str  # "module:Class"
    build_path: str  # "module:function"
    has_database: bool = True

    def settings(self, **overrides: Any) -> Any:
        return _load(self.settings_path)(**overrides)

    def build(self) -> Callable[..., Any]:
        return _load(self.build_path)  # type: ignore[no-any-return]

    @property
    def migrations(self) -> Path:
        package = importlib.import_module(self.name)
        return Path(package.__file__ or ".").parent / "migrations"

    @property
    def schema(self) -> str:
        return str(importlib.import_module(f"{self.name}.models").SCHEMA)


def _load(path: str) -> Any:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


SERVICES = (
    ServiceDef(
        "gateway", "gateway.settings:GatewaySettings", "gateway.service:build_service", False
    ),
    ServiceDef(
        "conversation",
        "conversation.settings:ConversationSettings",
        "conversation.service:build_service",
    ),
    ServiceDef("payments", "payments.settings:PaymentsSettings", "payments.service:build_service"),
    ServiceDef("notifier", "notifier.settings:NotifierSettings", "notifier.service:build_service"),
)
