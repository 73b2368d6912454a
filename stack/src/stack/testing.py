"""Test harness for the whole system as real processes, started with the commands an
operator uses, and a student who writes to it through signed Twilio webhooks or signed
Cloud API webhooks."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

from sandbox.cloud_api import media_id as cloud_media_id
from sandbox.media_hosting import twilio_media_url
from shared import sandbox_defaults

SERVICES = ("gateway", "conversation", "payments", "notifier")


class Process:
    """A service started as `python -m NAME`, with its output kept in a log file."""

    def __init__(self, name: str, module: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.module = module
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # The child writes to its own copy of the file; ours is closed at once.
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", self.module], env=self.env, stdout=log, stderr=log
            )

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as when a machine dies."""
        assert self.popen is not None
        self.popen.kill()
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def wait_healthy(url: str, process: Process, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen is not None and process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{process.name} not healthy in {timeout} s:\n{process.log_tail()}")


@dataclass
class Stack:
    urls: dict[str, str]
    processes: dict[str, Process] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        return self.urls["gateway"]

    @property
    def sandbox(self) -> str:
        return self.urls["sandbox"]

    def restart(self, name: str) -> None:
        process = self.processes[name]
        process.start()
        wait_healthy(self.urls[name], process)

    def logs(self) -> str:
        return "\n".join(f"--- {n}\n{p.log_tail()}" for n, p in self.processes.items())


def _base_env(ports: dict[str, int]) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "WHATSAPP_", "PORT"))
    }
    env.update(
        PUBLIC_BASE_URL=f"http://127.0.0.1:{ports['gateway']}",
        SANDBOX_URL=f"http://127.0.0.1:{ports['sandbox']}",
        GATEWAY_URL=f"http://127.0.0.1:{ports['gateway']}",
        CONSUMER_RETRY_DELAY_MS="200",
        SEND_RETRY_WAIT_SECONDS="0.05",
        # Each partition is a quorum queue (a Raft group of its own): few keep the broker
        # light when many test stacks run; the order tests still need more than one.
        BROKER_PARTITIONS="4",
        BROKER_REBALANCE_SECONDS="1",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    if "conversation" in ports:  # the sandbox's chat page registers tutors and agents there
        env["CONVERSATION_URL"] = f"http://127.0.0.1:{ports['conversation']}"
    return env


class Student:
    """A phone number writing to the desk through signed Twilio webhooks."""

    profile_name = "Test Student"

    def __init__(self, stack: Stack, phone: str | None = None) -> None:
        self.stack = stack
        self.phone = phone or f"+23480{uuid.uuid4().int % 10**9:09d}"

    def webhook(
        self, body: str, sid: str | None = None, media: tuple[str, str] | None = None
    ) -> tuple[dict[str, str], dict[str, str]]:
        form = {
            "MessageSid": sid or "SM" + uuid.uuid4().hex,
            "AccountSid": sandbox_defaults.TWILIO_ACCOUNT_SID,
            "From": f"whatsapp:{self.phone}",
            "To": sandbox_defaults.TWILIO_WHATSAPP_FROM,
            "Body": body,
            "NumMedia": "0",
            "ProfileName": self.profile_name,
        }
        if media is not None:
            form.update(NumMedia="1", MediaUrl0=media[0], MediaContentType0=media[1])
        url = self.stack.gateway + "/api/v1/whatsapp/webhook"
        signature = RequestValidator(sandbox_defaults.TWILIO_AUTH_TOKEN).compute_signature(
            url, form
        )
        return form, {"X-Twilio-Signature": signature}

    async def send(self, body: str, sid: str | None = None) -> httpx.Response:
        form, headers = self.webhook(body, sid)
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(
                self.stack.gateway + "/api/v1/whatsapp/webhook", data=form, headers=headers
            )

    async def send_photo(self, name: str, caption: str = "") -> httpx.Response:
        """Send one of the sandbox's sample files (sample.png, document.jpg ...) as a photo
        hosted where Twilio would host it."""
        url = twilio_media_url(
            self.stack.sandbox, sandbox_defaults.TWILIO_ACCOUNT_SID, "MM" + uuid.uuid4().hex, name
        )
        form, headers = self.webhook(caption, media=(url, "image/jpeg"))
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(
                self.stack.gateway + "/api/v1/whatsapp/webhook", data=form, headers=headers
            )

    async def received_media(self) -> list[list[str]]:
        """The media links of each message sent to this number, in order."""
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(
                self.stack.sandbox + self.messages_path, params={"to": self.phone}
            )
        response.raise_for_status()
        return [list(m.get("media_urls", [])) for m in response.json()["messages"]]

    async def send_tampered(self, body: str) -> httpx.Response:
        """A webhook signed for ``body`` whose text was changed on the way."""
        form, headers = self.webhook(body)
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(
                self.stack.gateway + "/api/v1/whatsapp/webhook",
                data={**form, "Body": "tampered"},
                headers=headers,
            )

    messages_path = "/sandbox/twilio/messages"

    async def received(self) -> list[str]:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(
                self.stack.sandbox + self.messages_path, params={"to": self.phone}
            )
        response.raise_for_status()
        return [m["body"] for m in response.json()["messages"]]

    async def wait_for(self, count: int, within: float = 20.0) -> list[str]:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            bodies = await self.received()
            if len(bodies) >= count:
                return bodies
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"expected {count} replies, got {len(bodies)}: {bodies}\n{self.stack.logs()}"
                )
            await asyncio.sleep(0.05)

    async def say(self, body: str) -> str:
        """Send and return the one reply it causes."""
        before = len(await self.received())
        response = await self.send(body)
        assert response.status_code == 200, response.text
        return (await self.wait_for(before + 1))[before]

    async def settled(self, seconds: float = 1.5) -> list[str]:
        """Replies after waiting long enough for any extra (duplicate) one to show up."""
        await asyncio.sleep(seconds)
        return await self.received()

    async def said(self, body: str, replies: int) -> list[str]:
        """Send and return the ``replies`` replies it causes (for turns that send several)."""
        before = len(await self.received())
        response = await self.send(body)
        assert response.status_code == 200, response.text
        return (await self.wait_for(before + replies))[before : before + replies]

    async def next_message(self, within: float = 20.0) -> str:
        """Wait for the next message that arrives without this number writing first."""
        before = len(await self.received())
        return (await self.wait_for(before + 1, within))[before]


