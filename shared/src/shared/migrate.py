"""`python -m shared.migrate SERVICE`: apply one service's migrations, then exit.

The deploy's migration step (a compose service, a Kubernetes Job) runs this in the
service's own image before the new version starts; each service also migrates on start,
so running it twice is harmless. The database comes from the service's own settings
(``<SERVICE>_DATABASE_URL``, else ``DATABASE_URL``).
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path

from shared.logging import configure_logging
from shared.migrations import upgrade
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


class UnknownServiceError(LookupError):
    """The name is not an installed service with migrations."""


def settings_for(service: str) -> ServiceSettings:
    try:
        module = importlib.import_module(f"{service}.settings")
    except ModuleNotFoundError as exc:
        raise UnknownServiceError(f"no installed service called {service!r}") from exc
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, ServiceSettings)
            and value.service_name == service
        ):
            return value()
    raise UnknownServiceError(f"{service}.settings defines no settings for {service!r}")


def migrate(service: str) -> str:
    """Upgrade ``service``'s schema to its latest migration; returns the schema name."""
    settings = settings_for(service)
    package = importlib.import_module(service)
    migrations = Path(package.__file__ or ".").parent / "migrations"
    if not migrations.is_dir():
        raise UnknownServiceError(f"{service} has no migrations")
    schema = str(importlib.import_module(f"{service}.models").SCHEMA)
    upgrade(settings.resolved_database_url(), migrations)
    return schema


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m shared.migrate SERVICE", file=sys.stderr)
        return 2
    service = argv[0]
    configure_logging(service)
    try:
        schema = migrate(service)
    except UnknownServiceError as exc:
        print(f"shared.migrate: {exc}", file=sys.stderr)
        return 2
    log.info("migrations.applied", extra={"schema": schema})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
