"""A private RabbitMQ node and a private PostgreSQL cluster for fault tests: each on free
ports with its data in a directory of its own, stopped and started again at will (a real
stop: connections drop, the port closes, the data stays), and always torn down.

The shared servers that other test runs use are never touched: the node has its own name,
ports, Erlang cookie, configuration and data; the cluster its own port, socket directory
and data directory.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from shared.testing import free_port

BOOT_TIMEOUT = 90.0


class ServerUnavailableError(RuntimeError):
    """The server's programs are not installed here."""


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _wait(condition: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {timeout} s")
        time.sleep(0.1)


# --- RabbitMQ ------------------------------------------------------------------------


def _rabbitmq_program(name: str) -> str:
    # Debian's /usr/sbin/rabbitmq-server and rabbitmqctl switch to the rabbitmq user and
    # its home (so its cookie and its /etc/rabbitmq settings); the scripts they wrap do not.
    wrapped = Path("/usr/lib/rabbitmq/bin") / name
    if wrapped.exists():
        return str(wrapped)
    found = shutil.which(name)
    if found is None:
        raise ServerUnavailableError(f"{name} is not installed")
    return found


class PrivateRabbitMQ:
    """One RabbitMQ node of our own, in ``root``; ``start()`` it before use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.dist_port = free_port()
        self.node = f"tutordesk-{secrets.token_hex(4)}@localhost"
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/"
        self.boot_seconds: list[float] = []
        self.stop_seconds: list[float] = []
        self._process: subprocess.Popen[bytes] | None = None
        self._server = _rabbitmq_program("rabbitmq-server")
        self._ctl = _rabbitmq_program("rabbitmqctl")
        root.mkdir(parents=True, exist_ok=True)
        # The cookie in the node's HOME, which the CLI (given the same HOME) reads too.
        cookie = root / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(20).upper())
        cookie.chmod(0o400)
        (root / "enabled_plugins").write_text("[].\n")
        (root / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        (root / "rabbitmq-env.conf").write_text("")
        self.env = {
            **os.environ,
            "HOME": str(root),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(root / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(root / "node.pid"),
            "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(root / "advanced.config"),
            # Not /etc/rabbitmq/rabbitmq-env.conf, which names the shared node.
            "RABBITMQ_CONF_ENV_FILE": str(root / "rabbitmq-env.conf"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self._ctl, "-n", self.node, *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self) -> float:
        """Start the node on its data and wait until it serves AMQP; the seconds it took."""
        assert not self.running, "already running"
        started = time.monotonic()
        log = (self.root / "server.log").open("ab")
        # A session of its own: teardown kills the script, the VM and its helpers together.
        self._process = subprocess.Popen(
            [self._server],
            env=self.env,
            cwd=self.root,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()

        def listening() -> bool:
            if not self.running:
                raise RuntimeError(f"rabbitmq-server exited:\n{self.log_tail()}")
            return _port_open(self.port)

        _wait(listening, f"RabbitMQ node {self.node} listening", BOOT_TIMEOUT)
        waited = self.ctl("await_startup", "--timeout", str(int(BOOT_TIMEOUT)))
        if waited.returncode != 0:
            raise RuntimeError(f"await_startup: {waited.stdout}{waited.stderr}")
        self.boot_seconds.append(time.monotonic() - started)
        return self.boot_seconds[-1]

    def stop(self) -> float:
        """Stop the node as an operator does (connections drop, the port closes); its
        durable queues and persistent messages stay on disk for the next start."""
        assert self._process is not None
        started = time.monotonic()
        stopped = self.ctl("stop")
        if stopped.returncode != 0:
            raise RuntimeError(f"rabbitmqctl stop: {stopped.stdout}{stopped.stderr}")
        self._process.wait(60)
        _wait(lambda: not _port_open(self.port), "the AMQP port closed", 30)
        self.stop_seconds.append(time.monotonic() - started)
        return self.stop_seconds[-1]

    def close(self) -> None:
        """Kill whatever runs and remove every file."""
        if self._process is not None:
            _kill_session(self._process)
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        path = self.root / "server.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _kill_session(process: subprocess.Popen[bytes]) -> None:
    # Every process of the session, the server's helpers included, even those whose
    # parent has exited already.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.poll() is None:
        process.wait(10)


# --- PostgreSQL ----------------------------------------------------------------------


def _postgres_bin() -> Path:
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    found = shutil.which("pg_ctl")
    if found is None:
        raise ServerUnavailableError("PostgreSQL's pg_ctl and initdb are not installed")
    return Path(found).parent


class PrivatePostgres:
    """One PostgreSQL cluster of our own, with a ``tutordesk`` database; ``start()`` it
    before use. initdb refuses root, so as root the cluster runs as the postgres user,
    in a directory that user owns."""

    database = "tutordesk"

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self._owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        # Not under pytest's tmp_path: that is private to root, and the server must
        # reach its own directory.
        self.root = Path(tempfile.mkdtemp(prefix="tutordesk-pg-"))
        if self._owner is not None:
            os.chown(self.root, self._owner.pw_uid, self._owner.pw_gid)
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.database}"
        self.boot_seconds: list[float] = []
        self.stop_seconds: list[float] = []
        self._initialised = False

    def _run(self, *command: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", self._owner.pw_name, "--"] if self._owner else []
        return subprocess.run(
            [*prefix, *command], cwd=self.root, capture_output=True, text=True, timeout=timeout
        )

    def _checked(self, *command: str) -> None:
        done = self._run(*command)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(command[0]).name}: {done.stdout}{done.stderr}")

    def start(self) -> float:
        """Start the cluster (made on the first start) and wait until it accepts
        connections; the seconds it took."""
        started = time.monotonic()
        if not self._initialised:
            self._checked(
                str(self.bin / "initdb"),
                *("-D", str(self.data), "-U", "postgres", "-A", "trust"),
                *("-E", "UTF8", "--no-sync"),
            )
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            # Durability against a power cut is not what these tests are about.
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._checked(
            str(self.bin / "pg_ctl"),
            *("-D", str(self.data), "-l", str(self.root / "server.log")),
            *("-o", options, "-w", "-t", str(int(BOOT_TIMEOUT)), "start"),
        )
        if not self._initialised:
            self._checked(
                str(self.bin / "psql"),
                *("-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q"),
                *("-c", f"CREATE DATABASE {self.database}"),
            )
            self._initialised = True
        self.boot_seconds.append(time.monotonic() - started)
        return self.boot_seconds[-1]

    def stop(self) -> float:
        """A fast shutdown: sessions are cut, open transactions rolled back, the port
        closes; what was committed stays for the next start."""
        started = time.monotonic()
        self._checked(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        _wait(lambda: not _port_open(self.port), "the PostgreSQL port closed", 30)
        self.stop_seconds.append(time.monotonic() - started)
        return self.stop_seconds[-1]

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists() and _port_open(self.port)

    def close(self) -> None:
        """Stop whatever runs (immediately) and remove every file."""
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        if pid_file.exists():
            # pg_ctl could not stop it: the postmaster's own pid is the file's first line.
            pid = int(pid_file.read_text().split()[0])
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        path = self.root / "server.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


# --- what a node holds -----------------------------------------------------------------


def _depths(listing: str) -> dict[str, int]:
    depths = {}
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            depths[parts[0]] = int(parts[1])
    return depths


def queue_depths(node: PrivateRabbitMQ | None = None, vhost: str = "/") -> dict[str, int]:
    """Messages in each queue of ``vhost``, on the private ``node`` or the shared one."""
    args = ["-q", "list_queues", "-p", vhost, "name", "messages"]
    if node is not None:
        listed = node.ctl(*args)
    else:
        listed = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, timeout=60)
    if listed.returncode != 0:
        raise RuntimeError(f"list_queues: {listed.stdout}{listed.stderr}")
    return _depths(listed.stdout)
