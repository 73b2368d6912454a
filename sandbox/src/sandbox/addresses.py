"""Phone numbers as the sandbox files them: E.164 with a plus, whatever way they arrive."""

from __future__ import annotations


def bare_number(address: str) -> str:
    """'whatsapp:+234800...', '+234800...', '234800...' -> '+234800...'.

    A '+' in an unencoded query string arrives as a space, hence the strip."""
    number = address.strip().removeprefix("whatsapp:").strip().replace(" ", "")
    return number if number.startswith("+") else "+" + number


def whatsapp_address(number: str) -> str:
    """'+234800...' (or any form bare_number takes) -> 'whatsapp:+234800...'."""
    return "whatsapp:" + bare_number(number)