class Tutor(Student):
    """A tutor's phone: registered through the admin API, then working on WhatsApp."""

    profile_name = "Test Tutor"


class Agent(Student):
    """A support agent's phone: registered through the admin API, then chatting on WhatsApp."""

    profile_name = "Test Agent"


class Admin:
    """The conversation service's admin API, with the development token."""

    def __init__(self, stack: Stack, token: str = sandbox_defaults.ADMIN_API_TOKEN) -> None:
        self.base = stack.urls["conversation"]
        self.headers = {"Authorization": f"Bearer {token}", "X-Admin-Actor": "e2e"}

    async def request(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.base, headers=self.headers, timeout=10) as c:
            response = await c.request(method, path, **kwargs)  # type: ignore[arg-type]
        response.raise_for_status()
        return response


class CloudApiStudent(Student):
    """A phone number writing to the desk through signed Cloud API webhooks; its replies
    are read where the sandbox's Cloud API took them, as text (buttons and list rows as
    numbered lines)."""

    messages_path = "/sandbox/cloud-api/messages"
    webhook_path = "/api/webhook/whatsapp"

    def cloud_webhook(
        self, body: str, sid: str | None = None, image: dict[str, str] | None = None
    ) -> bytes:
        digits = self.phone.removeprefix("+")
        message: dict[str, object] = {
            "from": digits,
            "id": sid or "wamid." + uuid.uuid4().hex,
            "timestamp": str(int(time.time())),
        }
        if image is not None:
            message.update(type="image", image=image)
        else:
            message.update(type="text", text={"body": body})
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": sandbox_defaults.WHATSAPP_DISPLAY_NUMBER.removeprefix("+"),
                "phone_number_id": sandbox_defaults.WHATSAPP_PHONE_NUMBER_ID,
            },
            "contacts": [{"profile": {"name": self.profile_name}, "wa_id": digits}],
            "messages": [message],
        }
        payload = {
            "object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"value": value, "field": "messages"}]}],
        }
        return json.dumps(payload).encode()

    @staticmethod
    def signed(raw: bytes) -> dict[str, str]:
        secret = sandbox_defaults.WHATSAPP_APP_SECRET.encode()
        digest = hmac.new(secret, raw, hashlib.sha256).hexdigest()
        return {"X-Hub-Signature-256": "sha256=" + digest, "Content-Type": "application/json"}

    async def send(self, body: str, sid: str | None = None) -> httpx.Response:
        raw = self.cloud_webhook(body, sid)
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(
                self.stack.gateway + self.webhook_path, content=raw, headers=self.signed(raw)
            )

    async def send_photo(self, name: str, caption: str = "") -> httpx.Response:
        """Send one of the sandbox's sample files as a photo held by the Cloud API: the
        webhook carries its media id, which the gateway looks up and downloads."""
        image = {"id": cloud_media_id(name), "mime_type": "image/jpeg"}
        if caption:
            image["caption"] = caption
        raw = self.cloud_webhook(caption, image=image)
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(
                self.stack.gateway + self.webhook_path, content=raw, headers=self.signed(raw)
            )

    async def send_tampered(self, body: str) -> httpx.Response:
        raw = self.cloud_webhook(body)
        tampered = raw.replace(json.dumps(body).encode(), b'"tampered"')
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.post(
                self.stack.gateway + self.webhook_path, content=tampered, headers=self.signed(raw)
            )


