"""JSON log lines carrying the service, the trace id and masked phone numbers."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

trace_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace_id", default=None)

# Digits joined to others by a hyphen are part of something else: a UUID's group (one
# in forty message ids starts with eight digits), a date, a reference.
_PHONE = re.compile(r"(?<![\w-])(?:whatsapp:)?\+?\d{7,15}(?![\w-])")
_SECRET_KEYS = ("token", "secret", "password", "authorization", "signature", "api_key")
_RESERVED = frozenset(vars(logging.makeLogRecord({})).keys()) | {
    "message",
    "asctime",
    "color_message",
}


def mask_phone(text: str) -> str:
    """Keep the last three digits of every phone-like number: enough to tell users apart."""

    def _mask(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return "+" + "*" * (len(digits) - 3) + digits[-3:]

    return _PHONE.sub(_mask, text)


def _scrub(key: str, value: Any) -> Any:
    if any(part in key.lower() for part in _SECRET_KEYS):
        return "[redacted]"
    if isinstance(value, str):
        return mask_phone(value)
    if isinstance(value, dict):
        return {k: _scrub(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(key, v) for v in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return mask_phone(str(value))


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "event": mask_phone(record.getMessage()),
        }
        trace_id = trace_id_var.get()
        if trace_id:
            line["trace_id"] = trace_id
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                line[key] = _scrub(key, value)
        if record.exc_info:
            line["error"] = mask_phone(self.formatException(record.exc_info))
        return json.dumps(line, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Access logs would repeat every webhook with its query string; our own lines suffice.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    for noisy in ("aiormq", "aio_pika", "httpx", "twilio", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
