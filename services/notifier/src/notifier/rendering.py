"""Channel-neutral replies -> what a channel can show. Pure."""

from __future__ import annotations

from collections.abc import Sequence

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
