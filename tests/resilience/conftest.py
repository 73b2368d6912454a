"""Fixtures for the resilience tests: a private RabbitMQ node and a private PostgreSQL
cluster that a test may stop and start, torn down (processes killed, files removed)
however the test ends."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.resilience.servers import PrivatePostgres, PrivateRabbitMQ, ServerUnavailableError


def _cannot_start(what: str, why: str) -> None:
    """Fail under CI (which has both servers' programs); elsewhere skip, loudly."""
    message = f"a private {what} cannot be started: {why}"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI requires it", pytrace=False)
    print(f"\n!!! SKIPPING tests that need {message} !!!\n")
    pytest.skip(message)


@pytest.fixture
def private_rabbitmq(tmp_path: Path) -> Iterator[PrivateRabbitMQ]:
    """A RabbitMQ node of the test's own, started."""
    try:
        node = PrivateRabbitMQ(tmp_path / "rabbitmq")
    except ServerUnavailableError as exc:
        _cannot_start("RabbitMQ node", str(exc))
        raise
    try:
        node.start()
        yield node
    finally:
        node.close()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of the test's own, started, with an empty database."""
    try:
        cluster = PrivatePostgres()
    except (ServerUnavailableError, KeyError) as exc:  # KeyError: no postgres user
        _cannot_start("PostgreSQL cluster", str(exc))
        raise
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()
