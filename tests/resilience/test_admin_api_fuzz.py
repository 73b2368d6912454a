"""Schemathesis drives the admin APIs from their own OpenAPI, with and without the token:
whatever it sends, no answer is a 500 and the service keeps serving."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

import conversation
import notifier
from conversation.service import ConversationService
from conversation.settings import ConversationSettings
from notifier.service import NotifierService
from notifier.settings import NotifierSettings
from shared.messaging.memory import InMemoryBroker
from shared.migrations import upgrade
from shared.sandbox_defaults import ADMIN_API_TOKEN

AUTH = {"Authorization": f"Bearer {ADMIN_API_TOKEN}"}


def serve_in_thread(build: Any) -> Iterator[str]:
    """Build and serve the app on its own event loop in a thread (as a process would)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    holder: dict[str, Any] = {}

    def run() -> None:
        async def main() -> None:
            service = build()
            # Started as it runs (in-memory broker), so /health reports every check up.
            await service.start()
            holder["server"] = server = uvicorn.Server(
                uvicorn.Config(service.app, log_config=None, lifespan="off")
            )
            await server.serve(sockets=[sock])
            await service.stop()

        asyncio.run(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url + "/openapi.json", timeout=2).raise_for_status()
            break
        except httpx.HTTPError:
            assert time.monotonic() < deadline, "the API did not come up"
            time.sleep(0.1)
    yield url
    holder["server"].should_exit = True
    thread.join(15)
    sock.close()


@pytest.fixture(scope="module")
def conversation_api(database_url: str) -> Iterator[Any]:
    upgrade(database_url, Path(conversation.__file__).parent / "migrations")
    settings = ConversationSettings(database_url=database_url)
    for url in serve_in_thread(lambda: ConversationService(settings, InMemoryBroker())):
        yield schemathesis.openapi.from_url(url + "/openapi.json")


@pytest.fixture(scope="module")
def notifier_api(database_url: str) -> Iterator[Any]:
    upgrade(database_url, Path(notifier.__file__).parent / "migrations")
    settings = NotifierSettings(database_url=database_url)
    for url in serve_in_thread(lambda: NotifierService(settings, InMemoryBroker())):
        yield schemathesis.openapi.from_url(url + "/openapi.json")


FUZZ = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def fuzz(schema: Any) -> int:
    """Every operation of the schema, with and without the token; returns how many."""
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:

        @FUZZ
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            case.call_and_validate(headers=AUTH, checks=[not_a_server_error])
            case.call_and_validate(checks=[not_a_server_error])  # no token

        run()
    return len(operations)


def test_the_conversation_admin_api_never_answers_500(conversation_api: Any) -> None:
    assert fuzz(conversation_api) >= 4  # orders and products, list and one


def test_the_notifier_admin_api_never_answers_500(notifier_api: Any) -> None:
    assert fuzz(notifier_api) >= 3
