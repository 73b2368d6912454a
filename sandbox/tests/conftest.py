"""Real servers for the sandbox's tests: the sandbox itself on a free port, and a
receiver on another standing in for the gateway, recording every form posted to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox.testing import RunningSandbox, serving_sandbox


@pytest.fixture(scope="session")
async def running_sandbox() -> AsyncIterator[RunningSandbox]:
    """One sandbox and one receiver for the whole run: starting servers is the slow part."""
    async with serving_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def sandbox(running_sandbox: RunningSandbox) -> AsyncIterator[RunningSandbox]:
    """The shared sandbox with nothing recorded, no faults, and a receiver answering 200."""
    await running_sandbox.http.delete("/sandbox/twilio/messages")
    await running_sandbox.http.delete("/sandbox/cloud-api/messages")
    running_sandbox.receiver.reset()
    yield running_sandbox
