"""Channel-neutral replies -> what a channel can show. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.events import Option

TWILIO_MAX_BODY = 1600


def numbered_options(options: Sequence[Option]) -> str:
    lines = []
    for index, option in enumerate(options, start=1):
        line = f"{index}. {option.title}"
        if option.description:
            line += f" — {option.description}"
        lines.append(line)
    return "\n".join(lines)


def render_text(text: str, options: Sequence[Option]) -> str:
    """Text, then the options as numbered lines to answer by number."""
    if not options:
        return text
    return f"{text}\n\n{numbered_options(options)}" if text else numbered_options(options)


def split_body(body: str, limit: int = TWILIO_MAX_BODY) -> list[str]:
    """Split at paragraph, then line, then word boundaries so that each part fits."""
    if len(body) <= limit:
        return [body]
    parts: list[str] = []
    rest = body
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), -1)
        if cut < limit // 2:
            cut = window.rfind("\n")
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def render_for_twilio(text: str, options: Sequence[Option]) -> list[str]:
    return split_body(render_text(text, options), TWILIO_MAX_BODY)


# --- the Cloud API -------------------------------------------------------------------

CLOUD_TEXT_MAX = 4096
CLOUD_INTERACTIVE_BODY_MAX = 1024
CLOUD_BUTTON_TITLE_MAX = 20
CLOUD_ROW_TITLE_MAX = 24
CLOUD_ROW_DESCRIPTION_MAX = 72
CLOUD_LIST_BUTTON_MAX = 20
CLOUD_SECTION_TITLE_MAX = 24
CLOUD_HEADER_MAX = 60
CLOUD_CAPTION_MAX = 1024
CLOUD_MAX_BUTTONS = 3
CLOUD_MAX_ROWS = 10
LIST_BUTTON_LABEL = "Choose"
EMPTY_BODY = "Please choose:"


def clip(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters: whole if it fits, else cut at a word boundary
    (when one is near) and marked with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    window = text[: limit - 1]
    cut = window.rfind(" ")
    if cut >= limit // 2:
        window = window[:cut]
    return window.rstrip(" ,;:.-—") + "…"


def _interactive_body(text: str) -> tuple[list[str], str]:
    """Text parts that go first as plain messages, and the interactive body (the end of
    the text, which sits right above the buttons)."""
    if len(text) <= CLOUD_INTERACTIVE_BODY_MAX:
        return [], text or EMPTY_BODY
    parts = split_body(text, CLOUD_INTERACTIVE_BODY_MAX)
    leading = split_body("\n\n".join(parts[:-1]), CLOUD_TEXT_MAX)
    return leading, parts[-1]


def _text_message(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"preview_url": False, "body": body}}


def _unique_ids(options: Sequence[Option]) -> list[str]:
    seen: set[str] = set()
    ids = []
    for index, option in enumerate(options):
        candidate = option.id[:200] or str(index + 1)
        if candidate in seen:
            candidate = f"{candidate[:190]}#{index + 1}"
        seen.add(candidate)
        ids.append(candidate)
    return ids


def render_for_cloud_api(text: str, options: Sequence[Option]) -> list[dict[str, Any]]:
    """Message objects for the Cloud API (``type`` and its object; the sender adds
    ``to``). Up to 3 options without descriptions: reply buttons; up to 10: a list;
    more: numbered text. Every title, description and body is trimmed to WhatsApp's
    limits rather than being refused."""
    if not options or len(options) > CLOUD_MAX_ROWS:
        return [_text_message(p) for p in split_body(render_text(text, options), CLOUD_TEXT_MAX)]
    leading, body = _interactive_body(text)
    ids = _unique_ids(options)
    if len(options) <= CLOUD_MAX_BUTTONS and not any(o.description for o in options):
        action: dict[str, Any] = {
            "buttons": [
                {
                    "type": "reply",
                    "reply": {"id": i, "title": clip(o.title, CLOUD_BUTTON_TITLE_MAX)},
                }
                for i, o in zip(ids, options, strict=True)
            ]
        }
        kind = "button"
    else:
        rows = []
        for option_id, option in zip(ids, options, strict=True):
            row = {"id": option_id, "title": clip(option.title, CLOUD_ROW_TITLE_MAX)}
            if option.description:
                row["description"] = clip(option.description, CLOUD_ROW_DESCRIPTION_MAX)
            rows.append(row)
        action = {"button": LIST_BUTTON_LABEL, "sections": [{"rows": rows}]}
        kind = "list"
    interactive = {"type": kind, "body": {"text": body}, "action": action}
    return [
        *(_text_message(p) for p in leading),
        {"type": "interactive", "interactive": interactive},
    ]


def readable(message: dict[str, Any]) -> str:
    """What a Cloud API message object says, as text, for the admin API and logs."""
    kind = message.get("type")
    if kind == "text":
        return str(message["text"]["body"])
    if kind == "interactive":
        interactive = message["interactive"]
        action = interactive["action"]
        if interactive["type"] == "button":
            titles = [b["reply"]["title"] for b in action["buttons"]]
        else:
            titles = [
                r["title"] + (f" — {r['description']}" if r.get("description") else "")
                for s in action["sections"]
                for r in s["rows"]
            ]
        lines = "\n".join(f"{i}. {t}" for i, t in enumerate(titles, start=1))
        return f"{interactive['body']['text']}\n\n{lines}"
    if kind == "template":
        params = [
            p.get("text", "")
            for c in message["template"].get("components", [])
            for p in c.get("parameters", [])
        ]
        return f"[template {message['template']['name']}] " + " | ".join(params)
    if kind == "image":
        return str(message["image"].get("caption") or "[image]")
    return f"[{kind}]"
