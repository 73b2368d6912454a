"""Fixtures that reach the real servers: a RabbitMQ vhost and a PostgreSQL database of
the run's own, made at the start and dropped at the end, so runs never see each other."""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _unavailable(what: str, where: str) -> None:
    message = f"{what} at {where} cannot be reached"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI requires it", pytrace=False)
    print(f"\n!!! SKIPPING tests that need {what}: {message} !!!\n")
    pytest.skip(f"{message} (set CI=true to make this a failure)")


@pytest.fixture(scope="session")
def rabbitmq_url() -> Iterator[str]:
    base = os.environ.get("RABBITMQ_URL", DEFAULT_RABBITMQ_URL)
    parts = urlsplit(base)
    if not _reachable(parts.hostname or "127.0.0.1", parts.port or 5672):
        _unavailable("RabbitMQ", f"{parts.hostname}:{parts.port or 5672}")
    vhost = f"tutordesk_test_{uuid.uuid4().hex[:10]}"
    user = parts.username or "guest"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"], check=True
    )
    yield urlunsplit(parts._replace(path=f"/{vhost}"))
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    base = make_url(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)).set(
        drivername="postgresql+psycopg"
    )
    if not _reachable(base.host or "127.0.0.1", base.port or 5432):
        _unavailable("PostgreSQL", f"{base.host}:{base.port or 5432}")
    name = f"tutordesk_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
