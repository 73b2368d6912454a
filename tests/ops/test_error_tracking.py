"""Error tracking: with SENTRY_DSN set, a real sentry-sdk in its own process reports errors
over HTTP to a Sentry-shaped fake on a real socket, with phone numbers and secrets scrubbed;
without it, nothing is sent."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import sys
from typing import Any

from fastapi import FastAPI, Request

from shared.error_tracking import REDACTED, scrub_event
from shared.testing import running_app

PHONE = "+2348012345678"
MASKED = "+**********678"
PASSWORD = "s3cr3t-pass"
TOKEN = "twilio-tok-123"
BEARER = "abc.def.ghi"

# What a service does: start error tracking as shared.standalone does, then fail twice
# (an error logged with its exception, and one nothing catches).
FAILING_SERVICE = f"""
import logging, os
from shared.error_tracking import init_error_tracking
from shared.logging import configure_logging
configure_logging("conversation")
on = init_error_tracking("conversation", os.environ.get("SENTRY_DSN"), environment="production")
print("on" if on else "off", flush=True)
url = "amqp://tutordesk:{PASSWORD}@rabbitmq:5672/"
try:
    raise ConnectionError("cannot reach " + url + " for whatsapp:{PHONE}")
except ConnectionError:
    logging.getLogger("conversation.handlers").exception(
        "reply failed for {PHONE}",
        extra={{"twilio_auth_token": "{TOKEN}", "to": "{PHONE}", "header": "Bearer {BEARER}"}},
    )
raise RuntimeError("no order for {PHONE}")
"""


class FakeSentry:
    """Sentry's envelope endpoint: keeps each envelope's items as parsed JSON."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.app = FastAPI()

        @self.app.post("/api/{project}/envelope/")
        async def envelope(project: str, request: Request) -> dict[str, str]:
            body = await request.body()
            if request.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            self.raw.append(body)
            return {"id": "0" * 32}

    def events(self) -> list[dict[str, Any]]:
        found = []
        for raw in self.raw:
            lines = raw.split(b"\n")
            for header, payload in zip(lines[1::2], lines[2::2], strict=False):
                if json.loads(header).get("type") == "event":
                    found.append(json.loads(payload))
        return found


async def run_failing_service(dsn: str | None) -> tuple[str, int]:
    env = {k: v for k, v in os.environ.items() if k != "SENTRY_DSN"}
    if dsn:
        env["SENTRY_DSN"] = dsn
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        FAILING_SERVICE,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return stdout.decode().strip(), process.returncode


async def test_errors_reach_sentry_with_phone_numbers_and_secrets_scrubbed() -> None:
    sentry = FakeSentry()
    async with running_app(sentry.app) as url:
        dsn = url.replace("http://", "http://publickey@") + "/42"
        state, code = await run_failing_service(dsn)
    assert (state, code) == ("on", 1)
    everything = b"".join(sentry.raw).decode()
    for secret in (PHONE.removeprefix("+"), PASSWORD, TOKEN, BEARER):
        assert secret not in everything, secret
    events = sentry.events()
    assert len(events) == 2, everything[:2000]
    logged, uncaught = events
    for event in events:
        assert event["environment"] == "production"
        assert event["tags"]["service"] == "conversation"
    assert logged["logentry"]["message"] == f"reply failed for {MASKED}"
    assert logged["extra"]["twilio_auth_token"] == REDACTED
    assert logged["extra"]["to"] == MASKED
    assert logged["extra"]["header"] == f"Bearer {REDACTED}"
    (exception,) = logged["exception"]["values"]
    assert exception["type"] == "ConnectionError"
    assert exception["value"] == (
        f"cannot reach amqp://tutordesk:{REDACTED}@rabbitmq:5672/ for {MASKED}"
    )
    assert uncaught["exception"]["values"][-1]["value"] == f"no order for {MASKED}"


async def test_without_a_dsn_nothing_is_sent() -> None:
    sentry = FakeSentry()
    async with running_app(sentry.app):
        state, code = await run_failing_service(None)
    assert (state, code) == ("off", 1)
    assert sentry.raw == []


def test_a_request_event_loses_its_body_cookies_and_auth_headers() -> None:
    event: dict[str, Any] = {
        "message": f"webhook from whatsapp:{PHONE}",
        "request": {
            "url": "https://desk.example.com/api/v1/whatsapp/webhook",
            "method": "POST",
            "data": {"Body": "my address is 12 Allen Avenue", "From": f"whatsapp:{PHONE}"},
            "cookies": {"session": "xyz"},
            "query_string": f"from={PHONE}",
            "headers": {
                "X-Twilio-Signature": "sig==",
                "Authorization": f"Bearer {BEARER}",
                "User-Agent": "TwilioProxy/1.1",
            },
        },
        "breadcrumbs": {"values": [{"message": f"sent to {PHONE}", "category": "notifier"}]},
        "contexts": {"runtime": {"name": "CPython", "version": "3.11.9"}},
    }
    scrubbed = scrub_event(event)
    request = scrubbed["request"]
    assert set(request) == {"url", "method", "headers"}
    assert request["headers"] == {
        "X-Twilio-Signature": REDACTED,
        "Authorization": REDACTED,
        "User-Agent": "TwilioProxy/1.1",
    }
    assert scrubbed["message"] == f"webhook from {MASKED}"
    assert scrubbed["breadcrumbs"]["values"][0]["message"] == f"sent to {MASKED}"
    assert scrubbed["contexts"] == event["contexts"]
