"""The payments HTTP side: health and metrics now, the admin API as it grows."""

from __future__ import annotations

from fastapi import FastAPI

from payments.settings import PaymentsSettings
from shared.health import Health
from shared.http import create_service_app


def create_app(settings: PaymentsSettings, health: Health) -> FastAPI:
    return create_service_app(settings, health)
