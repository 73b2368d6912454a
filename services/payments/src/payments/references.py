"""Payment references and the placeholder email Paystack gets when a student gave none."""

from __future__ import annotations

import re
import secrets

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_payment_reference() -> str:
    """Unique enough to never repeat (32^12), and safe in a URL and in Paystack."""
    return "PAY-" + "".join(secrets.choice(_ALPHABET) for _ in range(12))


def placeholder_email(phone_number: str, domain: str) -> str:
    """Stable for one number: '+2348000000001' -> '2348000000001@<domain>'."""
    digits = re.sub(r"\D", "", phone_number)
    return f"{digits}@{domain}"
