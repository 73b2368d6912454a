"""Every service's HTTP side: security headers and CSP, CORS closed unless configured,
constant-time token checks, bounded bodies and handler time, pool and prefetch settings."""

from __future__ import annotations

import asyncio
import inspect

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from conversation.service import ConversationService
from conversation.settings import ConversationSettings
from gateway.app import create_app as create_gateway_app
from gateway.settings import GatewaySettings
from shared import http as shared_http
from shared.health import Health
from shared.http import create_service_app, require_admin
from shared.messaging.memory import InMemoryBroker
from shared.settings import ServiceSettings
from shared.testing import running_app


class DemoSettings(ServiceSettings):
    pass


def demo_app(**settings: object) -> FastAPI:
    config = DemoSettings(**settings)  # type: ignore[arg-type]
    app = create_service_app(config, Health("demo"))

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(5)
        return {"done": "late"}

    @app.get("/page", response_class=HTMLResponse)
    async def page() -> str:
        return "<html><body>hello</body></html>"

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.get("/admin", dependencies=[require_admin(config)])
    async def admin() -> dict[str, bool]:
        return {"ok": True}

    return app


async def test_every_response_carries_the_security_headers_and_a_data_csp() -> None:
    async with running_app(demo_app()) as url, httpx.AsyncClient() as client:
        for path in ("/health", "/metrics", "/openapi.json", "/nowhere"):
            response = await client.get(url + path)
            assert response.headers["x-content-type-options"] == "nosniff", path
            assert response.headers["x-frame-options"] == "DENY", path
            assert response.headers["referrer-policy"] == "no-referrer", path
            assert response.headers["content-security-policy"].startswith("default-src 'none'")


async def test_pages_get_a_content_security_policy_that_forbids_framing_and_foreign_code() -> None:
    async with running_app(demo_app()) as url, httpx.AsyncClient() as client:
        for path in ("/page", "/docs"):
            response = await client.get(url + path)
            assert response.headers["content-type"].startswith("text/html")
            policy = response.headers["content-security-policy"]
            assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
            assert "base-uri 'none'" in policy


async def test_a_real_service_sends_the_headers_too() -> None:
    app = create_gateway_app(GatewaySettings(), InMemoryBroker())
    async with running_app(app) as url, httpx.AsyncClient() as client:
        response = await client.post(url + "/api/v1/whatsapp/webhook", data={"Body": "x"})
    assert response.status_code == 401
    assert response.headers["x-frame-options"] == "DENY"
    assert "content-security-policy" in response.headers


async def test_cors_is_closed_unless_an_origin_is_configured() -> None:
    preflight = {
        "Origin": "https://evil.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    async with running_app(demo_app()) as url, httpx.AsyncClient() as client:
        closed = await client.options(url + "/admin", headers=preflight)
        simple = await client.get(url + "/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in closed.headers
    assert "access-control-allow-origin" not in simple.headers

    app = demo_app(cors_allow_origins="https://desk.example")
    async with running_app(app) as url, httpx.AsyncClient() as client:
        allowed = await client.options(
            url + "/admin", headers={**preflight, "Origin": "https://desk.example"}
        )
        other = await client.options(url + "/admin", headers=preflight)
    assert allowed.headers["access-control-allow-origin"] == "https://desk.example"
    assert "access-control-allow-origin" not in other.headers


async def test_a_handler_running_past_the_limit_is_answered_504() -> None:
    app = demo_app(request_timeout_seconds=0.3)
    async with running_app(app) as url, httpx.AsyncClient(timeout=10) as client:
        started = asyncio.get_running_loop().time()
        response = await client.get(url + "/slow")
        took = asyncio.get_running_loop().time() - started
    assert response.status_code == 504
    assert response.json() == {"detail": "the request took too long and was stopped"}
    assert took < 3
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_default_limits_are_thirty_seconds_and_one_mebibyte() -> None:
    settings = DemoSettings()
    assert settings.request_timeout_seconds == 30.0
    assert settings.max_body_bytes == 1024 * 1024


@pytest.mark.parametrize("declared", [True, False])
async def test_a_body_over_the_limit_is_refused_413_declared_or_streamed(declared: bool) -> None:
    big = b"a=" + b"x" * (1024 * 1024 + 10)

    async def chunks():  # type: ignore[no-untyped-def]
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    async with running_app(demo_app()) as url, httpx.AsyncClient(timeout=20) as client:
        response = await client.post(
            url + "/echo",
            content=big if declared else chunks(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 413
    assert "1 MiB" in response.json()["detail"]


async def test_admin_token_is_compared_in_constant_time_and_checked() -> None:
    source = inspect.getsource(shared_http.require_admin)
    assert "hmac.compare_digest" in source
    app = demo_app(admin_api_token="s3cret-token")
    async with running_app(app) as url, httpx.AsyncClient() as client:
        wrong = await client.get(url + "/admin", headers={"Authorization": "Bearer s3cret-tokem"})
        prefix = await client.get(url + "/admin", headers={"Authorization": "Bearer s3cret"})
        right = await client.get(url + "/admin", headers={"Authorization": "Bearer s3cret-token"})
    assert (wrong.status_code, prefix.status_code, right.status_code) == (401, 401, 200)


def test_twilio_signatures_are_checked_with_a_constant_time_compare() -> None:
    from twilio import request_validator

    source = inspect.getsource(request_validator.RequestValidator.validate)
    assert "compare(" in source
    compare = inspect.getsource(request_validator.compare)
    # Every character is compared, with no early exit at the first mismatch.
    assert "result &=" in compare and "return False" not in compare.split("for ")[1]


async def test_database_pool_and_broker_prefetch_come_from_settings(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DB_POOL_SIZE", "3")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "2")
    monkeypatch.setenv("BROKER_PREFETCH", "7")
    settings = ConversationSettings()
    service = ConversationService(settings, InMemoryBroker())
    try:
        pool = service.engine.sync_engine.pool
        assert pool.size() == 3  # type: ignore[attr-defined]
        assert pool._max_overflow == 2  # type: ignore[attr-defined]
        [consumer] = service.consumers
        assert consumer.spec.prefetch == 7
    finally:
        await service.engine.dispose()


async def test_a_nul_character_in_the_path_or_query_is_refused_400() -> None:
    async with running_app(demo_app()) as url, httpx.AsyncClient() as client:
        in_query = await client.get(url + "/health?phone=%2B234%00")
        in_path = await client.get(url + "/admin%00x")
    assert (in_query.status_code, in_path.status_code) == (400, 400)
    assert in_query.json() == {"detail": "NUL characters are not accepted in a URL"}
    assert in_query.headers["x-content-type-options"] == "nosniff"
