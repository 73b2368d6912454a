"""The shapes of Meta's Cloud API, with no I/O: a send request checked against
WhatsApp's limits, its error JSON, the webhooks Meta posts (messages and statuses) and
their X-Hub-Signature-256."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi.responses import JSONResponse

# WhatsApp's limits on what a business sends.
TEXT_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
HEADER_MAX = 60
FOOTER_MAX = 60
BUTTON_TITLE_MAX = 20
MAX_BUTTONS = 3
LIST_BUTTON_MAX = 20
SECTION_TITLE_MAX = 24
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
MAX_ROWS = 10
CAPTION_MAX = 1024

# Error codes as Meta sends them.
INVALID_PARAMETER = 100
ACCESS_TOKEN = 190
RATE_LIMIT = 130429
GENERIC_USER_ERROR = 131000
PARAMETER_NOT_VALID = 131009
UNDELIVERABLE = 131026
NOT_IN_ALLOWED_LIST = 131030
REENGAGEMENT = 131047
SERVICE_UNAVAILABLE = 131016

_TITLES = {
    INVALID_PARAMETER: "Invalid parameter",
    ACCESS_TOKEN: "Invalid OAuth access token",
    RATE_LIMIT: "Rate limit hit",
    GENERIC_USER_ERROR: "Something went wrong",
    PARAMETER_NOT_VALID: "Parameter value is not valid",
    UNDELIVERABLE: "Message undeliverable",
    NOT_IN_ALLOWED_LIST: "Recipient phone number not in allowed list",
    REENGAGEMENT: "Re-engagement message",
    SERVICE_UNAVAILABLE: "Service unavailable",
}
# Test numbers: a recipient whose digits end so is refused (synchronously) or fails
# after being accepted (a failed status webhook), as real numbers do.
REFUSED_SUFFIX = {str(NOT_IN_ALLOWED_LIST): NOT_IN_ALLOWED_LIST}
FAILS_LATER_SUFFIX = {str(UNDELIVERABLE): UNDELIVERABLE, str(REENGAGEMENT): REENGAGEMENT}


class CloudApiError(Exception):
    def __init__(self, status: int, code: int, details: str = "") -> None:
        super().__init__(details or _TITLES.get(code, "Error"))
        self.status = status
        self.code = code
        self.details = details

    def as_json(self) -> dict[str, Any]:
        title = _TITLES.get(self.code, "Error")
        return {
            "error": {
                "message": f"(#{self.code}) {title}",
                "type": "OAuthException",
                "code": self.code,
                "error_data": {"messaging_product": "whatsapp", "details": self.details or title},
                "fbtrace_id": "A" + secrets.token_hex(10),
            }
        }

    def response(self) -> JSONResponse:
        return JSONResponse(self.as_json(), status_code=self.status)


def error_for_status(status: int, code: int | None = None) -> CloudApiError:
    """What an injected fault of HTTP ``status`` answers with."""
    if code is None:
        code = {429: RATE_LIMIT, 401: ACCESS_TOKEN, 400: PARAMETER_NOT_VALID}.get(
            status, SERVICE_UNAVAILABLE if status >= 500 else GENERIC_USER_ERROR
        )
    return CloudApiError(status, code)


def new_wamid() -> str:
    return "wamid." + secrets.token_hex(24)


def _check(condition: bool, details: str) -> None:
    if not condition:
        raise CloudApiError(400, PARAMETER_NOT_VALID, details)


def _text(holder: Any, name: str, limit: int, *, required: bool = True) -> str:
    value = holder.get(name) if isinstance(holder, Mapping) else None
    if value is None and not required:
        return ""
    _check(isinstance(value, str) and (value != "" or not required), f"{name} is required")
    _check(len(value) <= limit, f"{name} is longer than {limit} characters")
    return str(value)


def check_send(request: Mapping[str, Any]) -> tuple[str, str]:
    """Check a send as Meta does; ``(recipient digits, readable text)`` or CloudApiError."""
    if request.get("messaging_product") != "whatsapp":
        raise CloudApiError(400, INVALID_PARAMETER, "messaging_product must be whatsapp")
    to = str(request.get("to", "")).removeprefix("+")
    if not to.isdigit() or not 8 <= len(to) <= 15:
        raise CloudApiError(400, INVALID_PARAMETER, "to is not a phone number")
    kind = request.get("type", "text")
    body = request.get(kind)
    _check(isinstance(body, Mapping), f"{kind} object is required")
    if kind == "text":
        return to, _text(body, "body", TEXT_MAX)
    if kind == "image":
        _check(bool(body.get("link") or body.get("id")), "image needs a link or an id")
        caption = _text(body, "caption", CAPTION_MAX, required=False)
        return to, (caption + "\n" if caption else "") + "[image]"
    if kind == "template":
        name = _text(body, "name", 512)
        _check(isinstance(body.get("language"), Mapping), "template language is required")
        values = [
            str(p.get("text", ""))
            for c in body.get("components") or []
            for p in c.get("parameters") or []
        ]
        return to, f"[template {name}] " + " | ".join(values)
    if kind == "interactive":
        return to, _check_interactive(body)
    raise CloudApiError(400, INVALID_PARAMETER, f"unsupported type {str(kind)[:20]}")


def _check_interactive(body: Mapping[str, Any]) -> str:
    header = body.get("header")
    if header is not None:
        _text(header, "text", HEADER_MAX)
    text = _text(body.get("body"), "text", INTERACTIVE_BODY_MAX)
    if body.get("footer") is not None:
        _text(body["footer"], "text", FOOTER_MAX)
    action = body.get("action")
    _check(isinstance(action, Mapping), "action is required")
    lines: list[str] = []
    if body.get("type") == "button":
        buttons = action.get("buttons") or []
        _check(1 <= len(buttons) <= MAX_BUTTONS, "1 to 3 buttons")
        ids = set()
        for index, button in enumerate(buttons, start=1):
            reply = button.get("reply") or {}
            ids.add(_text(reply, "id", 256))
            lines.append(f"{index}. {_text(reply, 'title', BUTTON_TITLE_MAX)}")
        _check(len(ids) == len(buttons), "button ids must be unique")
    elif body.get("type") == "list":
        _text(action, "button", LIST_BUTTON_MAX)
        sections = action.get("sections") or []
        _check(1 <= len(sections) <= 10, "1 to 10 sections")
        rows = [row for section in sections for row in section.get("rows") or []]
        _check(1 <= len(rows) <= MAX_ROWS, "1 to 10 rows in all")
        for section in sections:
            if len(sections) > 1 or section.get("title") is not None:
                _text(section, "title", SECTION_TITLE_MAX)
        for index, row in enumerate(rows, start=1):
            _text(row, "id", 200)
            line = f"{index}. {_text(row, 'title', ROW_TITLE_MAX)}"
            description = _text(row, "description", ROW_DESCRIPTION_MAX, required=False)
            lines.append(line + (f" — {description}" if description else ""))
    else:
        raise CloudApiError(400, INVALID_PARAMETER, "interactive type must be button or list")
    return text + "\n\n" + "\n".join(lines)


def signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def webhook(
    phone_number_id: str,
    display_number: str,
    *,
    messages: Sequence[Mapping[str, Any]] = (),
    statuses: Sequence[Mapping[str, Any]] = (),
    contacts: Sequence[Mapping[str, Any]] = (),
) -> bytes:
    """One ``whatsapp_business_account`` webhook body, as Meta posts it."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": display_number.removeprefix("+"),
            "phone_number_id": phone_number_id,
        },
    }
    if contacts:
        value["contacts"] = list(contacts)
    if messages:
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "sandbox-waba", "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(payload).encode()


def status_object(
    wamid: str, status: str, recipient: str, error_code: int | None = None
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": recipient.removeprefix("+"),
    }
    if status in ("sent", "delivered"):
        report["conversation"] = {"id": "sandbox-conv", "origin": {"type": "service"}}
        report["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "service"}
    if error_code is not None:
        title = _TITLES.get(error_code, "Error")
        report["errors"] = [
            {
                "code": error_code,
                "title": title,
                "message": title,
                "error_data": {"details": title},
            }
        ]
    return report
