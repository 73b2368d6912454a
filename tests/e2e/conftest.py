"""Fixtures for end-to-end tests: the whole system as real processes on free ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.testing import free_port
from stack.testing import SERVICES, Process, Stack, wait_healthy
from stack.testing import base_env as _base_env


@pytest.fixture(scope="module")
def flood_limit() -> dict[str, str]:
    """A test's phone writes the moment the last reply arrives, far faster than a person
    reads, so the flood limit is lifted for scripted conversations;
    test_flood_end_to_end.py keeps the defaults."""
    return {"FLOOD_BURST": "10000"}


@pytest.fixture(scope="module")
def services_stack(
    rabbitmq_url: str,
    database_url: str,
    flood_limit: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """Each service and the sandbox in its own process, on RabbitMQ and PostgreSQL."""
    ports = {name: free_port() for name in (*SERVICES, "sandbox")}
    env = _base_env(ports) | flood_limit
    env.update(RABBITMQ_URL=rabbitmq_url, DATABASE_URL=database_url)
    log_dir = tmp_path_factory.mktemp("logs")
    stack = Stack({name: f"http://127.0.0.1:{port}" for name, port in ports.items()})
    for name in ("sandbox", *SERVICES):
        process = Process(name, name, {**env, "PORT": str(ports[name])}, log_dir)
        stack.processes[name] = process
        process.start()
    try:
        for name, process in stack.processes.items():
            wait_healthy(stack.urls[name], process)
        yield stack
    finally:
        for process in stack.processes.values():
            process.stop()


@pytest.fixture(scope="module")
def embedded_stack(
    flood_limit: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """`python -m stack` with neither RABBITMQ_URL nor DATABASE_URL: one process."""
    ports = {name: free_port() for name in (*SERVICES, "sandbox")}
    env = _base_env(ports) | flood_limit
    env.pop("RABBITMQ_URL", None)
    env.pop("DATABASE_URL", None)
    env["VAR_DIR"] = str(tmp_path_factory.mktemp("var"))
    for name, port in ports.items():
        env[f"{name.upper()}_PORT"] = str(port)
    process = Process("stack", "stack", env, tmp_path_factory.mktemp("logs"))
    stack = Stack({name: f"http://127.0.0.1:{port}" for name, port in ports.items()})
    stack.processes["stack"] = process
    process.start()
    try:
        for name in (*SERVICES, "sandbox"):
            wait_healthy(stack.urls[name], process)
        yield stack
    finally:
        process.stop()
