"""What every HTTP side shares: body and time limits, security headers, closed CORS,
/health, /metrics, admin auth."""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DataError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import metrics, sandbox_defaults
from shared.health import Health
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
# Pages: only the API docs (Swagger UI and ReDoc, from their CDN, with an inline start-up
# script) are HTML; a page that needs less sets its own, stricter policy.
PAGE_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    b"font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https:; "
    b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# Everything else is data: nothing in it may load or run anything, or be framed.
DATA_CSP = b"default-src 'none'; frame-ancestors 'none'"


class BodyTooLargeError(Exception):
    pass


class BodySizeLimit:
    """Answers 413 to a body over the limit, whether or not it declared its length."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLargeError:
            if not started:
                await _too_large(send)


async def _too_large(send: Send) -> None:
    body = b'{"detail":"request body is larger than the 1 MiB limit"}'
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), *SECURITY_HEADERS],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Adds the security headers to every response, and a Content-Security-Policy fitting
    its content type, unless the response set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower(): value for name, value in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                if b"content-security-policy" not in present:
                    html = present.get(b"content-type", b"").startswith(b"text/html")
                    headers.append((b"content-security-policy", PAGE_CSP if html else DATA_CSP))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class RejectNulCharacters:
    """400 for a NUL character in the path or query: PostgreSQL cannot store or compare
    one in text, so it would otherwise surface as a 500 from the first query using it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"").lower()
        ):
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send(
                {
                    "type": "http.response.body",
                    "body": b'{"detail":"NUL characters are not accepted in a URL"}',
                }
            )
            return
        await self.app(scope, receive, send)


class RequestTimeout:
    """Bounds the time a request may take: 504 if no answer has started by then."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, receive, tracking_send), self.seconds)
        except TimeoutError:
            log.error("http.request_timed_out", extra={"path": scope.get("path", "")})
            if not started:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 504,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send(
                    {
                        "type": "http.response.body",
                        "body": b'{"detail":"the request took too long and was stopped"}',
                    }
                )


def create_service_app(settings: ServiceSettings, health: Health, **fastapi_args: Any) -> FastAPI:
    app = FastAPI(title=f"tutordesk {settings.service_name}", **fastapi_args)

    @app.get("/health", tags=["operations"], summary="Each dependency and whether it answers")
    async def get_health() -> JSONResponse:
        healthy, body = await health.report()
        return JSONResponse(body, status_code=200 if healthy else 503)

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", include_in_schema=False)
    async def get_metrics() -> Response:
        payload, content_type = metrics.render_latest()
        return Response(payload, media_type=content_type)

    @app.exception_handler(DataError)
    async def refused_by_the_database(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value the request carried (a NUL character in text, a
        # number past its column's range): the client's input, so a 400, not a 500.
        log.warning(
            "request.value_refused_by_database",
            extra={"path": request.url.path, "error_type": type(exc.orig).__name__},
        )
        return JSONResponse(
            {"detail": "a value in the request cannot be stored (NUL character or out of range)"},
            status_code=400,
        )

    origins = settings.cors_origins()
    if origins:
        # Closed unless configured: without this no browser page elsewhere may call us.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(RequestTimeout, seconds=settings.request_timeout_seconds)
    app.add_middleware(RejectNulCharacters)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app


_bearer = HTTPBearer(auto_error=False)


def admin_token(settings: ServiceSettings) -> str:
    if settings.admin_api_token is not None:
        return settings.admin_api_token.get_secret_value()
    return sandbox_defaults.ADMIN_API_TOKEN


def require_admin(settings: ServiceSettings) -> Any:
    """A dependency that lets a request through only with the admin bearer token."""
    expected = admin_token(settings).encode()

    async def check(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        request: Request,
    ) -> None:
        given = credentials.credentials.encode() if credentials else b""
        if not credentials or not hmac.compare_digest(given, expected):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "a valid admin bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return Depends(check)
