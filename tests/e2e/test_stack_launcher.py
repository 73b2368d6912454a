"""`make run` in both modes starts every service, answers a student, and stops cleanly."""

from __future__ import annotations

import signal

import pytest

from shared.testing import free_port
from stack.testing import SERVICES, Process, Stack, Student, base_env, wait_healthy


def launch(env_extra: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Stack:
    ports = {name: free_port() for name in (*SERVICES, "sandbox")}
    env = base_env(ports)
    env.pop("RABBITMQ_URL", None)
    env.pop("DATABASE_URL", None)
    env.update(env_extra)
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
    except BaseException:
        # A stack that never became healthy must not outlive the test.
        process.stop()
        raise
    return stack


async def test_one_process_per_service_mode_answers_and_stops_on_ctrl_c(
    rabbitmq_url: str, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    stack = launch({"RABBITMQ_URL": rabbitmq_url, "DATABASE_URL": database_url}, tmp_path_factory)
    process = stack.processes["stack"]
    try:
        reply = await Student(stack).say("hi")
        assert "1. Shop study packs" in reply
    finally:
        assert process.popen is not None
        process.popen.send_signal(signal.SIGINT)
        code = process.popen.wait(30)
    assert code == 0, process.log_tail()
    assert '"event": "stack.stopped"' in process.log_path.read_text()


def test_only_one_of_the_two_urls_is_refused_with_a_clear_message(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "stack"],
        env={"RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "Set both RABBITMQ_URL and DATABASE_URL" in result.stderr


async def test_embedded_mode_stops_cleanly_on_ctrl_c(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    stack = launch({}, tmp_path_factory)
    process = stack.processes["stack"]
    reply = await Student(stack).say("hi")
    assert "Welcome" in reply
    assert process.popen is not None
    process.popen.send_signal(signal.SIGINT)
    assert process.popen.wait(30) == 0, process.log_tail()
    assert '"event": "services.stopped"' in process.log_path.read_text()
