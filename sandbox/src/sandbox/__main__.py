"""Starts the provider sandbox and its chat page: ``python -m sandbox``."""

from __future__ import annotations

import uvicorn

from sandbox.app import create_app
from sandbox.settings import SandboxSettings
from shared.logging import configure_logging


def main() -> None:
    settings = SandboxSettings()
    if settings.app_env == "production":
        # It accepts the public development credentials: never part of a production stack.
        raise SystemExit("the provider sandbox does not start with APP_ENV=production")
    configure_logging("sandbox", settings.log_level)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
