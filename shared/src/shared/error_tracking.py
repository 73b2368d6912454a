"""Error reports to Sentry when SENTRY_DSN is set, with phone numbers and secrets scrubbed.

Without a DSN nothing is initialised and nothing leaves the process. With one, every
event and breadcrumb passes through :func:`scrub_event` first: phone numbers are masked as
in the logs, values under secret-looking keys and passwords inside URLs are replaced, and
request bodies and cookies (message text, provider payloads) are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sentry_sdk
from sentry_sdk.transport import Transport

from shared.logging import mask_phone

REDACTED = "[redacted]"
# Keys whose values are never sent, whatever they hold (matched as substrings, any case).
_SECRET_KEYS = (
    "token",
    "secret",
    "password",
    "passwd",
    "authorization",
    "signature",
    "api_key",
    "apikey",
    "cookie",
    "dsn",
    "credential",
    "session",
    "body",
)
# user:password@ inside a URL (amqp://, postgresql://, https://).
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][\w+.-]*://[^:/@\s]+:)[^@\s/]+@")
# Bearer / Basic values that show up in messages or header dumps.
_AUTH_VALUE = re.compile(r"\b(Bearer|Basic)\s+[\w.~+/=-]+", re.IGNORECASE)


def scrub_text(text: str) -> str:
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{REDACTED}@", text)
    text = _AUTH_VALUE.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return mask_phone(text)


def _scrub(value: Any, key: str = "") -> Any:
    if key and any(part in key.lower() for part in _SECRET_KEYS):
        return REDACTED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {k: _scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        # Sentry sends headers as [name, value] pairs in places: judge the value by the name.
        if len(value) == 2 and isinstance(value[0], str) and not isinstance(value[1], Mapping):
            return [value[0], _scrub(value[1], value[0])]
        return [_scrub(item, key) for item in value]
    return value


def scrub_event(event: dict[str, Any], hint: object = None) -> dict[str, Any]:
    """Sentry's before_send: the event with nothing that identifies a student or a secret."""
    request = event.get("request")
    if isinstance(request, dict):
        for private in ("data", "cookies", "query_string", "env"):
            request.pop(private, None)
    scrubbed: dict[str, Any] = _scrub(event)
    return scrubbed


def scrub_breadcrumb(crumb: dict[str, Any], hint: object = None) -> dict[str, Any]:
    scrubbed: dict[str, Any] = _scrub(crumb)
    return scrubbed


def init_error_tracking(
    service: str,
    dsn: str | None,
    *,
    environment: str = "development",
    release: str | None = None,
    transport: type[Transport] | Transport | None = None,
) -> bool:
    """Start reporting errors to ``dsn``; returns whether it did (no DSN: nothing at all)."""
    if not dsn:
        return False
    options: dict[str, Any] = {}
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=None,
        before_send=scrub_event,  # type: ignore[arg-type]
        before_breadcrumb=scrub_breadcrumb,
        **options,
    )
    sentry_sdk.set_tag("service", service)
    return True