class CloudApiTutor(CloudApiStudent):
    """A tutor's phone on the Cloud API."""

    profile_name = "Test Tutor"


class CloudApiAgent(CloudApiStudent):
    """A support agent's phone on the Cloud API."""

    profile_name = "Test Agent"


STUDENTS: dict[str, type[Student]] = {"twilio": Student, "cloud_api": CloudApiStudent}
TUTORS: dict[str, type[Student]] = {"twilio": Tutor, "cloud_api": CloudApiTutor}
AGENTS: dict[str, type[Student]] = {"twilio": Agent, "cloud_api": CloudApiAgent}


def base_env(ports: dict[str, int]) -> dict[str, str]:
    return _base_env(ports)


def start_stack(
    env: dict[str, str],
    log_dir: Path,
    *,
    replicas: dict[str, int] | None = None,
    ports: dict[str, int] | None = None,
) -> Stack:
    """Start the sandbox and every service as processes, ``replicas[name]`` of a service
    (named ``conversation-1``, ``conversation-2`` ...), and wait until all are healthy.

    ``env`` carries RABBITMQ_URL and DATABASE_URL; ``ports`` the gateway's and sandbox's
    (free ones when not given), since PUBLIC_BASE_URL and SANDBOX_URL in ``env`` name them.
    On a machine shared with other test runs a chosen port can be taken before our process
    binds it; then that process dies, and the other ports are tried once more.
    """
    from shared.testing import free_port

    attempts = 3
    for _ in range(attempts):
        stack = _start_stack_once(env, log_dir, replicas or {}, ports or {})
        if stack is not None:
            return stack
        # The gateway's or sandbox's port may have been the one taken: new ones for both.
        ports = {"gateway": free_port(), "sandbox": free_port()}
        addresses = _base_env(ports)
        env = env | {k: addresses[k] for k in ("PUBLIC_BASE_URL", "SANDBOX_URL", "GATEWAY_URL")}
    raise RuntimeError(f"could not start the stack in {attempts} attempts: ports kept clashing")


def _start_stack_once(
    env: dict[str, str], log_dir: Path, replicas: dict[str, int], fixed: dict[str, int]
) -> Stack | None:
    from shared.testing import free_port

    log_dir.mkdir(parents=True, exist_ok=True)
    counts = {name: 1 for name in SERVICES} | replicas
    names: list[tuple[str, str]] = [("sandbox", "sandbox")]
    for service in SERVICES:
        count = counts[service]
        names += [(service if count == 1 else f"{service}-{i + 1}", service) for i in range(count)]
    stack = Stack({})
    for name, module in names:
        port = fixed.get(name) or free_port()
        stack.urls[name] = f"http://127.0.0.1:{port}"
        process = Process(name, module, {**env, "PORT": str(port)}, log_dir)
        stack.processes[name] = process
        process.start()
    try:
        for name, process in stack.processes.items():
            wait_healthy(stack.urls[name], process, timeout=90)
        # A port another process held answers /health too: make sure each is ours.
        for name, process in stack.processes.items():
            module = process.module
            body = httpx.get(stack.urls[name] + "/health", timeout=10).json()
            alive = process.popen is not None and process.popen.poll() is None
            if not alive or (module != "sandbox" and body.get("service") != module):
                stop_stack(stack)
                return None
    except BaseException:
        stop_stack(stack)
        raise
    return stack


def stop_stack(stack: Stack) -> None:
    for process in stack.processes.values():
        if process.popen is not None and process.popen.poll() is None:
            process.popen.send_signal(signal.SIGTERM)
    for process in stack.processes.values():
        process.stop()
